// api/src/health.cpp — readiness checks.
#include "vigy/api/health.hpp"

#include <stdexcept>

namespace vigy::api {

void health_checks::add(std::string name, readiness_check check) {
    if (name.empty()) throw std::invalid_argument("readiness check needs a name");
    if (!check) throw std::invalid_argument("readiness check " + name + " is empty");
    std::lock_guard lock(mu_);
    for (const auto& c : checks_)
        if (c.first == name) throw std::invalid_argument("readiness check " + name + " is already registered");
    checks_.emplace_back(std::move(name), std::move(check));
}

std::vector<health_checks::result> health_checks::run() const {
    std::vector<std::pair<std::string, readiness_check>> checks;
    {
        std::lock_guard lock(mu_);
        checks = checks_;
    }
    std::vector<result> out;
    out.reserve(checks.size());
    for (const auto& [name, check] : checks) {
        result r;
        r.name = name;
        try {
            if (auto reason = check()) {
                r.ok = false;
                r.reason = reason->empty() ? "failed" : std::move(*reason);
            }
        } catch (const std::exception& e) {
            r.ok = false;
            r.reason = e.what();
        } catch (...) {
            r.ok = false;
            r.reason = "check threw a non-standard exception";
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<std::string> health_checks::names() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& c : checks_) out.push_back(c.first);
    return out;
}

}  // namespace vigy::api
