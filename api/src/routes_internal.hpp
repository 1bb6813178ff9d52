// api/src/routes_internal.hpp — what the route files share (not installed).
#ifndef VIGY_API_ROUTES_INTERNAL_HPP
#define VIGY_API_ROUTES_INTERNAL_HPP

#include "vigy/api/problem.hpp"
#include "vigy/api/resources.hpp"
#include "vigy/api/routes.hpp"
#include "vigy/api/sse.hpp"

#include <rapidjson/document.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace vigy::api::detail {

/// The lifecycle state the API shows for a vigy: Disabled, Degraded (enabled and its
/// latest run failed) or Enabled. Latest results are cached by vigy id, fed by the
/// watch thread (every committed run) and filled on first use from the store.
class state_cache {
public:
    /// "Enabled" | "Disabled" | "Degraded".
    const char* state_of(const host::runtime& rt, const host::vigy_info& v);
    /// Records a committed run; returns true when the vigy's failed-ness changed.
    bool note(const host::run& r);
    void forget(const std::string& vigy_id);

private:
    std::mutex mu_;
    std::unordered_map<std::string, bool> failed_;  ///< vigy id -> latest run failed
};

/// GET /v1/vigies/{name}'s rendered responses, valid while the store's change_seq is
/// unchanged: every change to any vigy, by any process, bumps it in the same
/// transaction (runs and ticks do not), so a hit is exactly what a fresh read would
/// render. Each lookup still reads change_seq (one prepared statement step), so
/// reads stay consistent with writes made by the CLI or another serve. Bounded: bodies
/// over `max_body` are not kept, and the whole cache is dropped past `max_bytes`.
class vigy_read_cache {
public:
    struct entry {
        int64_t resource_version = 0;
        std::string etag;
        std::string body;
    };
    static constexpr std::size_t max_body = 64 * 1024;          ///< bytes
    static constexpr std::size_t max_bytes = 16 * 1024 * 1024;  ///< bytes, all entries

    /// The entry of `key` (a name or id as requested) rendered at `seq`, or null.
    /// A `seq` newer than the entries' drops them all.
    std::shared_ptr<const entry> find(const std::string& key, int64_t seq);
    /// Keeps `e` for `key`, read at or after `seq` (ignored when the cache moved past `seq`).
    void put(const std::string& key, int64_t seq, std::shared_ptr<const entry> e);

private:
    std::mutex mu_;
    int64_t seq_ = -1;
    std::size_t bytes_ = 0;
    std::unordered_map<std::string, std::shared_ptr<const entry>> entries_;
};

/// One open watch of runs.
struct run_watch {
    std::shared_ptr<event_stream> stream;
    std::string vigy_id;                         ///< "" = every vigy
    int64_t cursor = 0;                          ///< the last seq examined for this stream
    std::shared_ptr<std::atomic<int64_t>> mark;  ///< cursor for the bookmark hook
};

/// One open watch of vigies.
struct vigy_watch {
    std::shared_ptr<event_stream> stream;
    std::optional<host::label_selector> selector;
    int64_t rv = 0;                 ///< the change_seq examined for this stream
    std::set<std::string> matched;  ///< ids the client knows as matching
    std::shared_ptr<std::atomic<int64_t>> mark;
};

/// The watch thread: follows runs and vigy changes in the store and fans them out.
class watch_hub {
public:
    using vigy_writer = std::function<void(json_writer&, const host::vigy_info&)>;
    watch_hub(host::runtime& rt, state_cache& states, const mount_options& o, vigy_writer writer);
    ~watch_hub();
    void start();
    void stop();
    void wake();
    void add(run_watch w);
    void add(vigy_watch w);
    std::size_t size() const;

private:
    void loop();
    void step();
    bool send_change(vigy_watch& w, const host::vigy_change& c);
    void send_vigy(vigy_watch& w, const char* type, const host::vigy_info& v, int64_t id);

    host::runtime& rt_;
    state_cache& states_;
    mount_options o_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool woken_ = false;
    int64_t run_cursor_ = 0;
    int64_t vigy_rv_ = 0;
    std::vector<run_watch> runs_;
    std::vector<vigy_watch> vigies_;
    /// The last known record of every vigy (a DELETED event carries the last state).
    std::unordered_map<std::string, host::vigy_info> known_;
    vigy_writer writer_;
    std::thread thread_;
};

/// The mounted API (what mount() returns).
class service final : public api_service {
public:
    service(host::runtime& rt, mount_options o);
    ~service() override;
    void stop() override;
    const std::shared_ptr<metrics_registry>& metrics() const noexcept override { return metrics_; }
    const std::shared_ptr<health_checks>& health() const noexcept override { return health_; }
    std::size_t watchers() const override { return hub_.size(); }

    host::runtime& rt;
    mount_options opts;
    state_cache states;
    vigy_read_cache reads;

    /// The vigy JSON with its effective grants and state.
    std::string vigy_json(const host::vigy_info& v);
    void write_vigy(json_writer& w, const host::vigy_info& v);
    watch_hub& hub() { return hub_; }
    /// Records the runtime metrics of one committed run (subscription callback).
    void observe_run(const host::run& r);

private:
    std::shared_ptr<metrics_registry> metrics_;
    std::shared_ptr<health_checks> health_;
    watch_hub hub_;
    host::subscription sub_;
    host::subscription changes_;  // other hosts' runs and CLI changes (PostgreSQL notification)
    counter_family* ticks_ = nullptr;
    histogram_family* duration_ = nullptr;
    histogram_family* lateness_ = nullptr;
    gauge_family* last_success_ = nullptr;
    counter_family* actions_ = nullptr;
    gauge_family* program_metric_ = nullptr;
    std::once_flag stopped_;
};

// ---- helpers shared by the route files ----------------------------------------------

/// Runs `f`, turning a status_error into the problem its code maps to, refined for
/// the request: INVALID_ARGUMENT on a route with a JSON body is 422; ABORTED when the
/// request sent If-Match is 412; UNAVAILABLE gets Retry-After: 1.
response guarded(request& req, bool body_route, const std::function<response()>& f);

/// A JSON response of a writer-built body.
response json_ok(int status, const rapidjson::StringBuffer& buf);

/// Parses an optional non-negative integer query parameter (400 naming it).
std::optional<int64_t> query_int(const request& req, std::string_view name, int64_t min, int64_t max);
/// "true"/"false"/"1"/"0"/"" of a query flag (400 for anything else).
bool query_flag(const request& req, std::string_view name);

/// The resource version an If-Match header names (`"12"`, `W/"12"`, `12`), nullopt
/// when absent or `*`. 400 for a malformed one.
std::optional<int64_t> if_match(const request& req);
/// The strong ETag of a resource version.
std::string etag_of(int64_t resource_version);
/// Percent-encodes one path segment.
std::string encode_segment(std::string_view s);

/// A parsed VigyApply body (POST/PUT /v1/vigies, the MCP tool vigy_register).
struct apply_body {
    host::vigy_spec spec;
    std::optional<int64_t> resource_version;  ///< a precondition in the body (409 when stale)
};

/// Parses a VigyApply object. `path_name` is the name in the path (PUT, PATCH) or ""
/// (POST: the body's name is required). Every problem is collected: throws
/// http_error::validation (422) with a JSON Pointer per bad field.
apply_body parse_apply(const rapidjson::Value& doc, std::string_view path_name, const std::vector<std::string>& kinds);

/// A parsed EvalRequest body (POST /v1/eval, the MCP tools vigy_eval and vigy_check).
struct eval_body {
    host::vigy_spec spec;  ///< name "eval"
    host::evaluate_options options;
};

/// Parses an EvalRequest object {program | kind + config, ticks, every_ms, kv, grants,
/// limits}. Throws http_error::validation (422) with a pointer per bad field. It does
/// not build the program (runtime::check does).
eval_body parse_eval(const rapidjson::Value& doc, const std::vector<std::string>& kinds);

/// {"items":[{id,version,file,abi_version,kinds,extensions}],"skipped":[{file,reason}]}:
/// every loaded plugin with its reconciler kinds and intrinsics (GET /v1/plugins, vigy_plugins).
void write_plugins(json_writer& w, const host::registry& reg);

void mount_vigies(router& r, service& s);
void mount_watch(router& r, service& s);
void mount_ops(router& r, service& s);

}  // namespace vigy::api::detail

#endif  // VIGY_API_ROUTES_INTERNAL_HPP
