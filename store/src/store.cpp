// store/src/store.cpp — opening, vigies, the change feed, reads, the lease, tick
// requests and maintenance. General paths speak SOCI with portable SQL (the few
// differences go through backend.hpp's dialect helpers); the commit hot path,
// migrations and pruning go through the SQLite seam (sqlite.hpp, applier.hpp) or the
// PostgreSQL one (postgres.hpp).
#include "vigy/store/store.hpp"

#include "applier.hpp"
#include "backend.hpp"
#include "codec.hpp"
#include "postgres.hpp"
#include "schema.hpp"
#include "sqlite.hpp"
#include "writer.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

namespace vigy::store {

namespace fs = std::filesystem;

namespace {

/// The statement that notifies `channel` (notify.hpp) at its transaction's commit.
const std::string& notify_sql(const char* channel) {
    static const std::string vigies = fmt::format("SELECT pg_notify('{}', '')", channel_vigies);
    static const std::string requests = fmt::format("SELECT pg_notify('{}', '')", channel_tick_requests);
    return std::string_view(channel) == channel_vigies ? vigies : requests;
}

constexpr std::int64_t max_i64 = INT64_MAX;

// ---- JSON columns ----------------------------------------------------------------

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

std::string grants_to_json(const std::vector<std::string>& grants) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& g : grants) w.String(g.data(), static_cast<rapidjson::SizeType>(g.size()));
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

std::vector<std::string> grants_from_json(const std::string& text) {
    std::vector<std::string> out;
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError() || !d.IsArray()) return out;
    for (const auto& g : d.GetArray())
        if (g.IsString()) out.emplace_back(g.GetString(), g.GetStringLength());
    return out;
}

bool looks_like_id(std::string_view s) {
    if (s.size() != 16) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

/// Sorted, deduplicated, validated grants.
std::vector<std::string> normalized_grants(const std::vector<std::string>& allow) {
    std::vector<std::string> out = allow;
    for (const std::string& g : out) {
        bool ok = !g.empty() && g.size() <= 253;
        for (char c : g)
            ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_');
        if (!ok)
            vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("invalid capability {:?}: expected a plugin id such as "
                                                          "io.pleme.mado (1..253 of [A-Za-z0-9._-])",
                                                          g.substr(0, 300)));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void validate_spec(const vigy_spec& spec) {
    validate_name(spec.name);
    if (spec.kind.empty())
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("vigy \"{}\": reconciler kind must not be empty", spec.name));
    if (spec.interval_ms < min_interval_ms)
        vigy::fail(VIGY_INVALID_ARGUMENT,
                   fmt::format("invalid tick interval {} ms: must be >= {}", spec.interval_ms, min_interval_ms));
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(spec.config_json.c_str(), spec.config_json.size());
    if (d.HasParseError() && d.GetParseError() == rapidjson::kParseErrorStringInvalidEncoding)
        vigy::fail(VIGY_INVALID_ARGUMENT,
                   fmt::format("vigy \"{}\": config is not valid UTF-8 near byte {}; nothing was "
                               "written",
                               spec.name, d.GetErrorOffset()));
    if (d.HasParseError())
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("config is not valid json at offset {}", d.GetErrorOffset()));
    if (!d.IsObject()) vigy::fail(VIGY_INVALID_ARGUMENT, "config must be a JSON object");
    validate_labels(spec.labels);
    if (spec.schedule_json.size() > 65536)
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("vigy \"{}\": schedule is too large ({} bytes, at most 65536)",
                                                      spec.name, spec.schedule_json.size()));
    const auto& l = spec.limits;
    for (std::uint64_t v : {l.fuel, l.wall_ms, l.memory_bytes, l.max_depth})
        if (v > static_cast<std::uint64_t>(max_i64))
            vigy::fail(VIGY_INVALID_ARGUMENT,
                       fmt::format("vigy \"{}\": limit {} is too large (at most {})", spec.name, v, max_i64));
}

/// Sets one condition of a vigy outside a tick (run_seq 0), Kubernetes-style:
/// last_transition_ms moves only when the status changes.
void upsert_condition(soci::session& sql, long long vid, const condition_update& c, long long now) {
    sql << "INSERT INTO conditions(vid, type, status, reason, message, last_transition_ms, updated_ms, run_seq) "
           "VALUES (:v, :t, :s, :r, :m, :n, :n2, 0) ON CONFLICT(vid, type) DO UPDATE SET "
           "last_transition_ms = CASE WHEN conditions.status = excluded.status THEN conditions.last_transition_ms "
           "ELSE excluded.last_transition_ms END, status = excluded.status, reason = excluded.reason, "
           "message = excluded.message, updated_ms = excluded.updated_ms, run_seq = 0",
        soci::use(vid), soci::use(c.type), soci::use(c.status), soci::use(c.reason), soci::use(c.message),
        soci::use(now), soci::use(now);
}

/// A vigy leaving Degraded: its condition Degraded becomes False.
void clear_degraded(soci::session& sql, long long vid, long long now, const char* reason) {
    upsert_condition(sql, vid, condition_update{"Degraded", "False", reason, "supervision cleared"}, now);
}

// ---- row binding ----

const char* const vigy_columns =
    "SELECT vid, id, name, kind, config_json, revision, interval_ms, enabled, labels_json, grants_json, fuel, "
    "wall_ms, memory_bytes, max_depth, created_ms, updated_ms, resource_version, deleted, schedule_json, state, "
    "state_reason, state_ms FROM vigies ";

struct vigy_cols {
    std::string id, name, kind, config, revision, labels, grants, schedule, state, state_reason;
    long long vid = 0, interval = 0, enabled = 0, fuel = 0, wall = 0, mem = 0, depth = 0, created = 0, updated = 0,
              rv = 0, deleted = 0, state_ms = 0;

    void bind(soci::details::prepare_temp_type& p) {
        p, soci::into(vid), soci::into(id), soci::into(name), soci::into(kind), soci::into(config),
            soci::into(revision), soci::into(interval), soci::into(enabled), soci::into(labels), soci::into(grants),
            soci::into(fuel), soci::into(wall), soci::into(mem), soci::into(depth), soci::into(created),
            soci::into(updated), soci::into(rv), soci::into(deleted), soci::into(schedule), soci::into(state),
            soci::into(state_reason), soci::into(state_ms);
    }
    [[nodiscard]] vigy_record record() const {
        vigy_record r;
        r.key = vid;
        r.id = id;
        r.name = name;
        r.kind = kind;
        r.config_json = config;
        r.revision = revision;
        r.interval_ms = interval;
        r.enabled = enabled != 0;
        r.labels = labels_from_json(labels);
        r.allow = grants_from_json(grants);
        auto u = [](long long v) { return static_cast<std::uint64_t>(std::max<long long>(0, v)); };
        r.limits = {u(fuel), u(wall), u(mem), u(depth)};
        r.created_ms = created;
        r.updated_ms = updated;
        r.resource_version = rv;
        r.schedule_json = schedule;
        r.state = state.empty() ? std::string(state_enabled) : state;
        r.state_reason = state_reason;
        r.state_ms = state_ms;
        return r;
    }
};

/// A row with its kept-history flag.
struct vigy_row {
    vigy_record v;
    bool deleted = false;
};
struct vigy_row_cols : vigy_cols {
    [[nodiscard]] vigy_row record() const { return {vigy_cols::record(), deleted != 0}; }
};

std::string run_columns(backend b) {
    return "SELECT r.seq, " + dialect::hex_of(b, "r.run_id") +
           ", v.id, v.name, r.revision, r.run_trigger, r.started_ms, r.ended_ms, r.duration_us, "
           "r.lateness_us, r.result, r.tick_count, r.status, r.error, r.body, r.trigger_kind, r.trigger_json "
           "FROM runs r JOIN vigies v ON v.vid = r.vid ";
}

struct run_cols {
    std::string run_hex, vigy_id, vigy_name, error, body, trigger_kind, trigger_json;
    soci::indicator tk_ind = soci::i_null, tj_ind = soci::i_null;
    long long seq = 0, revision = 0, trigger = 0, started = 0, ended = 0, duration = 0, lateness = 0, result = 0,
              tick_count = 0, status = 0;
    soci::indicator error_ind = soci::i_null, body_ind = soci::i_null;

    void bind(soci::details::prepare_temp_type& p) {
        p, soci::into(seq), soci::into(run_hex), soci::into(vigy_id), soci::into(vigy_name), soci::into(revision),
            soci::into(trigger), soci::into(started), soci::into(ended), soci::into(duration), soci::into(lateness),
            soci::into(result), soci::into(tick_count), soci::into(status), soci::into(error, error_ind),
            soci::into(body, body_ind), soci::into(trigger_kind, tk_ind), soci::into(trigger_json, tj_ind);
    }
    [[nodiscard]] run_record record() const {
        run_record r;
        r.seq = seq;
        codec::uuid u{};
        std::string text;
        text.reserve(36);
        for (std::size_t i = 0; i < 32 && i < run_hex.size(); ++i) {
            if (i == 8 || i == 12 || i == 16 || i == 20) text += '-';
            text += static_cast<char>(std::tolower(static_cast<unsigned char>(run_hex[i])));
        }
        r.id = codec::parse_uuid(text, u) ? text : run_hex;
        r.vigy_id = vigy_id;
        r.vigy_name = vigy_name;
        codec::format_hex64(revision, r.revision);
        r.trigger = trigger == 1 ? run_trigger::forced : run_trigger::schedule;
        r.started_ms = started;
        r.ended_ms = ended;
        r.duration_us = duration;
        r.lateness_us = lateness;
        r.result = result == 0 ? run_result::ok : result == 1 ? run_result::failed : run_result::skipped;
        r.tick_count = tick_count;
        r.status = static_cast<vigy_status>(status);
        if (error_ind == soci::i_ok) r.error = error;
        if (body_ind == soci::i_ok) codec::read_body(body, r);
        if (tk_ind == soci::i_ok) r.trigger_kind = trigger_kind;
        if (tj_ind == soci::i_ok) r.trigger_json = trigger_json;
        return r;
    }
};

std::string request_columns(backend b);  // with the tick requests below

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

/// SQL literal of a parsed run id (hex digits only, so safe to splice into SQL).
std::string blob_literal(backend k, const codec::uuid& u) {
    std::string hex32;
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned char b : u) {
        hex32 += hex[b >> 4];
        hex32 += hex[b & 0xf];
    }
    return dialect::bytes_literal(k, hex32);
}

std::string temp_db_path() {
    std::random_device rd;
    return (fs::temp_directory_path() / fmt::format("vigy-mem-{:08x}{:08x}.db", rd(), rd())).string();
}

/// RAII transaction on a SOCI session (a write transaction holding the write lock, or
/// a read transaction on one snapshot: dialect::begin_write/begin_read); rolls back
/// unless committed.
class soci_tx {
public:
    soci_tx(soci::session& sql, backend b, bool write) : sql_(sql) {
        sql_ << (write ? dialect::begin_write(b) : dialect::begin_read(b));
        if (write && b == backend::postgresql) {
            try {
                int one = 0;
                sql_ << dialect::write_lock(b), soci::into(one);
            } catch (...) {
                // No destructor runs for a half-built object: end the aborted transaction
                // here, or every later statement on this session fails (SQLSTATE 25P02).
                try {
                    sql_ << "ROLLBACK";
                } catch (...) {
                }
                throw;
            }
        }
    }
    ~soci_tx() {
        if (open_) {
            try {
                sql_ << "ROLLBACK";
            } catch (...) {
            }
        }
    }
    soci_tx(const soci_tx&) = delete;
    soci_tx& operator=(const soci_tx&) = delete;
    void commit() {
        sql_ << "COMMIT";
        open_ = false;
    }

private:
    soci::session& sql_;
    bool open_ = true;
};

[[noreturn]] void not_found(std::string_view name_or_id) {
    vigy::fail(VIGY_NOT_FOUND, fmt::format("vigy {:?} not found", name_or_id));
}

void check_expected(const vigy_record& v, std::optional<std::int64_t> expected) {
    if (expected && v.resource_version != *expected)
        vigy::fail(VIGY_ABORTED, fmt::format("vigy \"{}\" was changed (resource version {}, expected {}); nothing "
                                             "was written",
                                             v.name, v.resource_version, *expected));
}

constexpr const char* continue_prefix = "v3.";

std::string encode_continue(const std::string& name) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = continue_prefix;
    for (unsigned char c : name) {
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
    return out;
}

std::string decode_continue(std::string_view token) {
    auto bad = [&] {
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("invalid continue token {:?}", token.substr(0, 80)));
    };
    if (token.substr(0, 3) != continue_prefix || token.size() % 2 != 1) bad();
    std::string out;
    for (std::size_t i = 3; i + 1 < token.size(); i += 2) {
        auto h = [&](char c) {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            bad();
            return 0;
        };
        out += static_cast<char>(h(token[i]) << 4 | h(token[i + 1]));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------
// impl

struct store::impl {
    open_options options;
    database db;       // backend, what connects, what messages show
    std::string path;  // db.display (SQLite: the file, ":memory:" resolved to its temp file)
    bool temporary = false;
    std::string run_select, request_select;  // SELECT ... FROM runs / tick_requests in this dialect

    // PostgreSQL: the session and applier of commit_now and prune (native/native_applier's role)
    std::unique_ptr<soci::session> pg_native;
    std::unique_ptr<postgres::applier> pg_applier;

    std::mutex write_mutex;  // guards write_sql
    std::unique_ptr<soci::session> write_sql;

    std::mutex native_mutex;  // guards native, applier (commit_now, prune)
    std::unique_ptr<sqlite::connection> native;
    std::unique_ptr<detail::applier> native_applier;

    std::mutex read_mutex;
    std::condition_variable read_cv;
    std::vector<std::unique_ptr<soci::session>> read_sessions;
    std::vector<soci::session*> read_free;

    std::unique_ptr<class writer> writer;
    std::shared_ptr<detail::write_gate> gate = std::make_shared<detail::write_gate>();

    // change_seq(): a few native connections, each with the statement prepared once
    // (opened on first use). It is the API's per-request freshness check, so it must cost
    // a step, not a parse, and concurrent callers (the API's event-loop threads) must not
    // queue on one mutex; statements are reset after each read, so no snapshot is held.
    struct seq_reader {
        std::mutex mu;
        std::unique_ptr<sqlite::connection> conn;
        sqlite::statement stmt;
        std::unique_ptr<soci::session> pg;  // PostgreSQL: a session of its own
    };
    static constexpr std::size_t seq_readers = 4;
    std::array<seq_reader, seq_readers> seq;

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

    /// Runs `fn`, mapping every failure to status_error naming the path and `what`.
    template <class Fn>
    auto guarded(std::string_view what, Fn&& fn) -> decltype(fn()) {
        try {
            return fn();
        } catch (...) {
            if (db.kind == backend::postgresql) postgres::rethrow(path, what);
            sqlite::rethrow(path, what);
        }
    }

    /// PostgreSQL: reconnects `sql` when its connection was lost (the statement that met
    /// the loss failed UNAVAILABLE; this is the next use). A no-op for SQLite.
    void revive(soci::session& sql) {
        if (db.kind == backend::postgresql) postgres::revive(sql, db, options.busy_timeout_ms);
    }

    /// PostgreSQL: revives the synchronous session and prepares a new applier on it.
    void revive_native() {
        if (!postgres::connection_lost(*pg_native)) return;
        pg_applier.reset();  // its statements belong to the lost connection
        postgres::revive(*pg_native, db, options.busy_timeout_ms);
        pg_applier = std::make_unique<postgres::applier>(*pg_native, path);
    }

    template <class Fn>
    auto write(std::string_view what, Fn&& fn) -> decltype(fn(*write_sql)) {
        detail::write_gate::ticket first(*gate);  // before the batch writer's next batch
        std::lock_guard lock(write_mutex);
        return guarded(what, [&] {
            revive(*write_sql);
            return fn(*write_sql);
        });
    }

    template <class Fn>
    auto read(std::string_view what, Fn&& fn) -> decltype(fn(*write_sql)) {
        read_lease lease(*this);
        return guarded(what, [&] {
            revive(*lease);
            if (db.kind != backend::postgresql) return fn(*lease);
            try {
                return fn(*lease);
            } catch (...) {
                // A read that met a lost connection is safe to repeat once on a new one.
                if (!postgres::connection_lost(*lease)) throw;
            }
            revive(*lease);
            return fn(*lease);
        });
    }

    template <class Fn>
    auto native_op(std::string_view what, Fn&& fn) -> decltype(fn(*native)) {
        detail::write_gate::ticket first(*gate);
        std::lock_guard lock(native_mutex);
        return guarded(what, [&] { return fn(*native); });
    }

    /// Bumps change_seq, appends the change and notifies it (same transaction as the change itself).
    static long long record_change(soci::session& sql, long long vid, const std::string& id, const std::string& name,
                                   change_type type) {
        long long seq = 0;
        sql << "UPDATE store_meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value", soci::into(seq);
        const long long t = static_cast<long long>(type), now = now_unix_ms();
        sql << "INSERT INTO vigy_changes(seq, vid, id, name, type, at_ms) VALUES (:s, :v, :i, :n, :t, :a)",
            soci::use(seq), soci::use(vid), soci::use(id), soci::use(name), soci::use(t), soci::use(now);
        // PostgreSQL delivers it at commit only (notify.hpp): listeners re-read the feed
        // at once instead of at their next poll of change_seq.
        if (sql.get_backend_name() == "postgresql") sql << notify_sql(channel_vigies);
        return seq;
    }

    /// A live vigy by exact name, then by id.
    static std::optional<vigy_record> find(soci::session& sql, std::string_view name_or_id) {
        const std::string key(name_or_id);
        auto rows = select_rows<vigy_cols, vigy_record>(
            sql, std::string(vigy_columns) + "WHERE name = :n AND deleted = 0", soci::use(key));
        if (rows.empty() && looks_like_id(key))
            rows = select_rows<vigy_cols, vigy_record>(sql, std::string(vigy_columns) + "WHERE id = :i AND deleted = 0",
                                                       soci::use(key));
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    }

    /// Any row (live or kept history) by key.
    static std::optional<vigy_record> by_key(soci::session& sql, long long vid) {
        auto rows =
            select_rows<vigy_cols, vigy_record>(sql, std::string(vigy_columns) + "WHERE vid = :v", soci::use(vid));
        if (rows.empty()) return std::nullopt;
        return std::move(rows.front());
    }
};

// ---------------------------------------------------------------------------------
// open / close

store::store(open_options options) : impl_(std::make_unique<impl>()) {
    impl& m = *impl_;
    m.options = std::move(options);
    if (m.options.path.empty()) vigy::fail(VIGY_INVALID_ARGUMENT, "database path must not be empty");
    m.db = parse_database(m.options.path);  // a URL: no file system access below
    m.run_select = run_columns(m.db.kind);
    m.request_select = request_columns(m.db.kind);
    if (m.options.busy_timeout_ms < 0) m.options.busy_timeout_ms = 0;
    if (m.options.read_sessions == 0) m.options.read_sessions = 1;
    if (m.db.kind == backend::postgresql) {
        m.path = m.db.display;
        m.guarded("opening", [&] {
            m.pg_native = postgres::open_session(m.db, m.options.busy_timeout_ms);
            postgres::migrate(*m.pg_native, m.path);
            m.pg_applier = std::make_unique<postgres::applier>(*m.pg_native, m.path);
            m.write_sql = postgres::open_session(m.db, m.options.busy_timeout_ms);
            for (std::size_t i = 0; i < m.options.read_sessions; ++i) {
                m.read_sessions.push_back(postgres::open_session(m.db, m.options.busy_timeout_ms));
                m.read_free.push_back(m.read_sessions.back().get());
            }
        });
        if (m.options.start_writer) m.writer = detail::start_writer(m.db, m.options, m.gate);
        return;
    }
    if (m.options.path == ":memory:") {
        m.path = temp_db_path();
        m.temporary = true;
    } else {
        m.path = m.options.path;
    }
    m.db.target = m.path;
    m.db.display = m.path;
    if (!m.options.create_if_missing && !m.temporary) {
        std::error_code ec;
        if (!fs::exists(m.path, ec) && !ec)
            vigy::fail(VIGY_NOT_FOUND, fmt::format("database {} does not exist (nothing was created)", m.path));
    }
    // Directories 0700 and a new file 0600 whatever the umask; others' access is warned about.
    for (const auto& w : prepare_database_files(m.path)) {
        if (m.options.log)
            m.options.log(log_level::warning, w);
        else
            std::fprintf(stderr, "warning: %s\n", w.c_str());
    }
    m.guarded("opening", [&] {
        m.native = std::make_unique<sqlite::connection>(m.path, m.options.busy_timeout_ms);
        schema::migrate(*m.native);
        m.native_applier = std::make_unique<detail::applier>(*m.native);
        m.write_sql = sqlite::open_session(m.path, m.options.busy_timeout_ms);
        for (std::size_t i = 0; i < m.options.read_sessions; ++i) {
            m.read_sessions.push_back(sqlite::open_session(m.path, m.options.busy_timeout_ms));
            m.read_free.push_back(m.read_sessions.back().get());
        }
    });
    if (m.options.start_writer) m.writer = detail::start_writer(m.db, m.options, m.gate);
}

store::~store() {
    if (!impl_) return;
    if (impl_->writer) impl_->writer->stop();
    impl_->writer.reset();
    impl_->read_free.clear();
    impl_->read_sessions.clear();
    for (auto& r : impl_->seq) {
        std::lock_guard lock(r.mu);
        r.stmt = sqlite::statement();
        r.conn.reset();
        r.pg.reset();
    }
    impl_->write_sql.reset();
    impl_->native_applier.reset();
    impl_->native.reset();
    impl_->pg_applier.reset();
    impl_->pg_native.reset();
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

register_result store::register_or_update(const vigy_spec& spec, std::optional<std::int64_t> expected) {
    validate_spec(spec);
    const std::vector<std::string> grants = normalized_grants(spec.allow);
    const std::string what = fmt::format("registering vigy \"{}\"", spec.name);
    return impl_->write(what, [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, true);
        register_result res;
        const std::string revision = revision_for(spec.kind, spec.config_json);
        const std::string labels = labels_to_json(spec.labels);
        const std::string grants_json = grants_to_json(grants);
        const long long now = now_unix_ms();
        const std::string id = vigy_id_for(spec.name);
        // The row of this name, or a kept-history row of this id (a name deleted with
        // --keep-history, or history migrated without its vigy).
        auto rows = select_rows<vigy_row_cols, vigy_row>(sql, std::string(vigy_columns) + "WHERE name = :n",
                                                         soci::use(spec.name));
        if (rows.empty())
            rows =
                select_rows<vigy_row_cols, vigy_row>(sql, std::string(vigy_columns) + "WHERE id = :i", soci::use(id));
        if (!rows.empty() && !rows.front().deleted && rows.front().v.name != spec.name)
            vigy::fail(VIGY_ALREADY_EXISTS, fmt::format("vigy id {} for name \"{}\" collides with vigy \"{}\"", id,
                                                        spec.name, rows.front().v.name));
        const bool live = !rows.empty() && !rows.front().deleted;
        if (expected && !live)
            vigy::fail(VIGY_NOT_FOUND, fmt::format("vigy \"{}\" not found (expected at resource version {}); nothing "
                                                   "was written",
                                                   spec.name, *expected));
        long long interval = spec.interval_ms;
        long long fuel = static_cast<long long>(spec.limits.fuel), wall = static_cast<long long>(spec.limits.wall_ms),
                  mem = static_cast<long long>(spec.limits.memory_bytes),
                  depth = static_cast<long long>(spec.limits.max_depth);
        long long vid = 0;
        if (live) {
            const vigy_record& old = rows.front().v;
            check_expected(old, expected);
            vid = old.key;
            res.previous_revision = old.revision;
            res.revision_changed =
                old.revision != revision || old.kind != spec.kind || old.config_json != spec.config_json;
            const bool schedule_changed =
                old.schedule_json != spec.schedule_json || old.interval_ms != spec.interval_ms;
            // The lifecycle after a re-registration (vigy/host/supervision.hpp: reregister).
            std::string state = old.state;
            if (spec.enabled)
                state = *spec.enabled ? (old.state == state_disabled || res.revision_changed || schedule_changed ||
                                                 old.state == state_degraded
                                             ? std::string(state_enabled)
                                             : old.state)
                                      : std::string(state_disabled);
            else if ((old.state == state_completed || old.state == state_degraded) &&
                     (res.revision_changed || schedule_changed))
                state = state_enabled;
            const bool enabled = state != state_disabled;
            const bool changed = res.revision_changed || schedule_changed || old.labels != spec.labels ||
                                 old.limits != spec.limits || old.allow != grants || old.state != state;
            if (!changed) {
                res.outcome = register_outcome::unchanged;
                res.vigy = old;
                tx.commit();
                return res;
            }
            long long en = enabled ? 1 : 0;
            const long long rv = impl::record_change(sql, vid, id, spec.name, change_type::modified);
            const bool state_changed = old.state != state;
            const std::string reason = state_changed ? std::string() : old.state_reason;
            long long state_ms = state_changed ? now : static_cast<long long>(old.state_ms);
            if (state_changed && old.state == state_degraded) clear_degraded(sql, vid, now, "Reregistered");
            sql << "UPDATE vigies SET kind = :k, config_json = :c, revision = :r, interval_ms = :iv, enabled = :en, "
                   "labels_json = :l, grants_json = :g, fuel = :f, wall_ms = :w, memory_bytes = :m, max_depth = :d, "
                   "updated_ms = :u, resource_version = :rv, schedule_json = :s, state = :st, state_reason = :sr, "
                   "state_ms = :sm WHERE vid = :vid",
                soci::use(spec.kind), soci::use(spec.config_json), soci::use(revision), soci::use(interval),
                soci::use(en), soci::use(labels), soci::use(grants_json), soci::use(fuel), soci::use(wall),
                soci::use(mem), soci::use(depth), soci::use(now), soci::use(rv), soci::use(spec.schedule_json),
                soci::use(state), soci::use(reason), soci::use(state_ms), soci::use(vid);
            res.outcome = register_outcome::updated;
        } else {
            long long en = spec.enabled.value_or(true) ? 1 : 0;
            const std::string state = en ? state_enabled : state_disabled;
            if (!rows.empty()) {
                // Bring a kept history back under this name.
                vid = rows.front().v.key;
                const long long rv = impl::record_change(sql, vid, id, spec.name, change_type::added);
                sql << "UPDATE vigies SET name = :n, kind = :k, config_json = :c, revision = :r, interval_ms = :iv, "
                       "enabled = :en, labels_json = :l, grants_json = :g, fuel = :f, wall_ms = :w, memory_bytes = :m, "
                       "max_depth = :d, created_ms = :ca, updated_ms = :u, resource_version = :rv, deleted = 0, "
                       "schedule_json = :s, state = :st, state_reason = '', state_ms = :sm WHERE vid = :vid",
                    soci::use(spec.name), soci::use(spec.kind), soci::use(spec.config_json), soci::use(revision),
                    soci::use(interval), soci::use(en), soci::use(labels), soci::use(grants_json), soci::use(fuel),
                    soci::use(wall), soci::use(mem), soci::use(depth), soci::use(now), soci::use(now), soci::use(rv),
                    soci::use(spec.schedule_json), soci::use(state), soci::use(now), soci::use(vid);
            } else {
                sql << "INSERT INTO vigies(id, name, kind, config_json, revision, interval_ms, enabled, labels_json, "
                       "grants_json, fuel, wall_ms, memory_bytes, max_depth, created_ms, updated_ms, resource_version, "
                       "deleted, schedule_json, state, state_reason, state_ms) VALUES (:id, :n, :k, :c, :r, :iv, :en, "
                       ":l, :g, :f, :w, :m, :d, :ca, :ua, 0, 0, :s, :st, '', :sm) RETURNING vid",
                    soci::use(id), soci::use(spec.name), soci::use(spec.kind), soci::use(spec.config_json),
                    soci::use(revision), soci::use(interval), soci::use(en), soci::use(labels), soci::use(grants_json),
                    soci::use(fuel), soci::use(wall), soci::use(mem), soci::use(depth), soci::use(now), soci::use(now),
                    soci::use(spec.schedule_json), soci::use(state), soci::use(now), soci::into(vid);
                const long long rv = impl::record_change(sql, vid, id, spec.name, change_type::added);
                sql << "UPDATE vigies SET resource_version = :rv WHERE vid = :vid", soci::use(rv), soci::use(vid);
            }
            res.outcome = register_outcome::created;
            res.revision_changed = true;
        }
        if (res.revision_changed)
            sql << "INSERT INTO vigy_revisions(vid, revision, kind, config_json, created_ms) VALUES "
                   "(:v, :r, :k, :c, :t) ON CONFLICT DO NOTHING",
                soci::use(vid), soci::use(revision), soci::use(spec.kind), soci::use(spec.config_json), soci::use(now);
        res.vigy = *impl::by_key(sql, vid);
        tx.commit();
        return res;
    });
}

std::optional<vigy_record> store::find_vigy(std::string_view name_or_id) {
    return impl_->read(fmt::format("looking up vigy {:?}", name_or_id),
                       [&](soci::session& sql) { return impl::find(sql, name_or_id); });
}

vigy_record store::get_vigy(std::string_view name_or_id) {
    auto v = find_vigy(name_or_id);
    if (!v) not_found(name_or_id);
    return std::move(*v);
}

std::vector<vigy_record> store::list_vigies(const label_selector& selector) {
    auto all = impl_->read("listing vigies", [&](soci::session& sql) {
        return select_rows<vigy_cols, vigy_record>(sql, std::string(vigy_columns) + "WHERE deleted = 0 ORDER BY name");
    });
    if (selector.empty()) return all;
    std::vector<vigy_record> out;
    for (auto& v : all)
        if (selector.matches(v.labels)) out.push_back(std::move(v));
    return out;
}

vigy_page store::list_page(const label_selector& selector, std::size_t limit, std::string_view continue_token) {
    const std::string after = continue_token.empty() ? std::string() : decode_continue(continue_token);
    return impl_->read("listing vigies", [&](soci::session& sql) {
        vigy_page page;
        soci_tx tx(sql, impl_->db.kind, false);  // one snapshot: pages and resource_version agree
        long long seq = 0;
        sql << "SELECT value FROM store_meta WHERE key = 'change_seq'", soci::into(seq);
        page.resource_version = seq;
        std::string cursor = after;
        const long long chunk = limit == 0 ? 100000 : static_cast<long long>(std::max<std::size_t>(limit + 1, 64));
        for (;;) {
            auto rows = select_rows<vigy_cols, vigy_record>(
                sql, std::string(vigy_columns) + "WHERE deleted = 0 AND name > :a ORDER BY name LIMIT :n",
                soci::use(cursor), soci::use(chunk));
            for (auto& v : rows) {
                if (!selector.matches(v.labels)) continue;
                page.items.push_back(std::move(v));
                if (limit != 0 && page.items.size() > limit) break;
            }
            if (limit != 0 && page.items.size() > limit) {
                page.items.pop_back();
                page.continue_token = encode_continue(page.items.back().name);
                break;
            }
            if (static_cast<long long>(rows.size()) < chunk) break;
            cursor = rows.back().name;
        }
        tx.commit();
        return page;
    });
}

vigy_record store::set_enabled(std::string_view name_or_id, bool enabled, std::optional<std::int64_t> expected) {
    const std::string what = fmt::format("{} vigy {:?}", enabled ? "enabling" : "disabling", name_or_id);
    return impl_->write(what, [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, true);
        auto v = impl::find(sql, name_or_id);
        if (!v) not_found(name_or_id);
        check_expected(*v, expected);
        const std::string state = !enabled                      ? std::string(state_disabled)
                                  : v->state == state_completed ? std::string(state_completed)
                                                                : std::string(state_enabled);
        if (v->state != state) {
            long long vid = v->key, en = enabled ? 1 : 0, now = now_unix_ms();
            const long long rv = impl::record_change(sql, vid, v->id, v->name, change_type::modified);
            if (v->state == state_degraded) clear_degraded(sql, vid, now, enabled ? "Enabled" : "Disabled");
            sql << "UPDATE vigies SET enabled = :e, updated_ms = :u, resource_version = :rv, state = :st, "
                   "state_reason = '', state_ms = :sm WHERE vid = :v",
                soci::use(en), soci::use(now), soci::use(rv), soci::use(state), soci::use(now), soci::use(vid);
            v = impl::by_key(sql, vid);
        }
        tx.commit();
        return std::move(*v);
    });
}

vigy_record store::set_state(std::string_view name_or_id, std::string_view state, std::string_view reason,
                             const std::vector<std::string>& only_from, const std::optional<condition_update>& cond) {
    const std::string st(state), why(reason);
    if (st != state_enabled && st != state_disabled && st != state_degraded && st != state_completed)
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("unknown lifecycle state {:?} (known: Enabled, Disabled, "
                                                      "Degraded, Completed)",
                                                      st));
    const std::string what = fmt::format("setting vigy {:?} {}", name_or_id, st);
    return impl_->write(what, [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, true);
        auto v = impl::find(sql, name_or_id);
        if (!v) not_found(name_or_id);
        if (!only_from.empty() && std::find(only_from.begin(), only_from.end(), v->state) == only_from.end()) {
            tx.commit();
            return std::move(*v);
        }
        long long vid = v->key, en = st != state_disabled ? 1 : 0, now = now_unix_ms();
        const long long rv = impl::record_change(sql, vid, v->id, v->name, change_type::modified);
        sql << "UPDATE vigies SET enabled = :e, updated_ms = :u, resource_version = :rv, state = :st, "
               "state_reason = :sr, state_ms = :sm WHERE vid = :v",
            soci::use(en), soci::use(now), soci::use(rv), soci::use(st), soci::use(why), soci::use(now), soci::use(vid);
        if (cond) upsert_condition(sql, vid, *cond, now);
        v = impl::by_key(sql, vid);
        tx.commit();
        return std::move(*v);
    });
}

vigy_record store::delete_vigy(std::string_view name_or_id, bool keep_history, std::optional<std::int64_t> expected) {
    const std::string what = fmt::format("deleting vigy {:?}", name_or_id);
    return impl_->write(what, [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, true);
        auto v = impl::find(sql, name_or_id);
        if (!v) not_found(name_or_id);
        check_expected(*v, expected);
        long long vid = v->key, now = now_unix_ms();
        const long long rv = impl::record_change(sql, vid, v->id, v->name, change_type::deleted);
        sql << "UPDATE tick_requests SET state = 'failed', error_code = 5, error = 'vigy deleted', done_ms = :n "
               "WHERE vid = :v AND state IN ('pending', 'claimed')",
            soci::use(now), soci::use(vid);
        if (keep_history) {
            sql << "UPDATE vigies SET deleted = 1, enabled = 0, updated_ms = :u, resource_version = :rv WHERE vid = :v",
                soci::use(now), soci::use(rv), soci::use(vid);
        } else {
            sql << "DELETE FROM vigies WHERE vid = :v", soci::use(vid);
            for (const char* table : {"runs", "kv", "conditions", "events", "vigy_revisions", "tick_marks"})
                sql << fmt::format("DELETE FROM {} WHERE vid = :v", table), soci::use(vid);
        }
        tx.commit();
        v->resource_version = rv;
        return std::move(*v);
    });
}

std::optional<std::pair<std::string, std::string>> store::get_revision(std::string_view vigy_id,
                                                                       std::string_view revision) {
    return impl_->read("reading a revision",
                       [&](soci::session& sql) -> std::optional<std::pair<std::string, std::string>> {
                           std::string kind, config;
                           const std::string v(vigy_id), r(revision);
                           sql << "SELECT kind, config_json FROM vigy_revisions WHERE vid = (SELECT vid FROM vigies "
                                  "WHERE id = :v) AND "
                                  "revision = :r",
                               soci::into(kind), soci::into(config), soci::use(v), soci::use(r);
                           if (!sql.got_data()) return std::nullopt;
                           return std::make_pair(kind, config);
                       });
}

std::int64_t store::change_seq() {
    impl& m = *impl_;
    // a free reader if there is one, else wait for the first
    std::unique_lock<std::mutex> lock;
    impl::seq_reader* r = nullptr;
    for (auto& c : m.seq) {
        std::unique_lock l(c.mu, std::try_to_lock);
        if (l.owns_lock()) {
            lock = std::move(l);
            r = &c;
            break;
        }
    }
    if (!r) {
        r = &m.seq[0];
        lock = std::unique_lock(r->mu);
    }
    return m.guarded("reading the change sequence", [&] {
        if (m.db.kind == backend::postgresql) {
            long long seq = 0;
            for (int attempt = 0;; ++attempt) {
                if (!r->pg || postgres::connection_lost(*r->pg)) {
                    r->pg.reset();
                    r->pg = postgres::open_session(m.db, m.options.busy_timeout_ms);
                }
                try {
                    *r->pg << "SELECT value FROM store_meta WHERE key = 'change_seq'", soci::into(seq);
                    return static_cast<std::int64_t>(seq);
                } catch (...) {
                    // a read that met a lost connection is repeated once on a new session
                    if (attempt > 0 || !postgres::connection_lost(*r->pg)) throw;
                }
            }
        }
        if (!r->conn) {
            auto conn = std::make_unique<sqlite::connection>(m.path, m.options.busy_timeout_ms);
            r->stmt = conn->prepare("SELECT value FROM store_meta WHERE key = 'change_seq'");
            r->conn = std::move(conn);
        }
        const bool row = r->stmt.step("reading the change sequence");
        const std::int64_t seq = row ? r->stmt.int64(0) : 0;
        r->stmt.reset();
        return seq;
    });
}

std::optional<std::int64_t> store::try_change_seq() noexcept {
    impl& m = *impl_;
    for (auto& r : m.seq) {
        std::unique_lock lock(r.mu, std::try_to_lock);
        if (lock.owns_lock() && r.pg) {
            // A read never waits for a lock on PostgreSQL (MVCC); any failure is "not now".
            try {
                long long seq = 0;
                *r.pg << "SELECT value FROM store_meta WHERE key = 'change_seq'", soci::into(seq);
                return static_cast<std::int64_t>(seq);
            } catch (...) {
                return std::nullopt;
            }
        }
        if (!lock.owns_lock() || !r.conn) continue;
        sqlite3* db = r.conn->get();
        sqlite3_busy_timeout(db, 0);  // a lock held elsewhere answers SQLITE_BUSY at once
        const int rc = sqlite3_step(r.stmt.get());
        std::optional<std::int64_t> seq;
        if (rc == SQLITE_ROW) seq = r.stmt.int64(0);
        r.stmt.reset();
        sqlite3_busy_timeout(db, m.options.busy_timeout_ms);
        return seq;
    }
    return std::nullopt;
}

vigy_changes store::changes_since(std::int64_t since) {
    return impl_->read("reading vigy changes", [&](soci::session& sql) {
        vigy_changes ch;
        soci_tx tx(sql, impl_->db.kind, false);  // one snapshot: sequence, feed and rows agree
        long long seq = 0, floor = 0;
        sql << "SELECT value FROM store_meta WHERE key = 'change_seq'", soci::into(seq);
        sql << "SELECT value FROM store_meta WHERE key = 'changes_floor'", soci::into(floor);
        ch.resource_version = seq;
        if (since < floor) {
            ch.gone = true;
            tx.commit();
            return ch;
        }
        struct entry {
            long long first_type = 0, last_type = 0, last_seq = 0;
            std::string id, name;
        };
        std::unordered_map<long long, entry> by_vid;
        {
            long long s = 0, vid = 0, type = 0;
            std::string id, name;
            long long after = since;
            soci::statement st =
                (sql.prepare << "SELECT seq, vid, id, name, type FROM vigy_changes WHERE seq > :s "
                                "ORDER BY seq",
                 soci::into(s), soci::into(vid), soci::into(id), soci::into(name), soci::into(type), soci::use(after));
            st.execute();
            while (st.fetch()) {
                auto [it, fresh] = by_vid.try_emplace(vid);
                if (fresh) it->second.first_type = type;
                it->second.last_type = type;
                it->second.last_seq = s;
                it->second.id = id;
                it->second.name = name;
            }
        }
        for (auto& [vid, e] : by_vid) {
            vigy_change c;
            c.resource_version = e.last_seq;
            const auto last = static_cast<change_type>(e.last_type);
            auto row = last == change_type::deleted ? std::nullopt : impl::by_key(sql, vid);
            if (!row) {
                c.type = change_type::deleted;
                c.vigy.key = vid;
                c.vigy.id = e.id;
                c.vigy.name = e.name;
                c.vigy.resource_version = e.last_seq;
            } else {
                c.type = static_cast<change_type>(e.first_type) == change_type::added ? change_type::added
                                                                                      : change_type::modified;
                c.vigy = std::move(*row);
            }
            ch.changes.push_back(std::move(c));
        }
        std::sort(ch.changes.begin(), ch.changes.end(),
                  [](const vigy_change& a, const vigy_change& b) { return a.resource_version < b.resource_version; });
        tx.commit();
        return ch;
    });
}

// ---------------------------------------------------------------------------------
// ticks

writer& store::writer() {
    if (!impl_->writer) vigy::fail(VIGY_FAILED_PRECONDITION, "writer not started");
    return *impl_->writer;
}

commit_result store::commit_now(tick_commit& commit) {
    detail::check_commit(commit);
    const std::string what = fmt::format("committing a run of vigy {}", commit.run.vigy_id);
    if (impl_->db.kind == backend::postgresql) {
        detail::write_gate::ticket first(*impl_->gate);  // before the batch writer's next batch
        std::lock_guard lock(impl_->native_mutex);
        return impl_->guarded(what, [&] {
            impl_->revive_native();
            for (bool careful : {false, true}) {
                try {
                    postgres::write_tx tx(*impl_->pg_native, impl_->path);
                    impl_->pg_applier->begin_batch();
                    commit_result r = impl_->pg_applier->apply(commit, careful);
                    tx.commit();
                    return r;
                } catch (const detail::needs_savepoints&) {
                    // rolled back; the careful pass reports why it failed
                }
            }
            vigy::fail(VIGY_INTERNAL, "commit failed without a reason");
        });
    }
    return impl_->native_op(what, [&](sqlite::connection& c) {
        for (bool careful : {false, true}) {
            try {
                sqlite::immediate_tx tx(c);
                impl_->native_applier->begin_batch();
                commit_result r = impl_->native_applier->apply(commit, careful);
                tx.commit();
                return r;
            } catch (const detail::needs_savepoints&) {
                // rolled back; the careful pass reports why it failed
            }
        }
        vigy::fail(VIGY_INTERNAL, "commit failed without a reason");  // unreachable: careful never throws that
    });
}

// ---------------------------------------------------------------------------------
// reads

std::vector<run_record> store::recent_runs(std::string_view vigy_id, std::size_t limit) {
    return impl_->read("reading runs", [&](soci::session& sql) {
        const std::string v(vigy_id);
        long long n = static_cast<long long>(limit);
        return select_rows<run_cols, run_record>(
            sql,
            impl_->run_select + "WHERE r.vid = (SELECT vid FROM vigies WHERE id = :v) ORDER BY r.seq DESC LIMIT :n",
            soci::use(v), soci::use(n));
    });
}

std::vector<run_record> store::runs_after(std::int64_t after_seq, std::string_view vigy_id, std::size_t limit) {
    return impl_->read("reading runs", [&](soci::session& sql) {
        const std::string v(vigy_id);
        long long after = after_seq;
        long long n = static_cast<long long>(limit);
        if (v.empty())
            return select_rows<run_cols, run_record>(
                sql, impl_->run_select + "WHERE r.seq > :s ORDER BY r.seq LIMIT :n", soci::use(after), soci::use(n));
        return select_rows<run_cols, run_record>(
            sql,
            impl_->run_select +
                "WHERE r.vid = (SELECT vid FROM vigies WHERE id = :v) AND r.seq > :s ORDER BY r.seq LIMIT :n",
            soci::use(v), soci::use(after), soci::use(n));
    });
}

std::int64_t store::seq_before_started(std::int64_t since_ms) {
    return impl_->read("reading runs", [&](soci::session& sql) {
        // Runs commit in roughly start order (a run commits within moments of its start):
        // binary-search the seq for the first run started after since - 60 s.
        const long long early = since_ms - 60'000;
        long long lo = 0, hi = 0;
        soci::indicator ind = soci::i_null;
        sql << "SELECT max(seq) FROM runs", soci::into(hi, ind);
        if (ind != soci::i_ok) return std::int64_t{0};
        while (lo < hi) {
            const long long mid = lo + (hi - lo) / 2;
            long long started = 0;
            sql << "SELECT started_ms FROM runs WHERE seq > :m ORDER BY seq LIMIT 1", soci::into(started),
                soci::use(mid);
            if (!sql.got_data() || started >= early)
                hi = mid;
            else
                lo = mid + 1;
        }
        return static_cast<std::int64_t>(lo);
    });
}

std::optional<run_record> store::get_run(std::string_view run_id) {
    codec::uuid u{};
    if (!codec::parse_uuid(run_id, u))
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("invalid run id {:?}: expected a UUID", run_id.substr(0, 80)));
    return impl_->read("reading a run", [&](soci::session& sql) -> std::optional<run_record> {
        auto rows = select_rows<run_cols, run_record>(
            sql, impl_->run_select + "WHERE r.run_id = " + blob_literal(impl_->db.kind, u));
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

std::int64_t store::oldest_seq() {
    return impl_->read("reading the oldest run", [](soci::session& sql) {
        long long seq = 0;
        soci::indicator ind = soci::i_null;
        sql << "SELECT min(seq) FROM runs", soci::into(seq, ind);
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
            sql << "SELECT count(*) FROM runs WHERE vid = (SELECT vid FROM vigies WHERE id = :v)", soci::into(n),
                soci::use(v);
        return static_cast<std::int64_t>(n);
    });
}

tick_clock store::tick_clock_of(std::int64_t vigy_key) {
    return impl_->read("reading the tick clock", [&](soci::session& sql) {
        tick_clock c;
        long long vid = vigy_key, count = 0, started = 0;
        sql << "SELECT tick_count, started_ms FROM runs WHERE vid = :v AND result = 0 ORDER BY seq DESC LIMIT 1",
            soci::into(count), soci::into(started), soci::use(vid);
        if (sql.got_data()) {
            c.tick_count = count;
            c.previous_tick_ms = started;
        }
        long long mark_count = 0, mark_prev = -1;
        sql << "SELECT tick_count, prev_tick_ms FROM tick_marks WHERE vid = :v", soci::into(mark_count),
            soci::into(mark_prev), soci::use(vid);
        if (sql.got_data() && mark_count > c.tick_count) {
            c.tick_count = mark_count;
            c.previous_tick_ms = mark_prev;
        }
        return c;
    });
}

std::vector<kv_entry> store::kv(std::string_view vigy_id) {
    return impl_->read("reading kv", [&](soci::session& sql) {
        std::vector<kv_entry> out;
        const std::string v(vigy_id);
        kv_entry e;
        long long updated = 0;
        soci::statement st = (sql.prepare << "SELECT key, value_json, updated_ms FROM kv WHERE vid = (SELECT vid FROM "
                                             "vigies WHERE id = :v) ORDER BY key",
                              soci::into(e.key), soci::into(e.value_json), soci::into(updated), soci::use(v));
        st.execute();
        while (st.fetch()) {
            e.updated_ms = updated;
            out.push_back(e);
        }
        return out;
    });
}

std::map<std::string, std::string> store::kv_map_of(std::int64_t vigy_key) {
    return impl_->read("reading kv", [&](soci::session& sql) {
        std::map<std::string, std::string> out;
        long long vid = vigy_key;
        std::string key, value;
        soci::statement st = (sql.prepare << "SELECT key, value_json FROM kv WHERE vid = :v", soci::into(key),
                              soci::into(value), soci::use(vid));
        st.execute();
        while (st.fetch()) out.emplace_hint(out.end(), key, value);
        return out;
    });
}

std::vector<condition> store::conditions(std::string_view vigy_id) {
    return impl_->read("reading conditions", [&](soci::session& sql) {
        std::vector<condition> out;
        condition c;
        long long lt = 0, up = 0, seq = 0;
        const std::string v(vigy_id);
        soci::statement st =
            (sql.prepare << "SELECT type, status, reason, message, last_transition_ms, updated_ms, run_seq FROM "
                            "conditions WHERE vid = (SELECT vid FROM vigies WHERE id = :v) ORDER BY type",
             soci::into(c.type), soci::into(c.status), soci::into(c.reason), soci::into(c.message), soci::into(lt),
             soci::into(up), soci::into(seq), soci::use(v));
        st.execute();
        while (st.fetch()) {
            c.last_transition_ms = lt;
            c.updated_ms = up;
            c.run_seq = seq;
            out.push_back(c);
        }
        return out;
    });
}

std::vector<event> store::events(std::string_view vigy_id, std::size_t limit) {
    return impl_->read("reading events", [&](soci::session& sql) {
        std::vector<event> out;
        event e;
        long long id = 0, count = 0, first = 0, last = 0, seq = 0;
        const std::string v(vigy_id);
        long long n = static_cast<long long>(limit);
        const std::string where = v.empty() ? "" : "WHERE e.vid = (SELECT vid FROM vigies WHERE id = :v) ";
        soci::details::prepare_temp_type p =
            (sql.prepare << "SELECT e.id, v.id, e.type, e.reason, e.message, e.count, e.first_ms, e.last_ms, "
                            "e.run_seq FROM events e JOIN vigies v ON v.vid = e.vid " +
                                where + "ORDER BY e.last_ms DESC, e.id DESC LIMIT :n");
        p, soci::into(id), soci::into(e.vigy_id), soci::into(e.type), soci::into(e.reason), soci::into(e.message),
            soci::into(count), soci::into(first), soci::into(last), soci::into(seq);
        if (!v.empty()) p, soci::use(v);
        p, soci::use(n);
        soci::statement st(p);
        st.execute();
        while (st.fetch()) {
            e.id = id;
            e.count = count;
            e.first_ms = first;
            e.last_ms = last;
            e.run_seq = seq;
            out.push_back(e);
        }
        return out;
    });
}

// ---------------------------------------------------------------------------------
// lease

namespace {

const char* const lease_columns =
    "SELECT owner, token, pid, host, boot_id, acquired_ms, heartbeat_ms, expires_ms, expires_boot_ms FROM "
    "scheduler_lease WHERE id = 1";

std::optional<lease_info> read_lease(soci::session& sql) {
    lease_info l;
    long long token = 0, pid = 0, acq = 0, hb = 0, exp = 0, exp_boot = 0;
    sql << lease_columns, soci::into(l.owner), soci::into(token), soci::into(pid), soci::into(l.host),
        soci::into(l.boot_id), soci::into(acq), soci::into(hb), soci::into(exp), soci::into(exp_boot);
    if (!sql.got_data()) return std::nullopt;
    l.token = token;
    l.pid = pid;
    l.acquired_ms = acq;
    l.heartbeat_ms = hb;
    l.expires_ms = exp;
    l.expires_boot_ms = exp_boot;
    return l;
}

void check_request(const lease_request& r) {
    if (r.owner.empty()) vigy::fail(VIGY_INVALID_ARGUMENT, "lease owner must not be empty");
    if (r.ttl_ms <= 0) vigy::fail(VIGY_INVALID_ARGUMENT, "lease ttl must be > 0 ms");
}

constexpr const char* db_now_ms = "CAST(floor(extract(epoch FROM now()) * 1000) AS BIGINT)";

/// PostgreSQL: live cluster hosts (their heartbeat not expired by the database's clock).
/// A scheduler lease is never given beside them; checked in the acquiring transaction,
/// under the write lock every cluster round also takes, so the two cannot both start.
bool cluster_hosts_live(soci::session& sql) {
    long long live = 0;
    sql << std::string("SELECT count(*) FROM cluster_hosts WHERE expires_ms > ") + db_now_ms, soci::into(live);
    return live > 0;
}

/// Writes the lease row for a new holder under a new token; claimed requests of older
/// holders go back to pending. On PostgreSQL (`fence_shards`), shard leases still held by
/// dead cluster hosts are freed under a new epoch first: a cluster host that was paused
/// past its lease can then not commit beside this scheduler when it runs again.
long long install_holder(soci::session& sql, const lease_request& r, bool fence_shards) {
    if (fence_shards)
        sql << "UPDATE shard_leases SET owner = NULL, host = '', pid = 0, epoch = epoch + 1 WHERE owner IS NOT NULL";
    long long token = 0;
    sql << "UPDATE store_meta SET value = value + 1 WHERE key = 'lease_epoch' RETURNING value", soci::into(token);
    long long pid = r.pid, now = r.now.wall_ms, exp = r.now.wall_ms + r.ttl_ms, exp_boot = r.now.boot_ms + r.ttl_ms;
    sql << "INSERT INTO scheduler_lease(id, owner, token, pid, host, boot_id, acquired_ms, heartbeat_ms, "
           "expires_ms, expires_boot_ms) VALUES (1, :o, :t, :p, :h, :b, :a, :n, :e, :eb) ON CONFLICT(id) DO UPDATE "
           "SET owner = excluded.owner, token = excluded.token, pid = excluded.pid, host = excluded.host, "
           "boot_id = excluded.boot_id, acquired_ms = excluded.acquired_ms, heartbeat_ms = excluded.heartbeat_ms, "
           "expires_ms = excluded.expires_ms, expires_boot_ms = excluded.expires_boot_ms",
        soci::use(r.owner), soci::use(token), soci::use(pid), soci::use(r.host), soci::use(r.now.boot_id),
        soci::use(now), soci::use(now), soci::use(exp), soci::use(exp_boot);
    sql << "UPDATE tick_requests SET state = 'pending', claimed_ms = 0, claimed_token = 0 WHERE state = 'claimed' AND "
           "claimed_token < :t",
        soci::use(token);
    return token;
}

}  // namespace

std::optional<std::int64_t> store::acquire_lease(const lease_request& r) {
    check_request(r);
    return impl_->write("acquiring the scheduler lease", [&](soci::session& sql) -> std::optional<std::int64_t> {
        soci_tx tx(sql, impl_->db.kind, true);
        const auto holder = read_lease(sql);
        if (holder && holder->owner != r.owner && lease_live(*holder, r.host, r.now)) {
            tx.commit();
            return std::nullopt;
        }
        const bool pg = impl_->db.kind == backend::postgresql;
        if (pg && cluster_hosts_live(sql)) {  // the cluster ticks these vigies (see cluster_heartbeat)
            tx.commit();
            return std::nullopt;
        }
        long long token = 0;
        if (holder && holder->owner == r.owner) {
            token = holder->token;
            long long now = r.now.wall_ms, exp = r.now.wall_ms + r.ttl_ms, exp_boot = r.now.boot_ms + r.ttl_ms,
                      pid = r.pid;
            sql << "UPDATE scheduler_lease SET heartbeat_ms = :n, expires_ms = :e, expires_boot_ms = :eb, pid = :p, "
                   "host = :h, boot_id = :b WHERE id = 1",
                soci::use(now), soci::use(exp), soci::use(exp_boot), soci::use(pid), soci::use(r.host),
                soci::use(r.now.boot_id);
        } else {
            token = install_holder(sql, r, pg);
        }
        tx.commit();
        return static_cast<std::int64_t>(token);
    });
}

std::optional<std::int64_t> store::take_over_lease(std::string_view dead_owner, const lease_request& r) {
    check_request(r);
    if (dead_owner.empty()) vigy::fail(VIGY_INVALID_ARGUMENT, "lease owner must not be empty");
    return impl_->write("taking over the scheduler lease", [&](soci::session& sql) -> std::optional<std::int64_t> {
        soci_tx tx(sql, impl_->db.kind, true);
        const auto holder = read_lease(sql);
        const bool pg = impl_->db.kind == backend::postgresql;
        if (!holder || holder->owner != dead_owner || (pg && cluster_hosts_live(sql))) {
            tx.commit();
            return std::nullopt;
        }
        const long long token = install_holder(sql, r, pg);
        tx.commit();
        return static_cast<std::int64_t>(token);
    });
}

bool store::renew_lease(const lease_request& r, std::int64_t token) {
    check_request(r);
    return impl_->write("renewing the scheduler lease", [&](soci::session& sql) {
        long long now = r.now.wall_ms, exp = r.now.wall_ms + r.ttl_ms, exp_boot = r.now.boot_ms + r.ttl_ms, t = token;
        // Still ours with our token (even if it expired, nobody took it meanwhile): extend.
        soci::statement st = (sql.prepare << "UPDATE scheduler_lease SET heartbeat_ms = :n, expires_ms = :e, "
                                             "expires_boot_ms = :eb, boot_id = :b WHERE id = 1 AND owner = :o AND "
                                             "token = :t",
                              soci::use(now), soci::use(exp), soci::use(exp_boot), soci::use(r.now.boot_id),
                              soci::use(r.owner), soci::use(t));
        st.execute(true);
        return st.get_affected_rows() > 0;
    });
}

void store::release_lease(std::string_view owner, std::int64_t token) {
    impl_->write("releasing the scheduler lease", [&](soci::session& sql) {
        const std::string o(owner);
        long long t = token;
        sql << "DELETE FROM scheduler_lease WHERE id = 1 AND owner = :o AND token = :t", soci::use(o), soci::use(t);
        return 0;
    });
}

std::optional<lease_info> store::lease_row() {
    return impl_->read("reading the scheduler lease", [&](soci::session& sql) { return read_lease(sql); });
}

// ---------------------------------------------------------------------------------
// cluster (PostgreSQL)

namespace {

/// The database's clock in epoch ms (now(): the transaction's start, never a host's clock).

void require_postgresql(const database& db, std::string_view what) {
    if (db.kind != backend::postgresql)
        vigy::fail(VIGY_FAILED_PRECONDITION,
                   fmt::format("{}: cluster mode needs a PostgreSQL database (postgresql://...); {} is SQLite, "
                               "which one vigy serve uses at a time",
                               what, db.display));
}

}  // namespace

cluster_round store::cluster_heartbeat(const cluster_request& r) {
    if (r.owner.empty()) vigy::fail(VIGY_INVALID_ARGUMENT, "cluster owner must not be empty");
    if (r.lease_ms <= 0) vigy::fail(VIGY_INVALID_ARGUMENT, "lease duration must be > 0 ms");
    require_postgresql(impl_->db, "joining the cluster");
    return impl_->write("renewing the shard leases", [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, true);
        cluster_round out;
        long long pid = r.pid, ms = r.lease_ms;
        const std::string now = db_now_ms;
        // A scheduler without --cluster (or a `vigy tick`) holds the database-wide lease:
        // refuse while it is live; an expired one is removed under a new lease token, so
        // that holder, paused past its lease, cannot commit beside the cluster when it runs
        // again. In this transaction, under the write lock acquire_lease also takes.
        {
            long long spid = 0, live = 0, rows = 0;
            std::string shost;
            soci::indicator hi = soci::i_ok;
            sql << "SELECT count(*), coalesce(max(pid), 0), max(host), coalesce(max(CASE WHEN expires_ms > " + now +
                       " THEN 1 ELSE 0 END), 0) FROM scheduler_lease WHERE id = 1",
                soci::into(rows), soci::into(spid), soci::into(shost, hi), soci::into(live);
            if (live > 0)
                vigy::fail(VIGY_FAILED_PRECONDITION,
                           fmt::format("a scheduler without --cluster is serving {} (pid {} on {}); stop it first",
                                       impl_->path, spid, hi == soci::i_ok ? shost : std::string("?")));
            if (rows > 0) {
                sql << "UPDATE store_meta SET value = value + 1 WHERE key = 'lease_epoch'";
                sql << "DELETE FROM scheduler_lease WHERE id = 1";
                // Its claimed requests (> 0: a scheduler's token; cluster claims are < 0 and
                // stay with their shards' epochs) go back to pending for the shards' holders.
                sql << "UPDATE tick_requests SET state = 'pending', claimed_ms = 0, claimed_token = 0 WHERE state = "
                       "'claimed' AND claimed_token > 0";
            }
        }
        sql << "INSERT INTO cluster_hosts(owner, host, pid, joined_ms, heartbeat_ms, expires_ms) VALUES (:o, :h, :p, " +
                   now + ", " + now + ", " + now +
                   " + :ms) ON CONFLICT (owner) DO UPDATE SET host = excluded.host, "
                   "pid = excluded.pid, heartbeat_ms = excluded.heartbeat_ms, expires_ms = excluded.expires_ms",
            soci::use(r.owner), soci::use(r.host), soci::use(pid), soci::use(ms);
        // Hosts gone for an hour are forgotten (status shows the recently dead).
        sql << "DELETE FROM cluster_hosts WHERE expires_ms < " + now + " - 3600000";
        long long live = 0, shards = 0;
        sql << "SELECT count(*) FROM cluster_hosts WHERE expires_ms > " + now, soci::into(live);
        sql << "SELECT value FROM store_meta WHERE key = 'shard_count'", soci::into(shards);
        out.live_hosts = static_cast<int>(std::max<long long>(live, 1));
        out.shard_count = static_cast<int>(shards);
        out.share = static_cast<int>((shards + out.live_hosts - 1) / out.live_hosts);
        {
            long long shard = 0, epoch = 0;
            soci::statement st =
                (sql.prepare << "UPDATE shard_leases SET renewed_ms = " + now + ", expires_ms = " + now +
                                    " + :ms, host = :h, pid = :p WHERE owner = :o RETURNING "
                                    "shard, epoch",
                 soci::use(ms), soci::use(r.host), soci::use(pid), soci::use(r.owner), soci::into(shard),
                 soci::into(epoch));
            st.execute();
            while (st.fetch()) out.held.push_back({static_cast<int>(shard), epoch});
        }
        std::sort(out.held.begin(), out.held.end(), [](auto& a, auto& b) { return a.shard < b.shard; });
        while (static_cast<int>(out.held.size()) > out.share) {
            // Above our share (a host joined): give the highest shard back; its next holder
            // takes it under a new epoch, and our commits still in flight are rejected.
            const shard_fence f = out.held.back();
            out.held.pop_back();
            long long shard = f.shard;
            sql << "UPDATE shard_leases SET owner = NULL, host = '', pid = 0, expires_ms = " + now +
                       " WHERE shard = :s AND owner = :o",
                soci::use(shard), soci::use(r.owner);
            out.released.push_back(f);
        }
        if (static_cast<int>(out.held.size()) < out.share) {
            long long want = out.share - static_cast<long long>(out.held.size());
            std::vector<std::pair<int, bool>> free;  // shard, had an (expired) holder
            {
                long long shard = 0;
                int held = 0;
                soci::statement st = (sql.prepare << "SELECT shard, CASE WHEN owner IS NULL THEN 0 ELSE 1 END FROM "
                                                     "shard_leases WHERE owner IS NULL OR expires_ms <= " +
                                                         now + " ORDER BY 2, shard LIMIT :n FOR UPDATE",
                                      soci::use(want), soci::into(shard), soci::into(held));
                st.execute();
                while (st.fetch()) free.emplace_back(static_cast<int>(shard), held != 0);
            }
            for (const auto& [shard_i, expired] : free) {
                long long shard = shard_i, epoch = 0, took = expired ? 1 : 0;
                sql << "UPDATE shard_leases SET owner = :o, host = :h, pid = :p, epoch = epoch + 1, acquired_ms = " +
                           now + ", renewed_ms = " + now + ", expires_ms = " + now +
                           " + :ms, takeovers = takeovers + :t WHERE shard = :s RETURNING epoch",
                    soci::use(r.owner), soci::use(r.host), soci::use(pid), soci::use(ms), soci::use(took),
                    soci::use(shard), soci::into(epoch);
                out.held.push_back({shard_i, epoch});
                out.acquired.push_back({shard_i, epoch});
                if (expired) ++out.takeovers;
            }
            if (!free.empty()) {
                // Requests claimed under an earlier epoch of a shard acquired now go back to
                // pending for this holder: their claimer can no longer commit them.
                std::string list;
                for (const auto& f : free) list += fmt::format("{}{}", list.empty() ? "" : ", ", f.first);
                sql << fmt::format(
                    "UPDATE tick_requests SET state = 'pending', claimed_ms = 0, claimed_token = 0 WHERE state = "
                    "'claimed' AND claimed_token < 0 AND vid % {} IN ({})",
                    shards, list);
            }
            std::sort(out.held.begin(), out.held.end(), [](auto& a, auto& b) { return a.shard < b.shard; });
        }
        tx.commit();
        return out;
    });
}

void store::cluster_leave(std::string_view owner_v) {
    require_postgresql(impl_->db, "leaving the cluster");
    impl_->write("leaving the cluster", [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, true);
        const std::string owner(owner_v);
        sql << std::string("UPDATE shard_leases SET owner = NULL, host = '', pid = 0, expires_ms = ") + db_now_ms +
                   " WHERE owner = :o",
            soci::use(owner);
        sql << "DELETE FROM cluster_hosts WHERE owner = :o", soci::use(owner);
        tx.commit();
        return 0;
    });
}

cluster_view store::cluster_status() {
    require_postgresql(impl_->db, "reading the cluster");
    return impl_->read("reading the cluster", [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, false);
        cluster_view v;
        long long now = 0, shards = 0;
        sql << std::string("SELECT ") + db_now_ms, soci::into(now);
        sql << "SELECT value FROM store_meta WHERE key = 'shard_count'", soci::into(shards);
        v.now_ms = now;
        v.shard_count = static_cast<int>(shards);
        {
            cluster_host h;
            long long pid = 0, joined = 0, hb = 0, exp = 0, n = 0;
            soci::statement st =
                (sql.prepare << "SELECT h.owner, h.host, h.pid, h.joined_ms, h.heartbeat_ms, h.expires_ms, (SELECT "
                                "count(*) FROM shard_leases s WHERE s.owner = h.owner) FROM cluster_hosts h ORDER BY "
                                "h.expires_ms <= :now, h.owner",
                 soci::use(now), soci::into(h.owner), soci::into(h.host), soci::into(pid), soci::into(joined),
                 soci::into(hb), soci::into(exp), soci::into(n));
            st.execute();
            while (st.fetch()) {
                h.pid = pid;
                h.joined_ms = joined;
                h.heartbeat_ms = hb;
                h.expires_ms = exp;
                h.live = exp > now;
                h.shards = static_cast<int>(n);
                v.hosts.push_back(h);
            }
        }
        {
            shard_lease l;
            long long shard = 0, pid = 0, epoch = 0, ren = 0, exp = 0, tk = 0;
            soci::indicator oi = soci::i_null;
            soci::statement st = (sql.prepare << "SELECT shard, owner, host, pid, epoch, renewed_ms, expires_ms, "
                                                 "takeovers FROM shard_leases ORDER BY shard",
                                  soci::into(shard), soci::into(l.owner, oi), soci::into(l.host), soci::into(pid),
                                  soci::into(epoch), soci::into(ren), soci::into(exp), soci::into(tk));
            st.execute();
            while (st.fetch()) {
                shard_lease x = l;
                if (oi != soci::i_ok) x.owner.clear();
                x.shard = static_cast<int>(shard);
                x.pid = pid;
                x.epoch = epoch;
                x.renewed_ms = ren;
                x.expires_ms = exp;
                x.takeovers = tk;
                x.live = !x.owner.empty() && exp > now;
                v.shards.push_back(std::move(x));
            }
        }
        tx.commit();
        return v;
    });
}

// ---------------------------------------------------------------------------------
// tick requests

namespace {
struct request_cols {
    tick_request r;
    std::string run_hex, trigger;
    soci::indicator run_ind = soci::i_null, vigy_ind = soci::i_null, trigger_ind = soci::i_null;
    long long id = 0, vid = 0, req = 0, claimed = 0, token = 0, done = 0, code = 0;
    void bind(soci::details::prepare_temp_type& p) {
        p, soci::into(id), soci::into(r.vigy_id, vigy_ind), soci::into(vid), soci::into(r.requester),
            soci::into(r.state), soci::into(req), soci::into(claimed), soci::into(token), soci::into(done),
            soci::into(run_hex, run_ind), soci::into(code), soci::into(r.error), soci::into(trigger, trigger_ind);
    }
    [[nodiscard]] tick_request record() const {
        tick_request out = r;
        if (vigy_ind != soci::i_ok) out.vigy_id.clear();
        out.id = id;
        out.vigy_key = vid;
        out.requested_ms = req;
        out.claimed_ms = claimed;
        out.claimed_token = token;
        out.done_ms = done;
        out.code = static_cast<vigy_status>(code);
        out.trigger_json = trigger_ind == soci::i_ok ? trigger : std::string();
        out.run_id.clear();
        if (run_ind == soci::i_ok && run_hex.size() == 32) {
            for (std::size_t i = 0; i < 32; ++i) {
                if (i == 8 || i == 12 || i == 16 || i == 20) out.run_id += '-';
                out.run_id += static_cast<char>(std::tolower(static_cast<unsigned char>(run_hex[i])));
            }
        }
        return out;
    }
};
std::string request_columns(backend b) {
    return "SELECT t.id, v.id, t.vid, t.requester, t.state, t.requested_ms, t.claimed_ms, t.claimed_token, "
           "t.done_ms, " +
           dialect::hex_of(b, "t.run_id") +
           ", t.error_code, t.error, t.trigger_json FROM tick_requests t LEFT JOIN vigies v ON v.vid = t.vid ";
}
}  // namespace

std::unique_ptr<change_listener> store::listen(const listen_options& options) {
    if (impl_->db.kind != backend::postgresql) return nullptr;  // SQLite: the callers poll
    return postgres::listen(impl_->db, options);
}

namespace {
/// Claims request `r` (inside the caller's write transaction) under `token`: a scheduler
/// lease token, or minus a shard's epoch for a cluster claim. Updates `r` to match.
void mark_claimed(soci::session& sql, tick_request& r, long long now, long long token) {
    long long id = r.id;
    sql << "UPDATE tick_requests SET state = 'claimed', claimed_ms = :n, claimed_token = :t WHERE id = :i",
        soci::use(now), soci::use(token), soci::use(id);
    r.state = "claimed";
    r.claimed_ms = now;
    r.claimed_token = token;
}
}  // namespace

std::int64_t store::enqueue_tick_request(std::string_view vigy_id, std::string_view requester,
                                         std::string_view trigger_json) {
    return impl_->write(fmt::format("requesting a tick of vigy {}", vigy_id), [&](soci::session& sql) {
        soci_tx tx(sql, impl_->db.kind, true);
        const std::string v(vigy_id), who(requester);
        long long vid = 0;
        sql << "SELECT vid FROM vigies WHERE id = :v AND deleted = 0", soci::into(vid), soci::use(v);
        if (!sql.got_data()) not_found(vigy_id);
        const long long now = now_unix_ms();
        const std::string trig(trigger_json);
        long long id = 0;
        soci::indicator ti = trig.empty() ? soci::i_null : soci::i_ok;
        sql << "INSERT INTO tick_requests(vid, requester, state, requested_ms, trigger_json) VALUES (:v, :r, "
               "'pending', :n, :t) RETURNING id",
            soci::use(vid), soci::use(who), soci::use(now), soci::use(trig, ti), soci::into(id);
        // Delivered at commit only; the serving host claims at once instead of at its next poll.
        if (impl_->db.kind == backend::postgresql) sql << notify_sql(channel_tick_requests);
        tx.commit();
        return static_cast<std::int64_t>(id);
    });
}

std::vector<tick_request> store::claim_tick_requests(std::int64_t token, std::size_t limit) {
    return impl_->write("claiming tick requests", [&](soci::session& sql) {
        // Polled often by the scheduler: take the write lock only when there is work.
        long long pending = 0;
        sql << "SELECT count(*) FROM tick_requests WHERE state = 'pending'", soci::into(pending);
        if (pending == 0) return std::vector<tick_request>{};
        soci_tx tx(sql, impl_->db.kind, true);
        long long n = static_cast<long long>(limit);
        auto rows = select_rows<request_cols, tick_request>(
            sql, impl_->request_select + "WHERE t.state = 'pending' ORDER BY t.id LIMIT :n", soci::use(n));
        const long long now = now_unix_ms(), t = token;
        for (auto& r : rows) mark_claimed(sql, r, now, t);
        tx.commit();
        return rows;
    });
}

namespace {

/// PostgreSQL, in an UPDATE of tick_requests: true while the shard of the request's vigy
/// is held (by anyone) under the epoch its cluster claim names (claimed_token = -epoch).
/// Epochs grow on every acquisition, so (shard, epoch) with an owner is one holder's tenure.
constexpr const char* cluster_claim_holds =
    "EXISTS (SELECT 1 FROM shard_leases s WHERE s.owner IS NOT NULL AND s.epoch = -tick_requests.claimed_token AND "
    "s.shard = tick_requests.vid % (SELECT value FROM store_meta WHERE key = 'shard_count'))";

/// Runs `fn` in a write transaction (the write lock every shard lease change takes) when
/// `claimed_token` names a cluster claim on PostgreSQL, so the shard check and the update
/// serialize with takeovers; as one statement otherwise.
template <class Fn>
void maybe_fenced(soci::session& sql, backend kind, std::int64_t claimed_token, Fn&& fn) {
    if (claimed_token < 0 && kind == backend::postgresql) {
        soci_tx tx(sql, kind, true);
        fn();
        tx.commit();
    } else {
        fn();
    }
}

}  // namespace

std::vector<tick_request> store::claim_cluster_tick_requests(std::string_view owner_v,
                                                             const std::vector<shard_fence>& held, std::size_t limit) {
    if (owner_v.empty()) vigy::fail(VIGY_INVALID_ARGUMENT, "cluster owner must not be empty");
    require_postgresql(impl_->db, "claiming tick requests for cluster shards");
    if (held.empty() || limit == 0) return {};
    std::string shards, fences;  // "1, 2" and "(1, 5), (2, 7)": integers only, safe to splice
    for (const auto& f : held) {
        shards += fmt::format("{}{}", shards.empty() ? "" : ", ", f.shard);
        fences += fmt::format("{}({}, {})", fences.empty() ? "" : ", ", f.shard, f.epoch);
    }
    const std::string shard_of_t = "t.vid % (SELECT value FROM store_meta WHERE key = 'shard_count')";
    return impl_->write("claiming tick requests", [&](soci::session& sql) {
        // Polled often by every host: take the write lock only when one of ours is pending.
        long long pending = 0;
        sql << fmt::format("SELECT count(*) FROM tick_requests t WHERE t.state = 'pending' AND {} IN ({})", shard_of_t,
                           shards),
            soci::into(pending);
        if (pending == 0) return std::vector<tick_request>{};
        soci_tx tx(sql, impl_->db.kind, true);
        const std::string owner(owner_v);
        long long n = static_cast<long long>(limit);
        // Only shards held by `owner` now, under the epoch it believes: read under the write
        // lock, so no takeover interleaves before the claims commit.
        auto rows = select_rows<request_cols, tick_request>(
            sql,
            impl_->request_select + fmt::format("JOIN shard_leases s ON s.shard = {} WHERE t.state = 'pending' AND "
                                                "s.owner = :o AND (s.shard, s.epoch) IN ({}) ORDER BY t.id LIMIT :n",
                                                shard_of_t, fences),
            soci::use(owner), soci::use(n));
        const long long now = now_unix_ms();
        const int count = [&] {
            long long c = 0;
            sql << "SELECT value FROM store_meta WHERE key = 'shard_count'", soci::into(c);
            return static_cast<int>(c);
        }();
        for (auto& r : rows) {
            const int shard = shard_of(r.vigy_key, count);
            long long epoch = 0;
            for (const auto& f : held)
                if (f.shard == shard) epoch = f.epoch;
            mark_claimed(sql, r, now, -epoch);
        }
        tx.commit();
        return rows;
    });
}

void store::complete_tick_request(std::int64_t request_id, std::string_view run_id, std::int64_t claimed_token) {
    codec::uuid u{};
    if (!codec::parse_uuid(run_id, u))
        vigy::fail(VIGY_INVALID_ARGUMENT, fmt::format("run id {:?} is not a UUID", run_id));
    const backend kind = impl_->db.kind;
    impl_->write("completing a tick request", [&](soci::session& sql) {
        long long id = request_id, now = now_unix_ms(), t = claimed_token;
        const std::string fence = claimed_token == 0 ? std::string()
                                  : claimed_token < 0 && kind == backend::postgresql
                                      ? std::string(" AND claimed_token = :t AND ") + cluster_claim_holds
                                      : std::string(" AND claimed_token = :t");
        maybe_fenced(sql, kind, claimed_token, [&] {
            const std::string q = fmt::format(
                "UPDATE tick_requests SET state = 'done', done_ms = :n, run_id = {} WHERE id = :i AND "
                "state = 'claimed'{}",
                blob_literal(kind, u), fence);
            if (claimed_token == 0)
                sql << q, soci::use(now), soci::use(id);
            else
                sql << q, soci::use(now), soci::use(id), soci::use(t);
        });
        return 0;
    });
}

void store::fail_tick_request(std::int64_t request_id, vigy_status code, std::string_view err,
                              std::int64_t claimed_token) {
    const backend kind = impl_->db.kind;
    impl_->write("failing a tick request", [&](soci::session& sql) {
        long long id = request_id, c = code, t = claimed_token;
        const long long now = now_unix_ms();
        const std::string e(err);
        const std::string cluster = kind == backend::postgresql && claimed_token < 0
                                        ? std::string(" AND ") + cluster_claim_holds
                                        : std::string();
        maybe_fenced(sql, kind, claimed_token, [&] {
            soci::statement st =
                (sql.prepare << "UPDATE tick_requests SET state = 'failed', done_ms = :n, error_code = :c, "
                                "error = :e WHERE id = :i AND (state = 'pending' AND :t1 = 0 OR "
                                "state = 'claimed' AND (:t2 = 0 OR claimed_token = :t3))" +
                                    cluster,
                 soci::use(now), soci::use(c), soci::use(e), soci::use(id), soci::use(t), soci::use(t), soci::use(t));
            st.execute(true);
        });
        return 0;
    });
}

bool store::cancel_tick_request(std::int64_t request_id, std::string_view err) {
    const backend kind = impl_->db.kind;
    return impl_->write("cancelling a tick request", [&](soci::session& sql) {
        long long id = request_id;
        const long long now = now_unix_ms();
        const std::string e(err);
        // A cluster claim whose shard moved on can no longer be committed by its claimer:
        // cancelling it is as safe as cancelling a pending one.
        const std::string stale_claim =
            kind == backend::postgresql
                ? std::string(" OR state = 'claimed' AND claimed_token < 0 AND NOT ") + cluster_claim_holds
                : std::string();
        bool cancelled = false;
        maybe_fenced(sql, kind, kind == backend::postgresql ? -1 : 0, [&] {
            soci::statement st = (sql.prepare << "UPDATE tick_requests SET state = 'failed', done_ms = :n, "
                                                 "error_code = 14, error = :e WHERE id = :i AND (state = 'pending'" +
                                                     stale_claim + ")",
                                  soci::use(now), soci::use(e), soci::use(id));
            st.execute(true);
            cancelled = st.get_affected_rows() > 0;
        });
        return cancelled;
    });
}

std::optional<tick_request> store::get_tick_request(std::int64_t request_id) {
    return impl_->read("reading a tick request", [&](soci::session& sql) -> std::optional<tick_request> {
        long long id = request_id;
        auto rows =
            select_rows<request_cols, tick_request>(sql, impl_->request_select + "WHERE t.id = :i", soci::use(id));
        if (rows.empty()) return std::nullopt;
        return rows.front();
    });
}

// ---------------------------------------------------------------------------------
// maintenance

std::int64_t store::prune(const retention_policy& policy) {
    if (impl_->db.kind == backend::postgresql) {
        detail::write_gate::ticket first(*impl_->gate);
        std::lock_guard lock(impl_->native_mutex);
        return impl_->guarded("pruning runs", [&] {
            impl_->revive_native();
            std::int64_t total = 0, cursor = 0;
            for (;;) {
                postgres::write_tx tx(*impl_->pg_native, impl_->path);
                const std::int64_t n = postgres::prune_step(*impl_->pg_native, policy, cursor, impl_->path);
                tx.commit();
                total += n;
                if (n == 0 && cursor == 0) break;
            }
            return total;
        });
    }
    return impl_->native_op("pruning runs", [&](sqlite::connection& c) {
        std::int64_t total = 0;
        std::int64_t cursor = 0;
        for (;;) {
            sqlite::immediate_tx tx(c);
            const std::int64_t n = detail::prune_step(c, policy, cursor);
            tx.commit();
            total += n;
            if (n == 0 && cursor == 0) break;
        }
        return total;
    });
}

std::string store::integrity_check() {
    const backend kind = impl_->db.kind;
    return impl_->read("checking integrity", [kind](soci::session& sql) {
        if (kind == backend::postgresql) return postgres::integrity_check(sql);
        std::string result;
        sql << "PRAGMA integrity_check", soci::into(result);
        return result;
    });
}

}  // namespace vigy::store
