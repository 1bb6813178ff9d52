// tests/schedule/oracle.hpp — runs tests/schedule/croniter_oracle.py under
// Debian's /usr/bin/python3 and hands back its JSON lines.
#pragma once

#include <rapidjson/document.h>

#include <sys/wait.h>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigy::test {

/// Runs the oracle script with `args`; every stdout line parsed as JSON.
/// Throws std::runtime_error (the test fails) when python, croniter or the
/// script is missing or fails.
inline std::vector<std::unique_ptr<rapidjson::Document>> run_oracle(const std::string& args) {
    const std::string cmd = std::string("/usr/bin/python3 ") + VIGY_SCHEDULE_ORACLE + " " + args;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + cmd);
    std::string out;
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    if (status != 0)
        throw std::runtime_error("the oracle failed (exit status " + std::to_string(WEXITSTATUS(status)) + "): " + cmd +
                                 " (it needs Debian's python3-croniter: apt-get install python3-croniter)");
    std::vector<std::unique_ptr<rapidjson::Document>> docs;
    std::size_t start = 0;
    while (start < out.size()) {
        std::size_t end = out.find('\n', start);
        if (end == std::string::npos) end = out.size();
        if (end > start) {
            auto d = std::make_unique<rapidjson::Document>();
            d->Parse(out.c_str() + start, end - start);
            if (d->HasParseError() || !d->IsObject())
                throw std::runtime_error("the oracle printed a line that is not a JSON object: " +
                                         out.substr(start, end - start));
            docs.push_back(std::move(d));
        }
        start = end + 1;
    }
    return docs;
}

}  // namespace vigy::test
