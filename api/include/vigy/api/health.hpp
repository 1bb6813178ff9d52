/// vigy/api/health.hpp — readiness checks behind GET /readyz.
///
/// GET /livez is built in (answered on the event loop: it proves the loop
/// turns). GET /readyz runs every registered check on a worker thread and
/// answers 200 {"status":"ready","checks":[...]} when all pass, or 503
/// unavailable (problem+json) whose detail lists what failed and whose
/// `checks` member gives each check's status and reason. The embedding
/// application (or `vigy serve`) registers the checks: the store answers, the
/// scheduler lease is held, the writer queue is not saturated, a reconciler
/// kind is loaded.
///
/// Threading: add() and run() are thread-safe. A check may block briefly (it
/// runs on a worker); it must bound its own time (e.g. a 1 s store ping).
#ifndef VIGY_API_HEALTH_HPP
#define VIGY_API_HEALTH_HPP

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vigy::api {

/// A readiness check: nullopt when ready, else the reason ("store: database is locked").
using readiness_check = std::function<std::optional<std::string>()>;

/// The registered readiness checks.
class health_checks {
public:
    /// The outcome of one check.
    struct result {
        std::string name;
        bool ok = true;
        std::string reason;  ///< why it failed ("" when ok)
    };

    /// Adds a named check (names are listed in the order added). A check that
    /// throws fails with the exception's message. Throws std::invalid_argument
    /// for an empty or duplicate name.
    void add(std::string name, readiness_check check);
    /// Runs every check, in order.
    std::vector<result> run() const;
    /// Names of the registered checks.
    std::vector<std::string> names() const;

private:
    mutable std::mutex mu_;
    std::vector<std::pair<std::string, readiness_check>> checks_;
};

}  // namespace vigy::api

#endif  // VIGY_API_HEALTH_HPP
