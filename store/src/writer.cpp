// store/src/writer.cpp — the single writer thread: group commit of queued tick commits,
// per-commit SAVEPOINTs, completion callbacks, flush/stop, background retention.
#include "db.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <ctime>
#include <thread>

namespace vigy::store::detail {

namespace {

std::uint64_t thread_cpu_us() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

class writer_impl final : public writer {
public:
    writer_impl(std::string path, const open_options& options)
        : path_(std::move(path)), options_(options.writer), retention_(options.retention) {
        if (options_.max_batch == 0) options_.max_batch = 1;
        if (options_.max_queued == 0) options_.max_queued = 1;
        sql_ = open_session(path_, options.busy_timeout_ms);
        if (options_.cache_kib > 0)
            exec(*sql_, path_, fmt::format("PRAGMA cache_size=-{}", options_.cache_kib).c_str());
        applier_ = std::make_unique<commit_applier>(*sql_);
        thread_ = std::thread([this] { run(); });
        writer_thread_id_ = thread_.get_id();
    }

    ~writer_impl() override { stop(); }

    void submit(tick_commit commit, commit_callback done) override {
        validate_commit(commit);
        {
            std::unique_lock lock(mu_);
            // A callback resubmitting from the writer thread must not wait for that same thread.
            if (std::this_thread::get_id() != writer_thread_id_)
                space_cv_.wait(lock, [&] { return queue_.size() < options_.max_queued || stopping_; });
            if (stopping_) throw error(error_code::io, "writer stopped");
            queue_.push_back(item{std::move(commit), std::move(done)});
            ++stats_.submitted;
        }
        work_cv_.notify_one();
    }

    std::future<commit_result> submit(tick_commit commit) override {
        auto promise = std::make_shared<std::promise<commit_result>>();
        auto fut = promise->get_future();
        submit(std::move(commit), [promise](const commit_result& r) { promise->set_value(r); });
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
    }

    writer_stats stats() const override {
        std::lock_guard lock(mu_);
        writer_stats s = stats_;
        s.queued = queue_.size();
        return s;
    }

private:
    struct item {
        tick_commit commit;
        commit_callback done;
    };

    void run() {
        pthread_setname_np(pthread_self(), "vigy-writer");  // visible in top -H, perf, gdb
        std::string prune_cursor;
        auto last_prune = std::chrono::steady_clock::now();
        std::uint64_t since_prune = 0;
        const auto prune_every = std::max(retention_.prune_interval, std::chrono::milliseconds(10));
        for (;;) {
            std::vector<item> batch;
            {
                std::unique_lock lock(mu_);
                work_cv_.wait_for(lock, prune_every, [&] { return !queue_.empty() || stopping_; });
                if (queue_.empty() && stopping_) break;
                const std::size_t n = std::min(queue_.size(), options_.max_batch);
                batch.reserve(n);
                for (std::size_t i = 0; i < n; ++i) {
                    batch.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                }
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
        const auto t0 = std::chrono::steady_clock::now();
        const std::uint64_t cpu0 = thread_cpu_us();
        std::vector<commit_result> results;
        results.reserve(batch.size());
        bool careful = false;  // per-commit savepoints only after a commit failed part-way
        for (int attempt = 0;; ++attempt) {
            results.clear();
            try {
                immediate_tx tx(*sql_, path_);
                applier_->begin_batch();
                for (const auto& it : batch) results.push_back(applier_->apply(it.commit, path_, careful));
                tx.commit();
                std::lock_guard lock(mu_);
                ++stats_.transactions;
                break;
            } catch (const needs_savepoints&) {
                // rolled back by the guard: redo the batch, isolating each commit
                careful = true;
                --attempt;
                continue;
            } catch (...) {
                error_code code = error_code::io;
                std::string msg;
                try {
                    rethrow(path_, fmt::format("committing a batch of {} runs", batch.size()));
                } catch (const error& e) {
                    code = e.code();
                    msg = e.what();
                }
                // Busy means someone else held the write lock for the whole busy timeout:
                // try twice more before giving the commits back as failed (nothing written).
                if (code == error_code::busy && attempt < 2) {
                    spdlog::warn("vigy store: {}; retrying", msg);
                    continue;
                }
                spdlog::error("vigy store: {}", msg);
                results.clear();
                for (const auto& it : batch) results.push_back(commit_result{false, it.commit.run.id, 0, code, msg});
                break;
            }
        }
        const auto busy = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
        const std::uint64_t cpu = thread_cpu_us() - cpu0;
        std::uint64_t ok = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (results[i].ok) ++ok;
            if (batch[i].done) {
                try {
                    batch[i].done(results[i]);
                } catch (...) {
                    // documented: callbacks must not throw; keep the writer alive regardless
                }
            }
        }
        {
            std::lock_guard lock(mu_);
            stats_.committed += ok;
            stats_.failed += batch.size() - ok;
            stats_.busy_us += static_cast<std::uint64_t>(busy.count());
            stats_.cpu_us += cpu;
            completed_ += batch.size();
        }
        done_cv_.notify_all();
    }

    void prune_once(std::string& cursor, std::uint64_t since) {
        retention_policy step = retention_;
        const std::int64_t chunk = std::max<std::int64_t>(step.prune_chunk, 1);
        // Keep pace with the insert rate: at least 1.25x what was committed since last time.
        step.prune_chunk = std::max<std::int64_t>(chunk, static_cast<std::int64_t>(since + since / 4));
        try {
            immediate_tx tx(*sql_, path_);
            const std::int64_t n = prune_step(*sql_, step, cursor);
            tx.commit();
            std::lock_guard lock(mu_);
            stats_.pruned_runs += static_cast<std::uint64_t>(n);
        } catch (...) {
            try {
                rethrow(path_, "pruning runs");
            } catch (const error& e) {
                spdlog::warn("vigy store: {}", e.what());
            }
        }
    }

    std::string path_;
    writer_options options_;
    retention_policy retention_;
    std::unique_ptr<soci::session> sql_;
    std::unique_ptr<commit_applier> applier_;

    mutable std::mutex mu_;
    std::condition_variable work_cv_, space_cv_, done_cv_;
    std::deque<item> queue_;
    writer_stats stats_;
    std::uint64_t completed_ = 0;
    bool stopping_ = false;
    bool thread_exited_ = false;

    std::mutex join_mu_;
    std::thread thread_;
    std::thread::id writer_thread_id_;
};

}  // namespace

std::unique_ptr<writer> start_writer(const std::string& path, const open_options& options) {
    return std::make_unique<writer_impl>(path, options);
}

}  // namespace vigy::store::detail
