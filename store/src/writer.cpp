// store/src/writer.cpp — the single writer thread: group commit of queued tick commits,
// per-commit SAVEPOINTs only after a failure, completions per sink and batch, flush/stop,
// background retention.
#include "writer.hpp"

#include "applier.hpp"
#include "postgres.hpp"

#include <fmt/format.h>
#include <cstdio>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

#include <pthread.h>

namespace vigy::store::detail {

namespace {

std::uint64_t thread_cpu_us() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

/// Owns the copies behind writer::submit(tick_commit) and fulfils their futures.
class future_sink final : public commit_sink {
public:
    struct item : tick_commit {
        std::promise<commit_result> promise;
    };
    void on_committed(std::span<tick_commit* const> commits, std::span<const commit_result> results) override {
        for (std::size_t i = 0; i < commits.size(); ++i) {
            std::unique_ptr<item> it(static_cast<item*>(commits[i]));  // every commit of this sink is an item
            it->promise.set_value(results[i]);
        }
    }
};

/// The SQLite side of the writer: the writer's connection with its applier, and a
/// second connection for WAL checkpoints.
struct sqlite_engine {
    static constexpr bool checkpoints = true;
    sqlite::connection conn;
    sqlite::connection ckpt_conn;
    std::unique_ptr<applier> app;

    sqlite_engine(const database& db, const open_options& options)
        : conn(db.target, options.busy_timeout_ms), ckpt_conn(db.target, options.busy_timeout_ms) {
        if (options.writer.cache_kib > 0)
            conn.exec(fmt::format("PRAGMA cache_size=-{}", options.writer.cache_kib).c_str(), "configuring the writer");
        // Checkpoints run on their own thread and connection (PASSIVE: they never block the
        // writer), so a commit never stalls behind copying the WAL into the database file.
        conn.exec("PRAGMA wal_autocheckpoint=0", "configuring the writer");
        ckpt_conn.exec("PRAGMA journal_size_limit=67108864", "configuring the checkpointer");
        app = std::make_unique<applier>(conn);
    }
    [[nodiscard]] sqlite::immediate_tx begin() { return sqlite::immediate_tx(conn); }
    std::int64_t prune(const retention_policy& policy, std::int64_t& cursor) {
        return prune_step(conn, policy, cursor);
    }
};

/// The PostgreSQL side: one session and its applier; no checkpoints (the server's own).
struct postgres_engine {
    static constexpr bool checkpoints = false;
    database db;
    std::string display;
    int lock_timeout_ms;
    std::unique_ptr<soci::session> sql;
    std::unique_ptr<postgres::applier> app;

    postgres_engine(const database& d, const open_options& options)
        : db(d),
          display(d.display),
          lock_timeout_ms(options.busy_timeout_ms),
          sql(postgres::open_session(db, lock_timeout_ms)) {
        app = std::make_unique<postgres::applier>(*sql, display);
    }
    /// A lost connection (the server restarted, the network failed) failed the batch that
    /// met it; the next attempt reconnects, with an applier prepared on the new one.
    [[nodiscard]] postgres::write_tx begin() {
        if (postgres::connection_lost(*sql)) {
            app.reset();  // its statements belong to the lost connection
            postgres::revive(*sql, db, lock_timeout_ms);
            app = std::make_unique<postgres::applier>(*sql, display);
        }
        return postgres::write_tx(*sql, display);
    }
    std::int64_t prune(const retention_policy& policy, std::int64_t& cursor) {
        return postgres::prune_step(*sql, policy, cursor, display);
    }
};

template <class Engine>
class writer_impl final : public writer {
public:
    writer_impl(const database& db, const open_options& options, std::shared_ptr<write_gate> gate)
        : gate_(std::move(gate)),
          log_(options.log),
          options_(options.writer),
          retention_(options.retention),
          engine_(db, options) {
        if (options_.max_batch == 0) options_.max_batch = 1;
        if (options_.max_queued == 0) options_.max_queued = 1;
        thread_ = std::thread([this] { run(); });
        writer_thread_id_ = thread_.get_id();
        if constexpr (Engine::checkpoints) ckpt_thread_ = std::thread([this] { checkpoints(); });
    }

    ~writer_impl() override { stop(); }

    void submit(tick_commit* commit, commit_sink* sink) override {
        check_commit(*commit);
        {
            std::unique_lock lock(mu_);
            // A sink resubmitting from the writer thread must not wait for that same thread.
            if (std::this_thread::get_id() != writer_thread_id_)
                space_cv_.wait(lock, [&] { return queue_.size() < options_.max_queued || stopping_; });
            if (stopping_) vigy::fail(VIGY_UNAVAILABLE, "writer stopped");
            queue_.push_back({commit, sink});
            ++stats_.submitted;
        }
        work_cv_.notify_one();
    }

    std::future<commit_result> submit(tick_commit commit) override {
        auto it = std::make_unique<future_sink::item>();
        static_cast<tick_commit&>(*it) = std::move(commit);
        auto fut = it->promise.get_future();
        submit(it.get(), &futures_);
        static_cast<void>(it.release());  // owned by futures_ until completion
        return fut;
    }

    void flush() override {
        std::unique_lock lock(mu_);
        const std::uint64_t target = stats_.submitted;
        done_cv_.wait(lock, [&] { return completed_ >= target || thread_exited_; });
    }

    void stop() override {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        work_cv_.notify_all();
        space_cv_.notify_all();
        std::lock_guard join_lock(join_mu_);
        if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
        {
            std::lock_guard lock(mu_);
            ckpt_stop_ = true;
        }
        ckpt_cv_.notify_all();
        if (ckpt_thread_.joinable()) ckpt_thread_.join();
    }

    writer_stats stats() const override {
        std::lock_guard lock(mu_);
        writer_stats s = stats_;
        s.queued = queue_.size();
        return s;
    }

private:
    struct item {
        tick_commit* commit;
        commit_sink* sink;
    };

    void run() {
        pthread_setname_np(pthread_self(), "vigy-writer");  // visible in top -H, perf, gdb
        std::int64_t prune_cursor = 0;
        auto last_prune = std::chrono::steady_clock::now();
        std::uint64_t since_prune = 0;
        const auto prune_every = std::max(retention_.prune_interval, std::chrono::milliseconds(10));
        std::vector<item> batch;
        for (;;) {
            batch.clear();
            {
                std::unique_lock lock(mu_);
                work_cv_.wait_for(lock, prune_every, [&] { return !queue_.empty() || stopping_; });
                if (queue_.empty() && stopping_) break;
                const std::size_t n = std::min(queue_.size(), options_.max_batch);
                batch.insert(batch.end(), queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
                queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
            }
            space_cv_.notify_all();
            if (!batch.empty()) {
                run_batch(batch);
                since_prune += batch.size();
            }
            const auto now = std::chrono::steady_clock::now();
            if (options_.background_prune && now - last_prune >= prune_every) {
                prune_once(prune_cursor, since_prune);
                since_prune = 0;
                last_prune = now;
            }
        }
        std::lock_guard lock(mu_);
        thread_exited_ = true;
        done_cv_.notify_all();
    }

    void run_batch(std::vector<item>& batch) {
        // This process's foreground writes (a lease renewal above all) go first; see write_gate.hpp.
        gate_->yield(std::chrono::milliseconds(250));
        const auto t0 = std::chrono::steady_clock::now();
        const std::uint64_t cpu0 = thread_cpu_us();
        results_.clear();
        bool careful = false;  // per-commit savepoints only after a commit failed part-way
        for (int attempt = 0;; ++attempt) {
            results_.clear();
            try {
                auto tx = engine_.begin();
                engine_.app->begin_batch();
                for (const item& it : batch) results_.push_back(engine_.app->apply(*it.commit, careful));
                tx.commit();
                ++transactions_;
                break;
            } catch (const needs_savepoints&) {
                careful = true;  // rolled back by the guard: redo the batch, isolating each commit
                --attempt;
            } catch (const status_error& e) {
                // Busy means someone else held the write lock for the whole busy timeout:
                // try twice more before giving the commits back as failed (nothing written).
                if (e.code() == VIGY_UNAVAILABLE && attempt < 2) {
                    log(log_level::warning, fmt::format("{}; retrying", e.what()));
                    std::lock_guard lock(mu_);
                    ++stats_.busy_retries;
                    continue;
                }
                log(log_level::error, e.what());
                results_.assign(batch.size(), commit_result{});
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    results_[i].code = e.code();
                    results_[i].error = e.what();
                }
                break;
            }
        }
        const auto busy = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
        const std::uint64_t cpu = thread_cpu_us() - cpu0;
        std::uint64_t ok = 0, stale = 0;
        for (const commit_result& r : results_) {
            ok += r.ok ? 1 : 0;
            stale += r.stale ? 1 : 0;
        }
        {
            std::lock_guard lock(mu_);
            stats_.committed += ok;
            stats_.failed += batch.size() - ok;
            stats_.stale += stale;
            stats_.transactions = transactions_;
            stats_.busy_us += static_cast<std::uint64_t>(busy.count());
            stats_.cpu_us += cpu;
        }
        // Completions, one call per sink and run of equal sinks (usually one sink).
        std::size_t start = 0;
        while (start < batch.size()) {
            std::size_t end = start + 1;
            while (end < batch.size() && batch[end].sink == batch[start].sink) ++end;
            commits_.clear();
            for (std::size_t i = start; i < end; ++i) commits_.push_back(batch[i].commit);
            try {
                batch[start].sink->on_committed(commits_,
                                                std::span<const commit_result>(results_).subspan(start, end - start));
            } catch (...) {
                // documented: sinks must not throw; keep the writer alive regardless
            }
            start = end;
        }
        {
            std::lock_guard lock(mu_);
            completed_ += batch.size();
        }
        done_cv_.notify_all();
    }

    void log(log_level level, const std::string& msg) const noexcept {
        try {
            if (log_)
                log_(level, msg);
            else
                std::fprintf(stderr, "%s: %s\n", level == log_level::error ? "error" : "warning", msg.c_str());
        } catch (...) {
        }
    }

    void checkpoints() {
        if constexpr (Engine::checkpoints) checkpoint_loop();
    }

    void checkpoint_loop() {
        sqlite::connection& ckpt_conn_ = engine_.ckpt_conn;
        pthread_setname_np(pthread_self(), "vigy-checkpoint");
        std::unique_lock lock(mu_);
        while (!ckpt_stop_) {
            ckpt_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return ckpt_stop_; });
            if (ckpt_stop_) break;
            lock.unlock();
            int wal_frames = 0, done = 0;
            const int rc =
                sqlite3_wal_checkpoint_v2(ckpt_conn_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &done);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
                log(log_level::warning,
                    fmt::format("checkpoint of {} failed: {}", ckpt_conn_.path(), sqlite3_errmsg(ckpt_conn_.get())));
            lock.lock();
        }
    }

    void prune_once(std::int64_t& cursor, std::uint64_t since) {
        retention_policy step = retention_;
        const std::int64_t chunk = std::max<std::int64_t>(step.prune_chunk, 1);
        // Keep pace with the insert rate: at least 1.25x what was committed since last time.
        step.prune_chunk = std::max<std::int64_t>(chunk, static_cast<std::int64_t>(since + since / 4));
        try {
            auto tx = engine_.begin();
            const std::int64_t n = engine_.prune(step, cursor);
            tx.commit();
            std::lock_guard lock(mu_);
            stats_.pruned_runs += static_cast<std::uint64_t>(n);
        } catch (const std::exception& e) {
            log(log_level::warning, fmt::format("pruning runs failed: {}", e.what()));
        }
    }

    std::shared_ptr<write_gate> gate_;
    log_fn log_;
    writer_options options_;
    retention_policy retention_;
    Engine engine_;
    future_sink futures_;

    mutable std::mutex mu_;
    std::condition_variable work_cv_, space_cv_, done_cv_;
    std::deque<item> queue_;
    writer_stats stats_;
    std::uint64_t completed_ = 0;
    std::uint64_t transactions_ = 0;
    bool stopping_ = false;
    bool thread_exited_ = false;
    // writer-thread scratch, reused across batches
    std::vector<commit_result> results_;
    std::vector<tick_commit*> commits_;

    std::condition_variable ckpt_cv_;
    bool ckpt_stop_ = false;
    std::thread ckpt_thread_;

    std::mutex join_mu_;
    std::thread thread_;
    std::thread::id writer_thread_id_;
};

}  // namespace

std::unique_ptr<writer> start_writer(const database& db, const open_options& options,
                                     std::shared_ptr<write_gate> gate) {
    if (db.kind == backend::postgresql)
        return std::make_unique<writer_impl<postgres_engine>>(db, options, std::move(gate));
    return std::make_unique<writer_impl<sqlite_engine>>(db, options, std::move(gate));
}

}  // namespace vigy::store::detail
