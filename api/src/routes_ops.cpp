// api/src/routes_ops.cpp — mount(): the service (watch thread, run subscription,
// runtime metrics, readiness checks), the status_error translator, POST /v1/eval,
// GET /v1/plugins, GET /v1/kinds and the dashboard's files.
#include "routes_internal.hpp"

#include "vigy/api/builtin.hpp"
#include "vigy/api/dashboard.hpp"
#include "vigy/api/json.hpp"
#include "vigy/api/openapi.hpp"
#include "vigy/plugin.h"

#include <rapidjson/document.h>

#include <chrono>
#include <future>
#include <thread>

namespace vigy::api::detail {

namespace {

std::vector<double> lateness_buckets() { return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}; }
std::vector<double> tick_buckets() {
    return {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

}  // namespace

// ---- the service ----------------------------------------------------------------------

service::service(host::runtime& r, mount_options o)
    : rt(r),
      opts(std::move(o)),
      metrics_(opts.metrics ? opts.metrics : std::make_shared<metrics_registry>()),
      health_(opts.health ? opts.health : std::make_shared<health_checks>()),
      hub_(r, states, opts, [this](json_writer& w, const host::vigy_info& v) { write_vigy(w, v); }) {
    opts.metrics = metrics_;
    opts.health = health_;
    auto& m = *metrics_;
    ticks_ =
        &m.counter("vigy_ticks_total", "Committed ticks by vigy, result (ok, failed) and trigger (schedule, forced)",
                   {"vigy", "result", "trigger"});
    duration_ = &m.histogram("vigy_tick_duration_seconds", "How long a tick's reconciler ran", {}, tick_buckets());
    lateness_ = &m.histogram("vigy_tick_lateness_seconds", "How late a scheduled tick started after its due time", {},
                             lateness_buckets());
    last_success_ = &m.gauge("vigy_last_success_timestamp_seconds",
                             "When the vigy's last successful tick ended (Unix time)", {"vigy"});
    actions_ = &m.counter("vigy_reconcile_actions_total",
                          "Actions returned by successful ticks, by vigy and action kind", {"vigy", "kind"});
    program_metric_ =
        &m.gauge("vigy_program_metric", "The last value a program recorded with vigy-metric", {"vigy", "name"});

    m.add_collector([this](exposition_writer& w) {
        const auto st = rt.stats();
        w.family("vigy_build_info", "The vigy build serving this API", "gauge");
        w.sample(
            "vigy_build_info",
            {{"version", opts.version}, {"abi", std::to_string(VIGY_ABI_MAJOR) + "." + std::to_string(VIGY_ABI_MINOR)}},
            1);
        std::size_t on = 0, off = 0;
        try {
            for (const auto& v : rt.list()) (v.enabled ? on : off)++;
        } catch (const std::exception&) {
        }
        w.family("vigy_vigies", "Registered vigies by enabled flag", "gauge");
        w.sample("vigy_vigies", {{"enabled", "true"}}, static_cast<double>(on));
        w.sample("vigy_vigies", {{"enabled", "false"}}, static_cast<double>(off));
        w.family("vigy_vigies_scheduled", "Vigies on this process's schedule now", "gauge");
        w.sample("vigy_vigies_scheduled", {}, static_cast<double>(st.scheduled));
        w.family("vigy_scheduler_lease_held", "1 when this process holds the database's scheduler lease", "gauge");
        w.sample("vigy_scheduler_lease_held", {}, st.lease_held ? 1 : 0);
        w.family("vigy_shards_held", "Cluster mode: shards this host leases now (0 outside cluster mode)", "gauge");
        w.sample("vigy_shards_held", {}, static_cast<double>(st.shards_held));
        w.family("vigy_lease_takeovers_total", "Cluster mode: shards this host took from a holder whose lease expired",
                 "counter");
        w.sample("vigy_lease_takeovers_total", {}, static_cast<double>(st.lease_takeovers));
        w.family("vigy_shards_lost_total",
                 "Cluster mode: shards this host lost (taken over, or its renew deadline passed)", "counter");
        w.sample("vigy_shards_lost_total", {}, static_cast<double>(st.shards_lost));
        w.family("vigy_skipped_slots_total", "Schedule slots skipped because a tick overran its interval", "counter");
        w.sample("vigy_skipped_slots_total", {}, static_cast<double>(st.skipped_slots));
        w.family("vigy_ticks_paused_total", "Scheduled ticks not started because the lease was not surely held",
                 "counter");
        w.sample("vigy_ticks_paused_total", {}, static_cast<double>(st.ticks_paused));
        w.family("vigy_store_transactions_total", "Store write transactions (group commits)", "counter");
        w.sample("vigy_store_transactions_total", {}, static_cast<double>(st.commits));
        w.family("vigy_store_runs_committed_total", "Runs committed to the store by this process", "counter");
        w.sample("vigy_store_runs_committed_total", {}, static_cast<double>(st.runs_committed));
        w.family("vigy_store_commit_failures_total",
                 "Runs the store refused (deleted vigy, locked database, stale lease token)", "counter");
        w.sample("vigy_store_commit_failures_total", {}, static_cast<double>(st.runs_rejected));
        w.family("vigy_store_stale_commits_total", "Runs refused for a stale fencing token", "counter");
        w.sample("vigy_store_stale_commits_total", {}, static_cast<double>(st.stale_commits));
        w.family("vigy_store_queue_depth", "Commits waiting for the store's writer", "gauge");
        w.sample("vigy_store_queue_depth", {}, static_cast<double>(st.writer_queued));
        w.family("vigy_store_listener_connected",
                 "1 while the PostgreSQL change listener (LISTEN/NOTIFY) is connected; 0 when it is down (polling) or "
                 "not in use (SQLite polls, a runtime that does not serve)",
                 "gauge");
        w.sample("vigy_store_listener_connected", {}, st.notify_connected ? 1 : 0);
        w.family("vigy_store_notifications_total", "Change notifications received from the database", "counter");
        w.sample("vigy_store_notifications_total", {}, static_cast<double>(st.notifications));
        w.family("vigy_store_listener_reconnects_total",
                 "Times the change listener's connection came back after it was lost", "counter");
        w.sample("vigy_store_listener_reconnects_total", {}, static_cast<double>(st.notify_reconnects));
        w.family("vigy_watch_streams", "Open watch streams of the API", "gauge");
        w.sample("vigy_watch_streams", {}, static_cast<double>(hub_.size()));
    });

    health_->add("store", [this]() -> std::optional<std::string> {
        auto fut = std::async(std::launch::async, [this] { return rt.resource_version(); });
        if (fut.wait_for(std::chrono::seconds(1)) != std::future_status::ready)
            return std::string("the database did not answer within 1 s");
        try {
            (void)fut.get();
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::nullopt;
    });
    health_->add("lease", [this]() -> std::optional<std::string> {
        if (!rt.serving()) return std::nullopt;  // an embedding app that does not schedule needs no lease
        const auto st = rt.stats();
        if (st.lease_held) return std::nullopt;
        if (st.cluster) return std::nullopt;  // shard leases: a member holding none is healthy too
        if (auto h = rt.scheduler())
            return "the scheduler lease is held by pid " + std::to_string(h->pid) + " on " + h->hostname;
        return std::string("the scheduler lease is not held");
    });
    health_->add("writer", [this]() -> std::optional<std::string> {
        const auto q = rt.stats().writer_queued;
        if (q * 10 >= opts.writer_queue_capacity * 9)
            return "the writer queue holds " + std::to_string(q) + " commits (90 % of " +
                   std::to_string(opts.writer_queue_capacity) + ")";
        return std::nullopt;
    });
    health_->add("kinds", [this]() -> std::optional<std::string> {
        if (rt.kinds().empty()) return std::string("no reconciler kind is loaded (see vigy plugins list)");
        return std::nullopt;
    });

    hub_.start();
    sub_ = rt.subscribe([this](const host::run& r) {
        observe_run(r);
        hub_.wake();
    });
    // Runs of other processes (cluster hosts) and vigy changes by the CLI reach the
    // watch streams when notified, not only at the hub's next poll.
    changes_ = rt.subscribe_changes([this](unsigned topics) {
        if ((topics & (store::topic_runs | store::topic_vigies)) != 0) hub_.wake();
    });
}

service::~service() { stop(); }

void service::stop() {
    std::call_once(stopped_, [this] {
        sub_.reset();
        changes_.reset();
        hub_.stop();
    });
}

void service::write_vigy(json_writer& w, const host::vigy_info& v) {
    const auto grants = rt.effective_grants(v);
    w.StartObject();
    write_vigy_members(w, v, &grants);  // with the lifecycle state as stored
    w.EndObject();
}

std::string service::vigy_json(const host::vigy_info& v) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write_vigy(w, v);
    return text(buf);
}

void service::observe_run(const host::run& r) {
    if (r.result == host::run_result::skipped) return;
    const bool ok = r.result == host::run_result::ok;
    ticks_->with({r.vigy_name, host::run_result_name(r.result), host::run_trigger_name(r.trigger)}).inc();
    duration_->get().observe(static_cast<double>(r.duration_us) / 1e6);
    if (r.trigger == host::run_trigger::schedule) lateness_->get().observe(static_cast<double>(r.lateness_us) / 1e6);
    if (!ok) return;
    last_success_->with({r.vigy_name}).set(static_cast<double>(r.ended_ms) / 1000.0);
    rapidjson::Document d;
    if (r.actions_json.size() > 2) {
        d.Parse(r.actions_json.data(), r.actions_json.size());
        if (!d.HasParseError() && d.IsArray())
            for (const auto& a : d.GetArray())
                if (a.IsObject() && a.HasMember("kind") && a["kind"].IsString())
                    actions_->with({r.vigy_name, std::string(a["kind"].GetString(), a["kind"].GetStringLength())})
                        .inc();
    }
    if (r.metrics_json.size() > 2) {
        d.Parse(r.metrics_json.data(), r.metrics_json.size());
        if (!d.HasParseError() && d.IsObject())
            for (const auto& m : d.GetObject())
                if (m.value.IsNumber())
                    program_metric_->with({r.vigy_name, std::string(m.name.GetString(), m.name.GetStringLength())})
                        .set(m.value.GetDouble());
    }
}

// ---- /v1/eval, /v1/plugins, /v1/kinds, the dashboard -------------------------------------

namespace {

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string arity_text(const host::intrinsic_info& i) {
    if (i.max_arity < 0) return std::to_string(i.min_arity) + "+";
    if (i.max_arity == i.min_arity) return std::to_string(i.min_arity);
    return std::to_string(i.min_arity) + ".." + std::to_string(i.max_arity);
}

void write_kind(json_writer& w, const host::reconciler_kind_info& k, const std::string& plugin) {
    w.StartObject();
    w.Key("kind");
    write_string(w, k.kind);
    w.Key("plugin");
    write_string(w, plugin);
    if (!k.doc.empty()) {
        w.Key("doc");
        write_string(w, k.doc);
    }
    w.EndObject();
}

}  // namespace

eval_body parse_eval(const rapidjson::Value& doc, const std::vector<std::string>& kinds) {
    std::vector<field_error> errs;
    if (!doc.IsObject()) throw http_error::validation("the body must be a JSON object", {{"", "must be an object"}});
    static const std::set<std::string, std::less<>> known = {"program",  "kind", "config", "ticks",
                                                             "every_ms", "kv",   "grants", "limits"};
    for (const auto& m : doc.GetObject())
        if (!known.count(str(m.name)))
            errs.push_back({"/" + json_pointer_token(str(m.name)),
                            "unknown member (expected program, kind, config, ticks, every_ms, kv, grants, limits)"});
    host::vigy_spec spec;
    spec.name = "eval";
    if (doc.HasMember("kind")) {
        if (!doc["kind"].IsString() || doc["kind"].GetStringLength() == 0)
            errs.push_back({"/kind", "must be a non-empty string"});
        else
            spec.kind = str(doc["kind"]);
    }
    if (std::find(kinds.begin(), kinds.end(), spec.kind) == kinds.end()) {
        std::string list;
        for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
        errs.push_back(
            {"/kind", "unknown reconciler kind \"" + spec.kind + "\" (known: " + (list.empty() ? "none" : list) + ")"});
    }
    if (doc.HasMember("program") && doc.HasMember("config")) {
        errs.push_back({"/program", "give program or config, not both"});
    } else if (doc.HasMember("program")) {
        if (!doc["program"].IsString()) {
            errs.push_back({"/program", "must be a string"});
        } else {
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("program");
            write_string(w, str(doc["program"]));
            w.Key("source_name");
            w.String("eval");
            w.EndObject();
            spec.config_json = text(buf);
        }
    } else if (doc.HasMember("config")) {
        if (!doc["config"].IsObject())
            errs.push_back({"/config", "must be an object"});
        else
            spec.config_json = to_json(doc["config"]);
    } else if (spec.kind == "lisp") {
        errs.push_back({"/program", "required (or kind + config)"});
    }
    host::evaluate_options eo;
    if (doc.HasMember("ticks")) {
        if (!doc["ticks"].IsInt64() || doc["ticks"].GetInt64() < 1 || doc["ticks"].GetInt64() > 1000)
            errs.push_back({"/ticks", "must be an integer from 1 to 1000"});
        else
            eo.ticks = doc["ticks"].GetInt64();
    }
    if (doc.HasMember("every_ms")) {
        if (!doc["every_ms"].IsInt64() || doc["every_ms"].GetInt64() < 100)
            errs.push_back({"/every_ms", "must be an integer >= 100 (milliseconds)"});
        else
            eo.every_ms = doc["every_ms"].GetInt64();
    }
    if (doc.HasMember("kv")) {
        if (!doc["kv"].IsObject())
            errs.push_back({"/kv", "must be an object (key: JSON value)"});
        else
            for (const auto& m : doc["kv"].GetObject()) eo.kv_json[str(m.name)] = to_json(m.value);
    }
    if (doc.HasMember("grants")) {
        if (!doc["grants"].IsArray())
            errs.push_back({"/grants", "must be an array of capability ids"});
        else
            for (rapidjson::SizeType i = 0; i < doc["grants"].Size(); ++i) {
                if (!doc["grants"][i].IsString())
                    errs.push_back({"/grants/" + std::to_string(i), "must be a string"});
                else
                    spec.allow.push_back(str(doc["grants"][i]));
            }
    }
    if (doc.HasMember("limits")) {
        const auto& l = doc["limits"];
        if (!l.IsObject()) {
            errs.push_back({"/limits", "must be an object"});
        } else {
            for (const auto& m : l.GetObject()) {
                const std::string k = str(m.name);
                uint64_t* f = k == "fuel"           ? &spec.limits.fuel
                              : k == "wall_ms"      ? &spec.limits.wall_ms
                              : k == "memory_bytes" ? &spec.limits.memory_bytes
                              : k == "max_depth"    ? &spec.limits.max_depth
                                                    : nullptr;
                if (!f)
                    errs.push_back({"/limits/" + json_pointer_token(k), "unknown limit"});
                else if (!m.value.IsUint64())
                    errs.push_back({"/limits/" + json_pointer_token(k), "must be an integer >= 0"});
                else
                    *f = m.value.GetUint64();
            }
        }
    }
    if (!errs.empty()) {
        const std::string detail = errs.size() == 1 ? errs[0].pointer + ": " + errs[0].detail
                                                    : std::to_string(errs.size()) + " invalid fields";
        throw http_error::validation(detail, std::move(errs));
    }
    return {std::move(spec), std::move(eo)};
}

namespace {

response eval_route(service& s, request& req) {
    const auto doc = parse_json_body(req);
    auto [spec, eo] = parse_eval(doc, s.rt.kinds());
    if (auto msg = s.rt.check(spec)) {  // a program that does not build: 422 with its line:col
        problem p = make_problem(VIGY_INVALID_ARGUMENT, *msg, status_hint::body_validation);
        p.errors.push_back({spec.kind == "lisp" ? "/program" : "/config", *msg});
        throw http_error(std::move(p));
    }
    const auto ev = s.rt.evaluate(spec, eo);
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    write_evaluation(w, ev);
    return json_ok(200, buf);
}

response asset_response(const request& req, const dashboard_file& f) {
    response res;
    const auto inm = req.header("If-None-Match");
    if (inm && *inm == f.etag) {
        res = response::empty(304);
    } else {
        res = response::text(200, std::string(f.body), std::string(f.content_type));
    }
    res.headers.set("ETag", std::string(f.etag));
    res.headers.set("Cache-Control", std::string(dashboard_cache_control));
    res.headers.set("Content-Security-Policy", std::string(dashboard_content_security_policy));
    res.headers.set("X-Content-Type-Options", "nosniff");
    res.headers.set("Referrer-Policy", "no-referrer");
    return res;
}

}  // namespace

void write_plugins(json_writer& w, const host::registry& reg) {
    w.StartObject();
    w.Key("items");
    w.StartArray();
    for (const auto& p : reg.plugins()) {
        w.StartObject();
        w.Key("id");
        write_string(w, p.id);
        w.Key("version");
        write_string(w, p.version);
        w.Key("file");
        write_string(w, p.file);
        w.Key("abi_version");
        write_string(w, std::to_string(p.abi_version >> 16) + "." + std::to_string(p.abi_version & 0xffff));
        w.Key("kinds");
        w.StartArray();
        for (const auto& k : p.kinds) write_kind(w, k, p.id);
        w.EndArray();
        w.Key("extensions");
        w.StartArray();
        for (const auto& e : p.extensions) {
            w.StartObject();
            w.Key("name");
            write_string(w, e.name);
            w.Key("intrinsics");
            w.StartArray();
            for (const auto& i : e.intrinsics) {
                w.StartObject();
                w.Key("name");
                write_string(w, i.name);
                w.Key("arity");
                write_string(w, arity_text(i));
                if (!i.doc.empty()) {
                    w.Key("doc");
                    write_string(w, i.doc);
                }
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    w.Key("skipped");
    write_skipped_plugins(w, reg);
    w.EndObject();
}

void mount_ops(router& r, service& s) {
    r.post("/v1/eval", [&s](request& req) { return guarded(req, true, [&] { return eval_route(s, req); }); });

    r.get("/v1/cluster", [&s](request& req) {
        return guarded(req, false, [&] {
            const host::cluster_info c = s.rt.cluster();  // FAILED_PRECONDITION on SQLite
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            write_cluster(w, c);
            return json_ok(200, buf);
        });
    });

    r.get("/v1/plugins", [&s](request& req) {
        return guarded(req, false, [&] {
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            write_plugins(w, s.rt.plugins());
            return json_ok(200, buf);
        });
    });

    r.get("/v1/kinds", [&s](request& req) {
        return guarded(req, false, [&] {
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("items");
            w.StartArray();
            for (const auto& p : s.rt.plugins().plugins())
                for (const auto& k : p.kinds) write_kind(w, k, p.id);
            w.EndArray();
            w.EndObject();
            return json_ok(200, buf);
        });
    });

    if (s.opts.dashboard) {
        route_options pub;
        pub.public_route = true;  // the files hold no data; a browser cannot send the token for a page load
        r.get(
            "/", [](request& req) { return asset_response(req, *dashboard_asset("/")); }, pub);
        r.get(
            "/{asset}",
            [](request& req) {
                const dashboard_file* f = dashboard_asset(req.path);
                if (!f) throw http_error(VIGY_NOT_FOUND, "no route for \"" + req.path + "\"");
                return asset_response(req, *f);
            },
            pub);
    }
}

}  // namespace vigy::api::detail

namespace vigy::api {

std::shared_ptr<api_service> mount(router& r, host::runtime& rt, mount_options options) {
    auto s = std::make_shared<detail::service>(rt, std::move(options));
    add_builtin_routes(r, {s->metrics(), s->health(), openapi_document()});
    detail::mount_vigies(r, *s);
    detail::mount_watch(r, *s);
    detail::mount_ops(r, *s);
    r.set_error_translator([](const std::exception& e) -> std::optional<problem> {
        if (const auto* se = dynamic_cast<const status_error*>(&e)) return make_problem(se->code(), se->what());
        return std::nullopt;
    });
    return s;
}

}  // namespace vigy::api
