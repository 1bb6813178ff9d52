// store/src/notify.cpp — the PostgreSQL change listener: one libpq connection of its own
// that LISTENs on the store's channels, driven without blocking (PQconnectStart/Poll,
// PQsocket + poll(), PQconsumeInput, PQnotifies) so that interrupt() ends any wait,
// reconnects included. The channels are notified by the store's own transactions
// (store.cpp, the postgres applier).
#include "vigy/store/notify.hpp"
#include "postgres.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace vigy::store {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// libpq's messages span lines and indent with tabs: one line, single spaces.
std::string one_line(std::string_view m) {
    std::string out;
    for (char c : m) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

unsigned topic_of(const char* channel) noexcept {
    if (std::strcmp(channel, channel_vigies) == 0) return topic_vigies;
    if (std::strcmp(channel, channel_runs) == 0) return topic_runs;
    if (std::strcmp(channel, channel_tick_requests) == 0) return topic_tick_requests;
    return 0;
}

}  // namespace

struct change_listener::impl {
    enum class phase { down, connecting, subscribing, up };

    std::string display;
    std::string keywords;  // may hold the password: never shown
    listen_options opt;
    PGconn* conn = nullptr;
    phase ph = phase::down;
    PostgresPollingStatusType want = PGRES_POLLING_WRITING;
    steady::time_point attempt_deadline{}, next_attempt{};
    std::int64_t backoff_ms = 0;
    bool loss_reported = false;  // the current outage was reported as `lost`
    bool was_up = false;         // up at least once (a later success is `restored`)
    unsigned pending = 0;        // topics read but not yet returned
    std::string error, notice;
    int efd = -1;
    std::atomic<bool> up{false};
    std::atomic<std::uint64_t> notes{0}, restores{0};

    ~impl() {
        close();
        if (efd >= 0) ::close(efd);
    }

    void close() {
        if (conn != nullptr) PQfinish(conn);
        conn = nullptr;
        up = false;
    }

    /// The connection failed or an attempt did: down, next attempt after the backoff.
    void fail(std::string why, bool was_connected) {
        const std::string extra = notice.empty() ? std::string() : " (" + notice + ")";
        error = fmt::format("change listener on {}: {}{}", display, one_line(why), extra);
        notice.clear();
        close();
        ph = phase::down;
        if (was_connected) {
            loss_reported = false;  // a new outage: report it
            backoff_ms = opt.min_backoff_ms;
        }
        next_attempt = steady::now() + milliseconds(backoff_ms);
        backoff_ms = std::min(std::max<std::int64_t>(backoff_ms * 2, 1), opt.max_backoff_ms);
    }

    void start_attempt() {
        close();
        conn = PQconnectStart(keywords.c_str());
        if (conn == nullptr) return fail("out of memory", false);
        PQsetNoticeReceiver(
            conn,
            [](void* self, const PGresult* r) {
                // the server's FATAL on termination arrives as a notice: keep it for the message
                static_cast<impl*>(self)->notice = one_line(PQresultErrorMessage(r));
            },
            this);
        if (PQstatus(conn) == CONNECTION_BAD) return fail(PQerrorMessage(conn), false);
        ph = phase::connecting;
        want = PGRES_POLLING_WRITING;
        attempt_deadline = steady::now() + milliseconds(std::max<std::int64_t>(opt.connect_timeout_ms, 1));
    }

    /// One step of the attempt after its socket was ready; true when it is up now.
    bool step_attempt() {
        if (ph == phase::connecting) {
            want = PQconnectPoll(conn);
            if (want == PGRES_POLLING_FAILED) {
                fail(fmt::format("cannot connect: {}", PQerrorMessage(conn)), false);
                return false;
            }
            if (want != PGRES_POLLING_OK) return false;
            const std::string q =
                fmt::format("LISTEN {}; LISTEN {}; LISTEN {}", channel_vigies, channel_runs, channel_tick_requests);
            if (PQsendQuery(conn, q.c_str()) == 0) {
                fail(fmt::format("LISTEN failed: {}", PQerrorMessage(conn)), false);
                return false;
            }
            ph = phase::subscribing;
            return false;
        }
        // subscribing: read the LISTEN results
        if (PQconsumeInput(conn) == 0) {
            fail(fmt::format("LISTEN failed: {}", PQerrorMessage(conn)), false);
            return false;
        }
        while (PQisBusy(conn) == 0) {
            PGresult* r = PQgetResult(conn);
            if (r == nullptr) {
                ph = phase::up;
                up = true;
                backoff_ms = opt.min_backoff_ms;
                collect();  // read with the LISTEN results: the socket will not signal them again
                return true;
            }
            const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            const std::string why = ok ? std::string() : PQresultErrorMessage(r);
            PQclear(r);
            if (!ok) {
                fail(fmt::format("LISTEN failed: {}", why), false);
                return false;
            }
        }
        return false;
    }

    /// Reads what arrived on the live connection; false when it is lost.
    bool read_up() {
        if (PQconsumeInput(conn) == 0 || PQstatus(conn) == CONNECTION_BAD) {
            collect();  // what was read before the end still counts
            // The server's own reason (a FATAL notice: "terminating connection due to
            // administrator command") says more than libpq's "server closed the connection".
            std::string why = notice.empty() ? std::string(PQerrorMessage(conn)) : notice;
            notice.clear();
            fail(fmt::format("connection lost: {}", why), true);
            return false;
        }
        collect();
        return true;
    }

    void collect() {
        while (PGnotify* n = PQnotifies(conn)) {
            pending |= topic_of(n->relname);
            notes.fetch_add(1, std::memory_order_relaxed);
            PQfreemem(n);
        }
    }

    /// Connects now, blocking up to the connect timeout (listen()'s first connection).
    void connect_blocking() {
        start_attempt();
        while (ph == phase::connecting || ph == phase::subscribing) {
            const auto left = attempt_deadline - steady::now();
            if (left <= steady::duration::zero()) {
                fail("cannot connect: timed out", false);
                break;
            }
            pollfd p{PQsocket(conn),
                     static_cast<short>(ph == phase::connecting && want == PGRES_POLLING_WRITING ? POLLOUT : POLLIN),
                     0};
            const int ms = static_cast<int>(std::chrono::ceil<milliseconds>(left).count());
            if (::poll(&p, 1, ms) < 0 && errno != EINTR) {
                fail(fmt::format("poll failed: {}", std::strerror(errno)), false);
                break;
            }
            if (p.revents != 0 && step_attempt()) was_up = true;
        }
    }

    result wait(std::int64_t timeout_ms) {
        const auto deadline = steady::now() + milliseconds(std::max<std::int64_t>(timeout_ms, 0));
        bool polled = false;
        for (;;) {
            if (pending != 0) {
                result r{event::notified, pending, {}};
                pending = 0;
                return r;
            }
            if (ph == phase::down && !loss_reported) {
                loss_reported = true;
                return {event::lost, 0, error};
            }
            auto now = steady::now();
            if (ph == phase::down && now >= next_attempt) {
                start_attempt();
                continue;
            }
            if ((ph == phase::connecting || ph == phase::subscribing) && now >= attempt_deadline) {
                fail("cannot connect: timed out", false);
                continue;
            }
            if (polled && now >= deadline) return {event::timeout, 0, {}};
            auto until = deadline;
            if (ph == phase::down) until = std::min(until, next_attempt);
            if (ph == phase::connecting || ph == phase::subscribing) until = std::min(until, attempt_deadline);
            pollfd fds[2] = {{efd, POLLIN, 0}, {-1, 0, 0}};
            nfds_t n = 1;
            if (ph != phase::down) {
                fds[1].fd = PQsocket(conn);
                fds[1].events =
                    static_cast<short>(ph == phase::connecting && want == PGRES_POLLING_WRITING ? POLLOUT : POLLIN);
                n = 2;
            }
            const int ms = until > now ? static_cast<int>(std::chrono::ceil<milliseconds>(until - now).count()) : 0;
            const int rc = ::poll(fds, n, ms);
            polled = true;
            if (rc < 0) {
                if (errno == EINTR) continue;
                return {event::timeout, 0, {}};
            }
            if ((fds[0].revents & POLLIN) != 0) {
                std::uint64_t v = 0;
                while (::read(efd, &v, sizeof v) > 0) {
                }
                return {event::interrupted, 0, {}};
            }
            if (n == 2 && fds[1].revents != 0) {
                if (ph == phase::up) {
                    (void)read_up();
                } else if (step_attempt()) {
                    const bool restored = was_up || loss_reported;
                    was_up = true;
                    if (restored) {
                        restores.fetch_add(1, std::memory_order_relaxed);
                        loss_reported = false;
                        return {event::restored, 0, {}};
                    }
                }
            }
        }
    }
};

change_listener::change_listener(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
change_listener::~change_listener() = default;

change_listener::result change_listener::wait(std::int64_t timeout_ms) { return impl_->wait(timeout_ms); }

void change_listener::interrupt() noexcept {
    const std::uint64_t one = 1;
    (void)!::write(impl_->efd, &one, sizeof one);
}

bool change_listener::connected() const noexcept { return impl_->up.load(); }
std::uint64_t change_listener::notifications() const noexcept { return impl_->notes.load(); }
std::uint64_t change_listener::reconnects() const noexcept { return impl_->restores.load(); }

namespace postgres {

std::unique_ptr<change_listener> listen(const database& db, const listen_options& options) {
    auto p = std::make_unique<change_listener::impl>();
    p->display = db.display;
    conninfo ci = to_keywords(db);
    // A LISTEN connection is idle for long stretches: without keepalives a cut network
    // (no FIN, no RST) would leave it "up" and deaf until the kernel's 2-hour default.
    if (!ci.keepalives) ci.keywords += " keepalives=1 keepalives_idle=10 keepalives_interval=5 keepalives_count=3";
    // Operators (and tests) tell it from the store's sessions in pg_stat_activity.
    ci.keywords += " fallback_application_name=vigy-listener";
    p->keywords = std::move(ci.keywords);
    p->opt = options;
    p->opt.min_backoff_ms = std::max<std::int64_t>(p->opt.min_backoff_ms, 1);
    p->opt.max_backoff_ms = std::max(p->opt.max_backoff_ms, p->opt.min_backoff_ms);
    p->backoff_ms = p->opt.min_backoff_ms;
    p->efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0)
        vigy::fail(VIGY_RESOURCE_EXHAUSTED,
                   fmt::format("change listener on {}: eventfd failed: {}", db.display, std::strerror(errno)));
    p->connect_blocking();
    return std::make_unique<change_listener>(std::move(p));
}

}  // namespace postgres

}  // namespace vigy::store
