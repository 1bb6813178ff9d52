// store/src/store.cpp — opening, vigies, reads, leases, tick requests, maintenance.
#include "db.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>

namespace vigy::store {

namespace fs = std::filesystem;
using detail::immediate_tx;

namespace {

std::string labels_to_json(const label_map& labels) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    for (const auto& [k, v] : labels) {
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

label_map labels_from_json(const std::string& text) {
    label_map out;
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError() || !d.IsObject()) return out;
    for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it)
        if (it->value.IsString())
            out.emplace(std::string(it->name.GetString(), it->name.GetStringLength()),
                        std::string(it->value.GetString(), it->value.GetStringLength()));
    return out;
}

bool looks_like_id(std::string_view s) {
    if (s.size() != 16) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

void validate_spec(const vigy_spec& spec) {
    if (spec.name.empty()) throw error(error_code::invalid_argument, "vigy name must not be empty");
    if (spec.name.size() > 253)
        throw error(error_code::invalid_argument, fmt::format("invalid vigy name \"{}...\": must be at most 253 bytes", spec.name.substr(0, 32)));
    for (unsigned char c : spec.name)
        if (c < 0x20 || c == 0x7f)
            throw error(error_code::invalid_argument, fmt::format("invalid vigy name {:?}: control characters are not allowed", spec.name));
    if (spec.kind.empty()) throw error(error_code::invalid_argument, fmt::format("vigy \"{}\": reconciler kind must not be empty", spec.name));
    if (spec.interval_ms < min_interval_ms)
        throw error(error_code::invalid_argument, fmt::format("invalid tick interval {} ms: must be >= {}", spec.interval_ms, min_interval_ms));
    detail::validate_json(spec.config_json, "config");
    for (const auto& [k, v] : spec.labels) validate_label_key(k);
    const auto& l = spec.limits;
    if (l.fuel < 0 || l.wall_ms < 0 || l.memory_bytes < 0 || l.max_depth < 0)
        throw error(error_code::invalid_argument, fmt::format("vigy \"{}\": limits must be >= 0 (0 = default)", spec.name));
}

// ---- row binding ----

const char* const vigy_columns =
    "SELECT id, name, kind, config_json, revision, interval_ms, enabled, labels_json, fuel, wall_ms, memory_bytes, "
    "max_depth, created_at, updated_at, generation FROM vigies ";

struct vigy_cols {
    std::string id, name, kind, config, revision, labels, created, updated;
    long long interval = 0, enabled = 0, fuel = 0, wall = 0, mem = 0, depth = 0, gen = 0;

    void bind(soci::details::prepare_temp_type& p) {
        p, soci::into(id), soci::into(name), soci::into(kind), soci::into(config), soci::into(revision),
            soci::into(interval), soci::into(enabled), soci::into(labels), soci::into(fuel), soci::into(wall),
            soci::into(mem), soci::into(depth), soci::into(created), soci::into(updated), soci::into(gen);
    }
    [[nodiscard]] vigy_record record() const {
        vigy_record r;
        r.id = id;
        r.name = name;
        r.kind = kind;
        r.config_json = config;
        r.revision = revision;
        r.interval_ms = interval;
        r.enabled = enabled != 0;
        r.labels = labels_from_json(labels);
        r.limits = {fuel, wall, mem, depth};
        r.created_at = created;
        r.updated_at = updated;
        r.generation = gen;
        return r;
    }
};

const char* const run_columns =
    "SELECT seq, id, vigy_id, revision, started_at, ended_at, result, error, duration_ms, actions_json, desired_json, "
    "observed_json, conditions_json, log_json, trace_json, metrics_json, events_json, output_json, duration_us, "
    "run_trigger, tick_count, kv_writes_json, kv_deletes_json FROM runs ";

struct run_cols {
    run_record r;
    std::string result;
    long long seq = 0, duration = 0, duration_us = 0, tick_count = 0;

    void bind(soci::details::prepare_temp_type& p) {
        p, soci::into(seq), soci::into(r.id), soci::into(r.vigy_id), soci::into(r.revision), soci::into(r.started_at),
            soci::into(r.ended_at), soci::into(result), soci::into(r.error), soci::into(duration),
            soci::into(r.actions_json), soci::into(r.desired_json), soci::into(r.observed_json),
            soci::into(r.conditions_json), soci::into(r.log_json), soci::into(r.trace_json),
            soci::into(r.metrics_json), soci::into(r.events_json), soci::into(r.output_json), soci::into(duration_us),
            soci::into(r.trigger), soci::into(tick_count), soci::into(r.kv_writes_json), soci::into(r.kv_deletes_json);
    }
    [[nodiscard]] run_record record() const {
        run_record out = r;
        out.seq = seq;
        out.duration_ms = duration;
        out.duration_us = duration_us;
        out.tick_count = tick_count;
        out.result = parse_run_result(result);
        return out;
    }
};

template <class Cols, class Rec, class... Uses>
std::vector<Rec> select_rows(soci::session& sql, const std::string& query, Uses&&... uses) {
    Cols cols;
    std::vector<Rec> out;
    soci::details::prepare_temp_type p = (sql.prepare << query);
    cols.bind(p);
    if constexpr (sizeof...(Uses) > 0) (p, ..., std::forward<Uses>(uses));
    soci::statement st(p);
    st.execute();
    while (st.fetch()) out.push_back(cols.record());
    return out;
}

std::string temp_db_path() {
    std::random_device rd;
    return (fs::temp_directory_path() / fmt::format("vigy-mem-{:08x}{:08x}.db", rd(), rd())).string();
}

}  // namespace

// ---------------------------------------------------------------------------------
// impl

struct store::impl {
    open_options options;
    std::string path;
    bool temporary = false;

    std::mutex write_mutex;  // guards write_sql
    std::unique_ptr<soci::session> write_sql;
    std::unique_ptr<detail::commit_applier> sync_applier;

    std::mutex read_mutex;
    std::condition_variable read_cv;
    std::vector<std::unique_ptr<soci::session>> read_sessions;
    std::vector<soci::session*> read_free;

    std::unique_ptr<class writer> writer;

    class read_lease {
    public:
        explicit read_lease(impl& i) : impl_(i) {
            std::unique_lock lock(impl_.read_mutex);
            impl_.read_cv.wait(lock, [&] { return !impl_.read_free.empty(); });
            sql_ = impl_.read_free.back();
            impl_.read_free.pop_back();
        }
        ~read_lease() {
            {
                std::lock_guard lock(impl_.read_mutex);
                impl_.read_free.push_back(sql_);
            }
            impl_.read_cv.notify_one();
        }
        read_lease(const read_lease&) = delete;
        read_lease& operator=(const read_lease&) = delete;
        soci::session& operator*() const { return *sql_; }

    private:
        impl& impl_;
        soci::session* sql_ = nullptr;
    };

    /// Run `fn` mapping every failure to vigy::store::error; a busy database names the path
    /// and what we were doing.
    template <class Fn>
    auto guarded(const std::string& what, Fn&& fn) -> decltype(fn()) {
        try {
            return fn();
        } catch (const error& e) {
            if (e.code() == error_code::busy)
                throw error(error_code::busy,
                            fmt::format("database {} is locked by another process (busy for more than {} ms) while {}; "
                                        "nothing was written, retry later",
                                        path, options.busy_timeout_ms, what));
            throw;
        } catch (...) {
            try {
                detail::rethrow(path, what);
            } catch (const error& e) {
                if (e.code() == error_code::busy)
                    throw error(error_code::busy,
                                fmt::format("database {} is locked by another process (busy for more than {} ms) "
                                            "while {}; nothing was written, retry later",
                                            path, options.busy_timeout_ms, what));
                throw;
            }
        }
    }

    template <class Fn>
    auto write(const std::string& what, Fn&& fn) -> decltype(fn(*write_sql)) {
        std::lock_guard lock(write_mutex);
        return guarded(what, [&] { return fn(*write_sql); });
    }

    template <class Fn>
    auto read(const std::string& what, Fn&& fn) -> decltype(fn(*write_sql)) {
        read_lease lease(*this);
        return guarded(what, [&] { return fn(*lease); });
    }

    long long bump_generation(soci::session& sql) {
        long long gen = 0;
        sql << "UPDATE store_meta SET value = value + 1 WHERE key = 'generation'";
        sql << "SELECT value FROM store_meta WHERE key = 'generation'", soci::into(gen);
        return gen;
    }

    std::optional<vigy_record> find(soci::session& sql, std::string_view name_or_id) {
        const std::string key(name_or_id);
        auto rows = select_rows<vigy_cols, vigy_record>(sql, std::string(vigy_columns) + "WHERE name = :n", soci::use(key));
        if (rows.empty() && looks_like_id(key))
            rows = select_rows<vigy_cols, vigy_record>(sql, std::string(vigy_columns) + "WHERE id = :i", soci::use(key));
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    }
};

// ---------------------------------------------------------------------------------
// open / close

store::store(open_options options) : impl_(std::make_unique<impl>()) {
    impl& m = *impl_;
    m.options = std::move(options);
    if (m.options.path.empty()) throw error(error_code::invalid_argument, "database path must not be empty");
    if (m.options.path == ":memory:") {
        m.path = temp_db_path();
        m.temporary = true;
    } else {
        m.path = m.options.path;
    }
    if (m.options.busy_timeout_ms < 0) m.options.busy_timeout_ms = 0;
    if (m.options.read_sessions == 0) m.options.read_sessions = 1;
    const fs::path parent = fs::path(m.path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        if (ec)
            throw error(error_code::io, fmt::format("cannot create directory {} for database {}: {}", parent.string(),
                                                    m.path, ec.message()));
    }
    m.guarded("opening", [&] {
        m.write_sql = detail::open_session(m.path, m.options.busy_timeout_ms);
        detail::migrate(*m.write_sql, m.path);
        m.sync_applier = std::make_unique<detail::commit_applier>(*m.write_sql);
        for (std::size_t i = 0; i < m.options.read_sessions; ++i) {
            m.read_sessions.push_back(detail::open_session(m.path, m.options.busy_timeout_ms));
            m.read_free.push_back(m.read_sessions.back().get());
        }
    });
    if (m.options.start_writer) m.writer = detail::start_writer(m.path, m.options);
}

store::~store() {
    if (!impl_) return;
    if (impl_->writer) impl_->writer->stop();
    impl_->writer.reset();
    impl_->sync_applier.reset();
    impl_->read_free.clear();
    impl_->read_sessions.clear();
    impl_->write_sql.reset();
    if (impl_->temporary) {
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(impl_->path + suffix, ec);
    }
}

const std::string& store::path() const noexcept { return impl_->path; }

int store::schema_version() {
    return impl_->read("reading the schema version", [](soci::session& sql) {
        long long v = 0;
        sql << "SELECT max(version) FROM schema_version", soci::into(v);
        return static_cast<int>(v);
    });
}

// ---------------------------------------------------------------------------------
// vigies

register_result store::register_or_update(const vigy_spec& spec) {
    validate_spec(spec);
    const std::string what = fmt::format("registering vigy \"{}\"", spec.name);
    return impl_->write(what, [&](soci::session& sql) {
        immediate_tx tx(sql, impl_->path);
        register_result res;
        const std::string revision = revision_for(spec.kind, spec.config_json);
        const std::string labels = labels_to_json(spec.labels);
        const std::string now = now_timestamp();
        auto existing = select_rows<vigy_cols, vigy_record>(sql, std::string(vigy_columns) + "WHERE name = :n",
                                                            soci::use(spec.name));
        long long enabled = spec.enabled.value_or(existing.empty() ? true : existing.front().enabled) ? 1 : 0;
        long long interval = spec.interval_ms;
        long long fuel = spec.limits.fuel, wall = spec.limits.wall_ms, mem = spec.limits.memory_bytes,
                  depth = spec.limits.max_depth;
        std::string id;
        if (existing.empty()) {
            id = vigy_id_for(spec.name);
            long long taken = 0;
            sql << "SELECT count(*) FROM vigies WHERE id = :i", soci::into(taken), soci::use(id);
            if (taken != 0)
                throw error(error_code::invalid_argument,
                            fmt::format("vigy id {} for name \"{}\" collides with another vigy", id, spec.name));
            long long gen = impl_->bump_generation(sql);
            sql << "INSERT INTO vigies(id, name, kind, config_json, revision, interval_ms, enabled, labels_json, fuel, "
                   "wall_ms, memory_bytes, max_depth, created_at, updated_at, generation) VALUES (:id, :n, :k, :c, "
                   ":r, :iv, :en, :l, :f, :w, :m, :d, :ca, :ua, :g)",
                soci::use(id), soci::use(spec.name), soci::use(spec.kind), soci::use(spec.config_json),
                soci::use(revision), soci::use(interval), soci::use(enabled), soci::use(labels), soci::use(fuel),
                soci::use(wall), soci::use(mem), soci::use(depth), soci::use(now), soci::use(now), soci::use(gen);
            res.outcome = register_outcome::created;
            res.revision_changed = true;
        } else {
            const vigy_record& old = existing.front();
            id = old.id;
            res.previous_revision = old.revision;
            res.revision_changed = old.revision != revision || old.kind != spec.kind || old.config_json != spec.config_json;
            const bool changed = res.revision_changed || old.interval_ms != spec.interval_ms ||
                                 old.labels != spec.labels || old.limits != spec.limits ||
                                 old.enabled != (enabled != 0);
            if (!changed) {
                res.outcome = register_outcome::unchanged;
                res.vigy = old;
                tx.commit();
                return res;
            }
            long long gen = impl_->bump_generation(sql);
            sql << "UPDATE vigies SET kind = :k, config_json = :c, revision = :r, interval_ms = :iv, enabled = :en, "
                   "labels_json = :l, fuel = :f, wall_ms = :w, memory_bytes = :m, max_depth = :d, updated_at = :ua, "
                   "generation = :g WHERE id = :id",
                soci::use(spec.kind), soci::use(spec.config_json), soci::use(revision), soci::use(interval),
                soci::use(enabled), soci::use(labels), soci::use(fuel), soci::use(wall), soci::use(mem),
                soci::use(depth), soci::use(now), soci::use(gen), soci::use(id);
            res.outcome = register_outcome::updated;
        }
        if (res.revision_changed)
            sql << "INSERT OR IGNORE INTO vigy_revisions(vigy_id, revision, kind, config_json, created_at) VALUES "
                   "(:v, :r, :k, :c, :t)",
                soci::use(id), soci::use(revision), soci::use(spec.kind), soci::use(spec.config_json), soci::use(now);
        res.vigy = *impl_->find(sql, spec.name);
        tx.commit();
        return res;
    });
}

std::optional<vigy_record> store::find_vigy(std::string_view name_or_id) {
    return impl_->read(fmt::format("looking up vigy \"{}\"", name_or_id),
                       [&](soci::session& sql) { return impl_->find(sql, name_or_id); });
}

vigy_record store::get_vigy(std::string_view name_or_id) {
    auto v = find_vigy(name_or_id);
    if (!v) throw error(error_code::not_found, fmt::format("vigy \"{}\" not found", name_or_id));
    return std::move(*v);
}

std::vector<vigy_record> store::list_vigies(std::string_view selector) {
    const auto clauses = parse_selector(selector);  // throws on a malformed selector
    auto all = impl_->read("listing vigies", [&](soci::session& sql) {
        return select_rows<vigy_cols, vigy_record>(sql, std::string(vigy_columns) + "ORDER BY name");
    });
    if (clauses.empty()) return all;
    std::vector<vigy_record> out;
    for (auto& v : all) {
        bool ok = true;
        for (const auto& [k, val] : clauses) {
            auto it = v.labels.find(k);
            if (it == v.labels.end() || it->second != val) {
                ok = false;
                break;
            }
        }
        if (ok) out.push_back(std::move(v));
    }
    return out;
}

vigy_record store::set_enabled(std::string_view name_or_id, bool enabled) {
    const std::string what = fmt::format("{} vigy \"{}\"", enabled ? "enabling" : "disabling", name_or_id);
    return impl_->write(what, [&](soci::session& sql) {
        immediate_tx tx(sql, impl_->path);
        auto v = impl_->find(sql, name_or_id);
        if (!v) throw error(error_code::not_found, fmt::format("vigy \"{}\" not found", name_or_id));
        if (v->enabled != enabled) {
            long long gen = impl_->bump_generation(sql);
            long long en = enabled ? 1 : 0;
            const std::string now = now_timestamp();
            sql << "UPDATE vigies SET enabled = :e, updated_at = :u, generation = :g WHERE id = :i", soci::use(en),
                soci::use(now), soci::use(gen), soci::use(v->id);
            v = impl_->find(sql, v->id);
        }
        tx.commit();
        return std::move(*v);
    });
}

void store::delete_vigy(std::string_view name_or_id, bool keep_history) {
    const std::string what = fmt::format("deleting vigy \"{}\"", name_or_id);
    impl_->write(what, [&](soci::session& sql) {
        immediate_tx tx(sql, impl_->path);
        auto v = impl_->find(sql, name_or_id);
        if (!v) throw error(error_code::not_found, fmt::format("vigy \"{}\" not found", name_or_id));
        long long gen = impl_->bump_generation(sql);
        const std::string now = now_timestamp();
        sql << "DELETE FROM vigies WHERE id = :i", soci::use(v->id);
        sql << "INSERT INTO vigy_tombstones(id, name, generation, deleted_at) VALUES (:i, :n, :g, :t)", soci::use(v->id),
            soci::use(v->name), soci::use(gen), soci::use(now);
        sql << "UPDATE tick_requests SET state = 'failed', error = 'vigy deleted' WHERE vigy_id = :i AND state IN "
               "('pending', 'claimed')",
            soci::use(v->id);
        if (!keep_history) {
            for (const char* table : {"runs", "kv", "conditions", "events", "vigy_revisions"})
                sql << fmt::format("DELETE FROM {} WHERE vigy_id = :i", table), soci::use(v->id);
        }
        tx.commit();
        return 0;
    });
}

std::optional<std::pair<std::string, std::string>> store::get_revision(std::string_view vigy_id,
                                                                      std::string_view revision) {
    return impl_->read("reading a revision", [&](soci::session& sql) -> std::optional<std::pair<std::string, std::string>> {
        std::string kind, config;
        const std::string v(vigy_id), r(revision);
        sql << "SELECT kind, config_json FROM vigy_revisions WHERE vigy_id = :v AND revision = :r", soci::into(kind),
            soci::into(config), soci::use(v), soci::use(r);
        if (!sql.got_data()) return std::nullopt;
        return std::make_pair(kind, config);
    });
}

std::int64_t store::vigies_generation() {
    return impl_->read("reading the generation", [](soci::session& sql) {
        long long gen = 0;
        sql << "SELECT value FROM store_meta WHERE key = 'generation'", soci::into(gen);
        return static_cast<std::int64_t>(gen);
    });
}

vigy_changes store::changes_since(std::int64_t since_generation) {
    return impl_->read("reading vigy changes", [&](soci::session& sql) {
        vigy_changes ch;
        long long since = since_generation;
        // One read transaction so generation, rows and tombstones are one snapshot.
        detail::exec(sql, impl_->path, "BEGIN");
        try {
            long long gen = 0;
            sql << "SELECT value FROM store_meta WHERE key = 'generation'", soci::into(gen);
            ch.generation = gen;
            ch.upserted = select_rows<vigy_cols, vigy_record>(
                sql, std::string(vigy_columns) + "WHERE generation > :g ORDER BY name", soci::use(since));
            std::string id;
            soci::statement st = (sql.prepare << "SELECT id FROM vigy_tombstones WHERE generation > :g ORDER BY generation",
                                  soci::into(id), soci::use(since));
            st.execute();
            while (st.fetch()) ch.deleted_ids.push_back(id);
        } catch (...) {
            detail::exec(sql, impl_->path, "ROLLBACK");
            throw;
        }
        detail::exec(sql, impl_->path, "COMMIT");
        return ch;
    });
}

// ---------------------------------------------------------------------------------
// ticks

writer& store::writer() {
    if (!impl_->writer) throw error(error_code::io, "writer not started");
    return *impl_->writer;
}

commit_result store::commit_now(tick_commit commit) {
    detail::validate_commit(commit);
    const std::string what = fmt::format("committing run {} of vigy {}", commit.run.id, commit.run.vigy_id);
    return impl_->write(what, [&](soci::session& sql) {
        for (bool careful : {false, true}) {
            try {
                immediate_tx tx(sql, impl_->path);
                impl_->sync_applier->begin_batch();
                commit_result r = impl_->sync_applier->apply(commit, impl_->path, careful);
                tx.commit();
                return r;
            } catch (const detail::needs_savepoints&) {
                // rolled back; the careful pass reports why it failed
            }
        }
        throw error(error_code::io, "commit failed without a reason");  // unreachable: careful never throws that
    });
}

// ---------------------------------------------------------------------------------
// reads

std::vector<run_record> store::recent_runs(std::string_view vigy_id, std::size_t limit) {
    return impl_->read("reading runs", [&](soci::session& sql) {
        const std::string v(vigy_id);
        long long n = static_cast<long long>(limit);
        return select_rows<run_cols, run_record>(sql, std::string(run_columns) + "WHERE vigy_id = :v ORDER BY seq DESC LIMIT :n",
                                                 soci::use(v), soci::use(n));
    });
}

std::vector<run_record> store::runs_after(std::int64_t after_seq, std::string_view vigy_id, std::size_t limit) {
    return impl_->read("reading runs", [&](soci::session& sql) {
        const std::string v(vigy_id);
        long long after = after_seq;
        long long n = static_cast<long long>(limit);
        if (v.empty())
            return select_rows<run_cols, run_record>(sql, std::string(run_columns) + "WHERE seq > :s ORDER BY seq LIMIT :n",
                                                     soci::use(after), soci::use(n));
        return select_rows<run_cols, run_record>(
            sql, std::string(run_columns) + "WHERE vigy_id = :v AND seq > :s ORDER BY seq LIMIT :n", soci::use(v),
            soci::use(after), soci::use(n));
    });
}

std::optional<run_record> store::get_run(std::string_view run_id) {
    return impl_->read("reading a run", [&](soci::session& sql) -> std::optional<run_record> {
        const std::string id(run_id);
        auto rows = select_rows<run_cols, run_record>(sql, std::string(run_columns) + "WHERE id = :i", soci::use(id));
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    });
}

std::int64_t store::last_seq() {
    return impl_->read("reading the last run", [](soci::session& sql) {
        long long seq = 0;
        soci::indicator ind = soci::i_null;
        sql << "SELECT max(seq) FROM runs", soci::into(seq, ind);
        return static_cast<std::int64_t>(ind == soci::i_ok ? seq : 0);
    });
}

std::int64_t store::count_runs(std::string_view vigy_id) {
    return impl_->read("counting runs", [&](soci::session& sql) {
        long long n = 0;
        const std::string v(vigy_id);
        if (v.empty())
            sql << "SELECT count(*) FROM runs", soci::into(n);
        else
            sql << "SELECT count(*) FROM runs WHERE vigy_id = :v", soci::into(n), soci::use(v);
        return static_cast<std::int64_t>(n);
    });
}

std::map<std::string, std::string> store::kv(std::string_view vigy_id) {
    return impl_->read("reading kv", [&](soci::session& sql) {
        std::map<std::string, std::string> out;
        const std::string v(vigy_id);
        std::string key, value;
        soci::statement st = (sql.prepare << "SELECT key, value_json FROM kv WHERE vigy_id = :v", soci::into(key),
                              soci::into(value), soci::use(v));
        st.execute();
        while (st.fetch()) out.emplace(key, value);
        return out;
    });
}

std::vector<kv_record> store::kv_entries(std::string_view vigy_id) {
    return impl_->read("reading kv", [&](soci::session& sql) {
        std::vector<kv_record> out;
        const std::string v(vigy_id);
        kv_record e;
        soci::statement st = (sql.prepare << "SELECT key, value_json, updated_at FROM kv WHERE vigy_id = :v ORDER BY key",
                              soci::into(e.key), soci::into(e.value_json), soci::into(e.updated_at), soci::use(v));
        st.execute();
        while (st.fetch()) out.push_back(e);
        return out;
    });
}

std::vector<condition_record> store::conditions(std::string_view vigy_id) {
    return impl_->read("reading conditions", [&](soci::session& sql) {
        std::vector<condition_record> out;
        condition_record c;
        const std::string v(vigy_id);
        soci::statement st = (sql.prepare << "SELECT vigy_id, name, status, reason, message, last_transition, "
                                             "updated_at, run_id FROM conditions WHERE vigy_id = :v ORDER BY name",
                              soci::into(c.vigy_id), soci::into(c.name), soci::into(c.status), soci::into(c.reason),
                              soci::into(c.message), soci::into(c.last_transition), soci::into(c.updated_at),
                              soci::into(c.run_id), soci::use(v));
        st.execute();
        while (st.fetch()) out.push_back(c);
        return out;
    });
}

std::vector<event_record> store::events(std::string_view vigy_id, std::size_t limit) {
    return impl_->read("reading events", [&](soci::session& sql) {
        std::vector<event_record> out;
        event_record e;
        long long id = 0, count = 0;
        const std::string v(vigy_id);
        long long n = static_cast<long long>(limit);
        const std::string where = v.empty() ? "" : "WHERE vigy_id = :v ";
        soci::details::prepare_temp_type p =
            (sql.prepare << "SELECT id, vigy_id, type, reason, message, count, first_seen, last_seen, run_id FROM events " +
                                where + "ORDER BY last_seen DESC, id DESC LIMIT :n");
        p, soci::into(id), soci::into(e.vigy_id), soci::into(e.type), soci::into(e.reason), soci::into(e.message),
            soci::into(count), soci::into(e.first_seen), soci::into(e.last_seen), soci::into(e.run_id);
        if (!v.empty()) p, soci::use(v);
        p, soci::use(n);
        soci::statement st(p);
        st.execute();
        while (st.fetch()) {
            e.id = id;
            e.count = count;
            out.push_back(e);
        }
        return out;
    });
}

// ---------------------------------------------------------------------------------
// lease

bool store::acquire_lease(std::string_view owner, std::int64_t pid, std::string_view host, std::int64_t ttl_ms) {
    if (owner.empty()) throw error(error_code::invalid_argument, "lease owner must not be empty");
    if (ttl_ms <= 0) throw error(error_code::invalid_argument, "lease ttl must be > 0 ms");
    return impl_->write("acquiring the scheduler lease", [&](soci::session& sql) {
        immediate_tx tx(sql, impl_->path);
        const long long now = now_unix_ms();
        const long long expires = now + ttl_ms;
        std::string holder;
        long long holder_expires = 0;
        sql << "SELECT owner, expires_ms FROM scheduler_lease WHERE id = 1", soci::into(holder), soci::into(holder_expires);
        const bool present = sql.got_data();
        const std::string o(owner), h(host);
        long long p = pid;
        if (present && holder != o && holder_expires > now) {
            tx.commit();
            return false;
        }
        if (present && holder == o) {
            sql << "UPDATE scheduler_lease SET heartbeat_ms = :n, expires_ms = :e, pid = :p, host = :h WHERE id = 1",
                soci::use(now), soci::use(expires), soci::use(p), soci::use(h);
        } else {
            sql << "INSERT OR REPLACE INTO scheduler_lease(id, owner, pid, host, acquired_ms, heartbeat_ms, expires_ms) "
                   "VALUES (1, :o, :p, :h, :a, :n, :e)",
                soci::use(o), soci::use(p), soci::use(h), soci::use(now), soci::use(now), soci::use(expires);
        }
        tx.commit();
        return true;
    });
}

bool store::take_over_lease(std::string_view dead_owner, std::string_view owner, std::int64_t pid,
                            std::string_view host, std::int64_t ttl_ms) {
    if (owner.empty() || dead_owner.empty())
        throw error(error_code::invalid_argument, "lease owner must not be empty");
    if (ttl_ms <= 0) throw error(error_code::invalid_argument, "lease ttl must be > 0 ms");
    return impl_->write("taking over the scheduler lease", [&](soci::session& sql) {
        const long long now = now_unix_ms();
        const long long expires = now + ttl_ms;
        const std::string d(dead_owner), o(owner), h(host);
        long long p = pid;
        // One statement: atomic against any other writer.
        sql << "UPDATE scheduler_lease SET owner = :o, pid = :p, host = :h, acquired_ms = :a, heartbeat_ms = :n, "
               "expires_ms = :e WHERE id = 1 AND owner = :d",
            soci::use(o), soci::use(p), soci::use(h), soci::use(now), soci::use(now), soci::use(expires),
            soci::use(d);
        return detail::api_changes(sql) > 0;
    });
}

bool store::renew_lease(std::string_view owner, std::int64_t ttl_ms) {
    if (ttl_ms <= 0) throw error(error_code::invalid_argument, "lease ttl must be > 0 ms");
    return impl_->write("renewing the scheduler lease", [&](soci::session& sql) {
        immediate_tx tx(sql, impl_->path);
        const long long now = now_unix_ms();
        const long long expires = now + ttl_ms;
        const std::string o(owner);
        // Still ours (even if expired, nobody took it meanwhile): extend.
        sql << "UPDATE scheduler_lease SET heartbeat_ms = :n, expires_ms = :e WHERE id = 1 AND owner = :o",
            soci::use(now), soci::use(expires), soci::use(o);
        const bool ok = detail::api_changes(sql) > 0;
        tx.commit();
        return ok;
    });
}

void store::release_lease(std::string_view owner) {
    impl_->write("releasing the scheduler lease", [&](soci::session& sql) {
        const std::string o(owner);
        sql << "DELETE FROM scheduler_lease WHERE id = 1 AND owner = :o", soci::use(o);
        return 0;
    });
}

std::optional<lease_info> store::lease_holder() {
    return impl_->read("reading the scheduler lease", [&](soci::session& sql) -> std::optional<lease_info> {
        lease_info l;
        long long pid = 0, acq = 0, hb = 0, exp = 0;
        sql << "SELECT owner, pid, host, acquired_ms, heartbeat_ms, expires_ms FROM scheduler_lease WHERE id = 1",
            soci::into(l.owner), soci::into(pid), soci::into(l.host), soci::into(acq), soci::into(hb), soci::into(exp);
        if (!sql.got_data() || exp <= now_unix_ms()) return std::nullopt;
        l.pid = pid;
        l.acquired_ms = acq;
        l.heartbeat_ms = hb;
        l.expires_ms = exp;
        return l;
    });
}

// ---------------------------------------------------------------------------------
// tick requests

namespace {
struct request_cols {
    tick_request r;
    long long id = 0, req = 0, claimed = 0, done = 0;
    void bind(soci::details::prepare_temp_type& p) {
        p, soci::into(id), soci::into(r.vigy_id), soci::into(r.requester), soci::into(r.state), soci::into(req),
            soci::into(claimed), soci::into(done), soci::into(r.run_id), soci::into(r.error);
    }
    [[nodiscard]] tick_request record() const {
        tick_request out = r;
        out.id = id;
        out.requested_ms = req;
        out.claimed_ms = claimed;
        out.done_ms = done;
        return out;
    }
};
const char* const request_columns =
    "SELECT id, vigy_id, requester, state, requested_ms, claimed_ms, done_ms, run_id, error FROM tick_requests ";
}  // namespace

std::int64_t store::enqueue_tick_request(std::string_view vigy_id, std::string_view requester) {
    return impl_->write(fmt::format("requesting a tick of vigy {}", vigy_id), [&](soci::session& sql) {
        immediate_tx tx(sql, impl_->path);
        const std::string v(vigy_id), who(requester);
        long long exists = 0;
        sql << "SELECT count(*) FROM vigies WHERE id = :v", soci::into(exists), soci::use(v);
        if (exists == 0) throw error(error_code::not_found, fmt::format("vigy \"{}\" not found", vigy_id));
        const long long now = now_unix_ms();
        sql << "INSERT INTO tick_requests(vigy_id, requester, state, requested_ms) VALUES (:v, :r, 'pending', :n)",
            soci::use(v), soci::use(who), soci::use(now);
        long long id = 0;
        sql.get_last_insert_id("tick_requests", id);
        tx.commit();
        return static_cast<std::int64_t>(id);
    });
}

std::vector<tick_request> store::claim_tick_requests(std::size_t limit) {
    return impl_->write("claiming tick requests", [&](soci::session& sql) {
        // Polled often by the scheduler: take the write lock only when there is work.
        long long pending = 0;
        sql << "SELECT count(*) FROM tick_requests WHERE state = 'pending'", soci::into(pending);
        if (pending == 0) return std::vector<tick_request>{};
        immediate_tx tx(sql, impl_->path);
        long long n = static_cast<long long>(limit);
        auto rows = select_rows<request_cols, tick_request>(
            sql, std::string(request_columns) + "WHERE state = 'pending' ORDER BY id LIMIT :n", soci::use(n));
        const long long now = now_unix_ms();
        for (auto& r : rows) {
            long long id = r.id;
            sql << "UPDATE tick_requests SET state = 'claimed', claimed_ms = :n WHERE id = :i", soci::use(now), soci::use(id);
            r.state = "claimed";
            r.claimed_ms = now;
        }
        tx.commit();
        return rows;
    });
}

void store::complete_tick_request(std::int64_t request_id, std::string_view run_id, std::string_view err) {
    impl_->write("completing a tick request", [&](soci::session& sql) {
        long long id = request_id;
        const long long now = now_unix_ms();
        const std::string run(run_id), e(err);
        const std::string state = e.empty() ? "done" : "failed";
        sql << "UPDATE tick_requests SET state = :s, done_ms = :n, run_id = :r, error = :e WHERE id = :i",
            soci::use(state), soci::use(now), soci::use(run), soci::use(e), soci::use(id);
        if (detail::api_changes(sql) == 0)
            throw error(error_code::not_found, fmt::format("tick request {} not found", request_id));
        return 0;
    });
}

std::optional<tick_request> store::get_tick_request(std::int64_t request_id) {
    return impl_->read("reading a tick request", [&](soci::session& sql) -> std::optional<tick_request> {
        long long id = request_id;
        auto rows = select_rows<request_cols, tick_request>(sql, std::string(request_columns) + "WHERE id = :i", soci::use(id));
        if (rows.empty()) return std::nullopt;
        return rows.front();
    });
}

// ---------------------------------------------------------------------------------
// maintenance

std::int64_t store::prune(const retention_policy& policy) {
    return impl_->write("pruning runs", [&](soci::session& sql) {
        std::int64_t total = 0;
        std::string cursor;
        for (;;) {
            immediate_tx tx(sql, impl_->path);
            const std::int64_t n = detail::prune_step(sql, policy, cursor);
            tx.commit();
            total += n;
            if (n == 0 && cursor.empty()) break;
        }
        return total;
    });
}

std::string store::integrity_check() {
    return impl_->read("checking integrity", [](soci::session& sql) {
        std::string result;
        sql << "PRAGMA integrity_check", soci::into(result);
        return result;
    });
}

}  // namespace vigy::store
