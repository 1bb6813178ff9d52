// tests/e2e/support.hpp — shared fixture for the end-to-end tests: a private
// database per test (VIGY_DB in a temp dir), running `vigy` against it, JSON
// parsing of `-o json` output, and direct SQLite checks of the database file.
#ifndef VIGY_TESTS_E2E_SUPPORT_HPP
#define VIGY_TESTS_E2E_SUPPORT_HPP

#include "proc.hpp"

#include <rapidjson/document.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace e2e {

using json = rapidjson::Value;
using json_doc = std::unique_ptr<rapidjson::Document>;

/// Parses JSON text; nullptr (and a Catch2 INFO) when it does not parse.
json_doc parse_json(const std::string& text);
/// Parses every non-empty line as JSON; throws std::runtime_error naming the bad line.
std::vector<json_doc> parse_json_lines(const std::string& text);

/// Field helpers that fail with a readable message instead of asserting in RapidJSON.
const json& field(const json& obj, const char* key);
std::string str(const json& obj, const char* key);
int64_t num(const json& obj, const char* key);
bool has(const json& obj, const char* key);

/// Reads RFC 3339 ("...T..:..:..[.fff]Z") into epoch ms; -1 when malformed.
int64_t rfc3339_ms(const std::string& s);

/// One test's world: a temp dir, a database path and the environment for vigy.
struct fixture {
    temp_dir dir;
    std::string db;
    spawn_options opts;

    fixture();
    /// Runs `vigy args…` with VIGY_DB=db (bounded).
    result run(const std::vector<std::string>& args, int timeout_ms = 15'000) const;
    /// Runs and parses stdout as JSON, requiring exit 0 and valid JSON.
    json_doc run_json(const std::vector<std::string>& args, int timeout_ms = 15'000) const;
    /// Starts `vigy args…` in the background with VIGY_DB=db.
    std::unique_ptr<process> start(const std::vector<std::string>& args) const;
    /// Writes a program file into the temp dir and returns its path.
    std::string program(const std::string& name, const std::string& text) const;
    /// `vigy register FILE --name NAME --every MS extra…`, requiring exit 0.
    void register_program(const std::string& name, const std::string& text, int64_t every_ms,
                          const std::vector<std::string>& extra = {}) const;
    /// `inspect NAME -o json --runs N`: runs newest first.
    json_doc inspect(const std::string& name, int runs = 1000) const;
};

/// Runs of an inspect document, oldest first (copies of the JSON objects).
std::vector<json_doc> runs_oldest_first(const json& inspect_doc);

/// The history of a programs::counter vigy, from `inspect`: each ok run's push payload
/// (n after the increment) and pull payload (the tick_count it saw), oldest first.
struct counter_history {
    size_t runs = 0;                  ///< all runs, any result
    size_t ok = 0;                    ///< ok runs
    std::vector<int64_t> n;           ///< push payloads of ok runs, oldest first
    std::vector<int64_t> tick_count;  ///< pull payloads of ok runs, oldest first
    std::set<std::string> ids;        ///< run ids of all runs
    int64_t kv_n = -1;                ///< kv "n", -1 when absent
};
/// Reads the newest `max_runs` runs of the counter vigy `name`; REQUIREs each ok run to
/// carry its two actions.
counter_history read_counter(const fixture& fx, const std::string& name, int max_runs);
/// REQUIREs a counter's history to be whole: the ok runs carry n = 1, 2, … in some order
/// without repeats or gaps, kv n equals the ok runs, and each saw tick_count = n.
void require_counter_consistent(const counter_history& h);

/// The executable `name` found on $PATH; REQUIREs it (a test that needs a tool fails
/// without it, never skips).
std::string on_path(const std::string& name);

/// Creates an empty SQLite database file at `path` (mode 0600; vigy adds its schema on
/// first open), for tests of commands that refuse a missing file (list, inspect, tail).
void create_empty_database(const std::string& path);

/// `PRAGMA integrity_check` on a database file through SQLite directly.
std::string integrity_check(const std::string& db_path);

/// Starts `vigy serve` and waits until it prints that it is serving; REQUIREs it.
std::unique_ptr<process> start_serve(const fixture& fx, const std::vector<std::string>& extra = {});
/// SIGINT, then waits (bounded) and REQUIREs exit 0.
void stop_serve(process& p);

/// Programs used by several tests.
namespace programs {
/// One info log line and one noop action per tick (like examples/hello-vigy.tatara).
inline const char* hello = "(vigy-log 'info \"hello from vigy\")\n(vigy-noop)\n";
/// kv counter "n": pushes n after the increment and pulls the tick count.
inline const char* counter = "(vigy-incr \"n\")\n(vigy-push (vigy-get \"n\" 0))\n(vigy-pull (vigy-tick-count))\n";
/// Never terminates.
inline const char* runaway = "(define (loop) (loop))\n(loop)\n";
}  // namespace programs

}  // namespace e2e

#endif  // VIGY_TESTS_E2E_SUPPORT_HPP
