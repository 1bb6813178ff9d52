// host/src/schedule/catch_up.cpp — at most one catch-up tick for slots missed
// while nothing was serving (systemd Persistent=, CronJob startingDeadlineSeconds).
#include "vigy/host/schedule.hpp"

#include <algorithm>

namespace vigy::host {

std::optional<int64_t> catch_up_slot(const schedule_spec& spec, int64_t since_ms, int64_t now_ms, int64_t anchor_ms) {
    if (spec.catch_up_ms <= 0 || now_ms <= since_ms) return std::nullopt;
    // Slots S with lo < S <= now_ms qualify: after the last handled slot and
    // no older than the window.
    const int64_t lo = std::max(since_ms, now_ms - spec.catch_up_ms - 1);
    if (spec.kind == schedule_kind::every) {
        if (now_ms < anchor_ms) return std::nullopt;
        const int64_t latest = anchor_ms + (now_ms - anchor_ms) / spec.every_ms * spec.every_ms;
        if (latest > lo) return latest;
        return std::nullopt;
    }
    if (spec.kind != schedule_kind::cron || !spec.cron) return std::nullopt;
    const auto first = spec.cron->next(lo);
    if (!first || *first > now_ms) return std::nullopt;
    // The latest slot <= now_ms: the largest x with next(x) <= now_ms, by
    // bisection (a per-second cron over a day-long window would otherwise
    // take 86,400 steps).
    int64_t yes = *first - 1;  // next(yes) == *first <= now_ms
    int64_t no = now_ms;       // next(no) > now_ms
    while (no - yes > 1) {
        const int64_t mid = yes + (no - yes) / 2;
        const auto n = spec.cron->next(mid);
        if (n && *n <= now_ms)
            yes = mid;
        else
            no = mid;
    }
    return spec.cron->next(yes);
}

}  // namespace vigy::host
