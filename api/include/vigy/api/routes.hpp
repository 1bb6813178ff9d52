/// vigy/api/routes.hpp — the vigy API over a runtime: REST /v1, the watch streams,
/// /metrics, /readyz, /livez, /openapi.json and the dashboard at `/`, mounted on a
/// router so that `vigy serve` and an embedding application serve the same thing.
///
///     auto rt = vigy::Runtime::open(db);
///     rt->start();                                    // optional: be the scheduler
///     vigy::api::router routes;
///     vigy::api::mount_options mo;                    // metrics + health made for you
///     auto api = vigy::api::mount(routes, *rt, mo);   // keep it while serving
///     // an application may add its own routes here (e.g. POST /mcp)
///     vigy::api::server_options so;
///     so.metrics = api->metrics();
///     vigy::api::server srv(io, std::move(routes), so);
///     srv.start(); io.run();
///     srv.stop(); api->stop();                        // streams end, the watch thread joins
///
/// Routes (docs/api.md and api/openapi/vigy.openapi.json describe each):
///   GET/POST /v1/vigies (label_selector, limit, continue; watch=true streams the
///   vigy change feed), GET/PUT/PATCH/DELETE /v1/vigies/{name} (ETag =
///   resource_version; If-None-Match 304; If-Match 412), GET .../runs, /kv,
///   /conditions, /events, /state, POST .../tick, /enable, /disable,
///   GET /v1/runs/{run_id}, GET /v1/watch/runs, POST /v1/eval, GET /v1/plugins,
///   GET /v1/kinds, the built-ins (builtin.hpp) and, with `dashboard`, GET / and
///   GET /{asset} (served without the token: the files hold no data).
///
/// Errors: every vigy::status_error becomes an RFC 9457 problem through the one
/// mapping (problem.hpp http_status), refined by where it was raised: a bad
/// request body 422 with field pointers, a stale If-Match 412, a stale
/// resource_version in a body 409, a watch cursor older than retention 410,
/// UNAVAILABLE 503 with Retry-After.
///
/// Watch: one thread per mounted API (not per stream) follows the store — runs by
/// seq (runs_after: every process's runs, as `vigy tail`) and vigy changes by
/// change_seq (changes_since) — woken by the runtime's run subscription, by the
/// database's change notifications (PostgreSQL) and at least every poll_ms; every stream has its own cursor, so a
/// backfill after Last-Event-ID and the live tail meet with no gap and no duplicate. A stream whose client reads too
/// slowly is dropped (sse.hpp), never waited for.
///
/// Metrics: the runtime's series (vigy_build_info, vigy_vigies{enabled},
/// vigy_ticks_total{vigy,result,trigger}, vigy_tick_duration_seconds,
/// vigy_tick_lateness_seconds, vigy_skipped_slots_total,
/// vigy_last_success_timestamp_seconds{vigy}, vigy_reconcile_actions_total{vigy,kind},
/// vigy_program_metric{vigy,name}, vigy_scheduler_lease_held, vigy_store_*) are added
/// to the registry beside the server's own vigy_http_* series.
///
/// Readiness checks added: store (answers within 1 s), lease (this runtime holds
/// the scheduler lease; only when it serves), writer (queue under 90 % of
/// writer_queue_capacity), kinds (at least one reconciler kind loaded).
///
/// Threading: mount() before the server starts; the returned api_service is
/// thread-safe; stop() is idempotent and must not be called from a handler. The
/// runtime must outlive the api_service.
#ifndef VIGY_API_ROUTES_HPP
#define VIGY_API_ROUTES_HPP

#include "vigy/api/health.hpp"
#include "vigy/api/metrics.hpp"
#include "vigy/api/router.hpp"
#include "vigy/host/runtime.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace vigy::api {

/// How mount() mounts the API.
struct mount_options {
    /// Shared with the server (server_options::metrics); null: mount() makes one.
    std::shared_ptr<metrics_registry> metrics;
    /// The /readyz checks; null: mount() makes one. mount() adds its checks to it.
    std::shared_ptr<health_checks> health;
    /// Serve the dashboard at `/` (vigy_dashboard's embedded files).
    bool dashboard = true;
    /// POST .../tick: how long to wait for a scheduler to take the tick (ms).
    int64_t tick_wait_ms = 5000;
    /// The watch thread's poll period (ms); it is also woken by every run this
    /// process commits and, on PostgreSQL while serving, by every change notification
    /// (runtime::subscribe_changes: other processes' runs and vigy changes), so this
    /// bounds the delay only on SQLite and while the listener's connection is down.
    int64_t poll_ms = 100;
    /// Watch stream settings (sse.hpp event_stream::options).
    int64_t keepalive_ms = 15000;
    int64_t bookmark_ms = 30000;
    int64_t max_stream_duration_ms = 30 * 60 * 1000;
    std::size_t max_queued_events = 8192;
    /// Writer queue size treated as 100 % by the readiness check.
    std::size_t writer_queue_capacity = 4096;
    /// Value of the `version` label of vigy_build_info.
    std::string version = "0.0.0";
};

/// What mount() returns: owns the watch thread and the run subscription. Keep it
/// alive while the server serves; destroy (or stop()) it after the server stopped.
class api_service {
public:
    virtual ~api_service() = default;
    /// Ends every watch stream and joins the watch thread. Idempotent.
    virtual void stop() = 0;
    /// The registry the routes and collectors write to (give it to the server).
    virtual const std::shared_ptr<metrics_registry>& metrics() const noexcept = 0;
    virtual const std::shared_ptr<health_checks>& health() const noexcept = 0;
    /// Open watch streams (runs + vigies), for tests and status lines.
    virtual std::size_t watchers() const = 0;
};

/// Mounts every route listed above on `r` over `rt`, the built-ins included, and
/// installs the status_error translator. Throws std::invalid_argument when a route
/// is already taken.
std::shared_ptr<api_service> mount(router& r, host::runtime& rt, mount_options options = {});

}  // namespace vigy::api

#endif  // VIGY_API_ROUTES_HPP
