// api/src/routes_watch.cpp — the watch streams (SSE, Kubernetes watch semantics):
// GET /v1/watch/runs and GET /v1/vigies?watch=true, fed by one watch thread that
// follows the store (runs by seq, vigy changes by change_seq).
#include "routes_internal.hpp"

#include "vigy/store/labels.hpp"

#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <chrono>

namespace vigy::api::detail {

namespace {

constexpr size_t run_page = 500;

sse_event run_event(const host::run& r) { return {std::to_string(r.seq), "run", run_json(r)}; }

/// True when the stream's queue has room for a page of backfill.
bool has_room(const event_stream& s) {
    return s.queued_events() < s.settings().max_queued_events / 2 &&
           s.queued_bytes() < s.settings().max_queued_bytes / 2;
}

}  // namespace

// ---- state cache ----------------------------------------------------------------------

const char* state_cache::state_of(const host::runtime& rt, const host::vigy_info& v) {
    if (!v.enabled) return "Disabled";
    {
        std::lock_guard lock(mu_);
        auto it = failed_.find(v.id);
        if (it != failed_.end()) return it->second ? "Degraded" : "Enabled";
    }
    const auto recent = rt.recent_runs(v.id, 1);
    const bool failed = !recent.empty() && recent.front().result == host::run_result::failed;
    std::lock_guard lock(mu_);
    // a run noted meanwhile is newer than what was read: keep it
    const auto [it, inserted] = failed_.emplace(v.id, failed);
    return it->second ? "Degraded" : "Enabled";
}

bool state_cache::note(const host::run& r) {
    if (r.result == host::run_result::skipped) return false;
    const bool failed = r.result == host::run_result::failed;
    std::lock_guard lock(mu_);
    auto [it, inserted] = failed_.emplace(r.vigy_id, failed);
    if (inserted) return failed;  // unknown before: it was shown from the store (first use) or not at all
    if (it->second == failed) return false;
    it->second = failed;
    return true;
}

void state_cache::forget(const std::string& vigy_id) {
    std::lock_guard lock(mu_);
    failed_.erase(vigy_id);
}

// ---- the watch thread -----------------------------------------------------------------

watch_hub::watch_hub(host::runtime& rt, state_cache& states, const mount_options& o, vigy_writer writer)
    : rt_(rt), states_(states), o_(o), writer_(std::move(writer)) {}

watch_hub::~watch_hub() { stop(); }

void watch_hub::start() {
    run_cursor_ = rt_.last_seq();
    vigy_rv_ = rt_.resource_version();
    for (auto& v : rt_.list()) known_.emplace(v.id, std::move(v));
    thread_ = std::thread([this] { loop(); });
}

void watch_hub::stop() {
    {
        std::lock_guard lock(mu_);
        if (stop_) return;
        stop_ = true;
        for (auto& w : runs_) w.stream->close();
        for (auto& w : vigies_) w.stream->close();
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    runs_.clear();
    vigies_.clear();
}

void watch_hub::wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

void watch_hub::add(run_watch w) {
    {
        std::lock_guard lock(mu_);
        if (stop_) {
            w.stream->close();
            return;
        }
        runs_.push_back(std::move(w));
        woken_ = true;
    }
    cv_.notify_all();
}

void watch_hub::add(vigy_watch w) {
    {
        std::lock_guard lock(mu_);
        if (stop_) {
            w.stream->close();
            return;
        }
        vigies_.push_back(std::move(w));
        woken_ = true;
    }
    cv_.notify_all();
}

std::size_t watch_hub::size() const {
    std::lock_guard lock(mu_);
    return runs_.size() + vigies_.size();
}

void watch_hub::loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
        cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(o_.poll_ms, 1)),
                     [this] { return stop_ || woken_; });
        if (stop_) break;
        woken_ = false;
        try {
            step();
        } catch (const std::exception&) {
            // a read failed (database busy): try again on the next turn; no cursor moved
        }
    }
}

void watch_hub::send_vigy(vigy_watch& w, const char* type, const host::vigy_info& v, int64_t id) {
    rapidjson::StringBuffer buf;
    json_writer jw(buf);
    jw.StartObject();
    jw.Key("type");
    jw.String(type);
    jw.Key("object");
    writer_(jw, v);  // the full Vigy (grants, state) as the REST routes show it
    jw.EndObject();
    (void)w.stream->send({std::to_string(id), type, text(buf)});
}

bool watch_hub::send_change(vigy_watch& w, const host::vigy_change& c) {
    const std::string& id = c.vigy.id;
    const bool known = w.matched.count(id) > 0;
    if (c.type == host::change_type::deleted) {
        if (!known) return false;
        w.matched.erase(id);
        auto it = known_.find(id);
        if (it == known_.end()) return false;  // never seen whole: nothing to show
        host::vigy_info last = it->second;
        last.resource_version = c.resource_version;
        send_vigy(w, "DELETED", last, c.resource_version);
        return true;
    }
    const bool matches = !w.selector || w.selector->matches(c.vigy.labels);
    if (matches) {
        const char* type = (!known || c.type == host::change_type::added) ? "ADDED" : "MODIFIED";
        w.matched.insert(id);
        send_vigy(w, type, c.vigy, c.resource_version);
        return true;
    }
    if (known) {  // it stopped matching the selector: gone for this client
        w.matched.erase(id);
        send_vigy(w, "DELETED", c.vigy, c.resource_version);
        return true;
    }
    return false;
}

void watch_hub::step() {
    // drop closed streams
    runs_.erase(std::remove_if(runs_.begin(), runs_.end(), [](const run_watch& w) { return w.stream->closed(); }),
                runs_.end());
    vigies_.erase(
        std::remove_if(vigies_.begin(), vigies_.end(), [](const vigy_watch& w) { return w.stream->closed(); }),
        vigies_.end());

    // ---- runs: the next page after the hub's cursor, then every stream ----
    const int64_t before = run_cursor_;
    const auto fresh = rt_.runs_after(run_cursor_, 1000);
    if (!fresh.empty()) run_cursor_ = fresh.back().seq;
    if (fresh.size() == 1000) woken_ = true;  // more to read: come back at once
    std::vector<std::string> flipped;
    for (const auto& r : fresh)
        if (states_.note(r)) flipped.push_back(r.vigy_id);
    for (auto& w : runs_) {
        if (w.cursor >= before) {
            for (const auto& r : fresh) {
                if (r.seq <= w.cursor) continue;
                if (w.vigy_id.empty() || r.vigy_id == w.vigy_id)
                    if (!w.stream->send(run_event(r))) break;
            }
            w.cursor = std::max(w.cursor, run_cursor_);
        } else if (has_room(*w.stream)) {
            // behind (a resume): backfill a page from the store, paced by the client
            const auto page = w.vigy_id.empty() ? rt_.runs_after(w.cursor, run_page)
                                                : rt_.runs_after(w.cursor, run_page, std::string_view(w.vigy_id));
            for (const auto& r : page)
                if (!w.stream->send(run_event(r))) break;
            if (!page.empty()) w.cursor = page.back().seq;
            if (page.size() < run_page)
                w.cursor = std::max(w.cursor, run_cursor_);  // the page covered everything up to the hub's cursor
            else
                woken_ = true;
        } else {
            woken_ = true;  // the client is reading its backlog: come back soon
        }
        w.mark->store(w.cursor);
    }

    // ---- vigies: the change feed after the hub's version, then every stream ----
    const int64_t rv_before = vigy_rv_;
    auto changes = rt_.changes_since(vigy_rv_);
    if (changes.gone) changes.changes.clear();
    vigy_rv_ = changes.resource_version;
    for (const auto& c : changes.changes)
        if (c.type != host::change_type::deleted) known_[c.vigy.id] = c.vigy;
    for (auto& w : vigies_) {
        if (w.rv >= rv_before) {
            for (const auto& c : changes.changes)
                if (c.resource_version > w.rv) send_change(w, c);
            w.rv = std::max(w.rv, vigy_rv_);
        } else {
            const auto own = rt_.changes_since(w.rv);
            if (own.gone) {  // compacted past this client's cursor: it must re-list (410 on reconnect)
                w.stream->close();
                continue;
            }
            for (const auto& c : own.changes) send_change(w, c);
            w.rv = std::max(w.rv, own.resource_version);
        }
        // the shown state (Enabled / Degraded) follows the runs: MODIFIED when it flips
        for (const auto& id : flipped) {
            if (!w.matched.count(id)) continue;
            if (auto v = rt_.find(id)) send_vigy(w, "MODIFIED", *v, w.rv);
        }
        w.mark->store(w.rv);
    }
    for (const auto& c : changes.changes)
        if (c.type == host::change_type::deleted) {
            known_.erase(c.vigy.id);
            states_.forget(c.vigy.id);
        }
}

// ---- the routes ---------------------------------------------------------------------

namespace {

event_stream::options stream_options(const mount_options& o) {
    event_stream::options so;
    so.keepalive_ms = o.keepalive_ms;
    so.bookmark_ms = o.bookmark_ms;
    so.max_duration_ms = o.max_stream_duration_ms;
    so.max_queued_events = o.max_queued_events;
    return so;
}

/// The resume cursor: Last-Event-ID beats the query parameter (browsers resend the URL).
std::optional<int64_t> cursor_of(const request& req, std::string_view param) {
    if (auto id = last_event_id(req)) return parse_cursor(*id, "Last-Event-ID");
    if (auto q = req.query.get(param); q && !q->empty()) return parse_cursor(*q, param);
    return std::nullopt;
}

}  // namespace

response watch_vigies(service& s, request& req);

response watch_vigies(service& s, request& req) {
    std::optional<host::label_selector> sel;
    const std::string selector(req.query.get("label_selector").value_or(""));
    if (!selector.empty()) sel = store::parse_selector(selector);
    const auto cursor = cursor_of(req, "resource_version");
    vigy_watch w;
    w.selector = sel;
    if (cursor) {
        const auto probe = s.rt.changes_since(*cursor);
        if (probe.gone)
            throw http_error(
                VIGY_FAILED_PRECONDITION,
                "resource_version " + std::to_string(*cursor) +
                    " is older than the change history kept: list again, then watch from its metadata.resource_version",
                status_hint::cursor_expired);
        w.rv = *cursor;
    } else {
        w.rv = s.rt.resource_version();
    }
    for (const auto& v : s.rt.list(selector)) w.matched.insert(v.id);
    if (cursor) {
        // the client knew the vigies as of its cursor: those added after it are news
        for (const auto& c : s.rt.changes_since(w.rv).changes)
            if (c.type == host::change_type::added) w.matched.erase(c.vigy.id);
    }
    w.mark = std::make_shared<std::atomic<int64_t>>(w.rv);
    auto so = stream_options(s.opts);
    so.bookmark = [mark = w.mark]() -> std::optional<sse_event> {
        const std::string rv = std::to_string(mark->load());
        return sse_event{rv, "BOOKMARK", R"({"type":"BOOKMARK","object":{"resource_version":")" + rv + "\"}}"};
    };
    w.stream = event_stream::create(so);
    if (!cursor) {
        const std::string rv = std::to_string(w.rv);
        (void)w.stream->send({rv, "BOOKMARK", R"({"type":"BOOKMARK","object":{"resource_version":")" + rv + "\"}}"});
    }
    auto stream = w.stream;
    s.hub().add(std::move(w));
    return response::events(stream);
}

void mount_watch(router& r, service& s) {
    r.get("/v1/watch/runs", [&s](request& req) {
        return guarded(req, false, [&] {
            run_watch w;
            if (auto v = req.query.get("vigy"); v && !v->empty()) w.vigy_id = s.rt.get(*v).id;
            const auto cursor = cursor_of(req, "after_seq");
            if (cursor) {
                const int64_t oldest = s.rt.oldest_seq();
                if (oldest > 0 && *cursor < oldest - 1)
                    throw http_error(VIGY_FAILED_PRECONDITION,
                                     "cursor " + std::to_string(*cursor) + " is older than the oldest kept run (seq " +
                                         std::to_string(oldest) +
                                         "): list the runs again, then watch from the newest seq",
                                     status_hint::cursor_expired);
                w.cursor = *cursor;
            } else {
                w.cursor = s.rt.last_seq();
            }
            w.mark = std::make_shared<std::atomic<int64_t>>(w.cursor);
            auto so = stream_options(s.opts);
            so.bookmark = [mark = w.mark]() -> std::optional<sse_event> {
                const std::string seq = std::to_string(mark->load());
                return sse_event{seq, "bookmark", "{\"seq\":" + seq + "}"};
            };
            w.stream = event_stream::create(so);
            if (!cursor) {
                // a new watch starts at the newest run; the bookmark says where
                const std::string seq = std::to_string(w.cursor);
                (void)w.stream->send({seq, "bookmark", "{\"seq\":" + seq + "}"});
            }
            auto stream = w.stream;
            s.hub().add(std::move(w));
            return response::events(stream);
        });
    });
}

}  // namespace vigy::api::detail
