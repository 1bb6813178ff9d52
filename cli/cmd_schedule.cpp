// cli/cmd_schedule.cpp — `vigy schedule next SCHEDULE [--count N] [--from TIME]
// [--tz ZONE]`: the next fire times of a cron expression, a macro or a fixed
// rate, like `systemd-analyze calendar` (local time, UTC, time from now).
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"
#include "style.hpp"

#include "vigy/error.hpp"

#include "vigy/host/schedule.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

namespace vigy::cli {
namespace {

struct schedule_next_options {
    std::vector<std::string> schedule;  // joined with spaces: quoting is optional
    int count = 5;
    std::string from;
    std::string tz;
};

constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/// "Sun 2026-03-08 03:00:00 EDT".
std::string calendar_text(int64_t ms, const host::time_zone& tz) {
    const host::civil_time c = host::to_civil(ms, tz);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s %04d-%02u-%02u %02u:%02u:%02u %s", weekdays[c.weekday], c.year, c.month, c.day,
                  c.hour, c.minute, c.second, c.abbrev.c_str());
    return buf;
}

/// "3d 4h left", "12m 5s left", "now", "2h ago": the two largest units.
std::string from_now(int64_t delta_ms) {
    if (delta_ms > -1000 && delta_ms < 1000) return "now";
    const bool past = delta_ms < 0;
    int64_t s = (past ? -delta_ms : delta_ms) / 1000;
    struct unit {
        const char* name;
        int64_t seconds;
    };
    constexpr unit units[] = {{"y", 365 * 86400}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
    std::string out;
    int shown = 0;
    for (const auto& u : units) {
        if (shown == 2) break;
        if (s >= u.seconds) {
            if (!out.empty()) out += ' ';
            out += std::to_string(s / u.seconds) + u.name;
            s %= u.seconds;
            ++shown;
        } else if (shown) {
            ++shown;  // keep the two units adjacent: "1d 3h", never "1d 5s"
        }
    }
    return out + (past ? " ago" : " left");
}

/// The schedule argument as a spec: "every 10s" / "every 1500" (a fixed rate;
/// --tz only changes how its times are shown) or a cron expression / macro.
host::schedule_spec parse_schedule_arg(const std::string& text, const std::string& tz) {
    host::schedule_flags f;
    const std::string every = "every ";
    if (text.rfind(every, 0) == 0) {
        f.every = text.substr(every.size());
    } else {
        f.cron = text;
        if (!tz.empty()) f.tz = tz;
    }
    return host::parse_schedule_flags(f, 0);
}

int run_next(context& ctx, const schedule_next_options& o) {
    std::string text;
    for (const auto& part : o.schedule) {
        if (!text.empty()) text += ' ';
        text += part;
    }
    if (text.empty()) usage_error("a schedule is required, e.g. vigy schedule next '*/5 * * * *'");
    const int64_t now = now_ms();
    int64_t from = now;
    if (!o.from.empty()) {
        const auto t = parse_rfc3339(o.from);
        if (!t) usage_error("--from " + o.from + ": expected an RFC 3339 time such as 2026-03-08T00:00:00Z");
        from = *t;
    }

    host::schedule_spec spec;
    host::time_zone tz;
    try {
        if (!o.tz.empty()) tz = host::time_zone::locate(o.tz);
        spec = parse_schedule_arg(text, o.tz);
    } catch (const vigy::sdk::status_error& e) {
        std::string msg = e.what();
        const std::string prefix = "--cron \"" + text + "\": ";
        if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());  // the expression is the argument here
        vigy::fail(VIGY_INVALID_ARGUMENT, "invalid schedule \"" + text + "\": " + msg);
    }

    std::vector<int64_t> times;
    int64_t t = from;
    for (int i = 0; i < o.count; ++i) {
        const auto n = spec.next_slot(t, from + spec.every_ms);
        if (!n) break;
        times.push_back(*n);
        t = *n;
    }

    const bool cron = spec.kind == host::schedule_kind::cron;
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("schedule");
        w.String(text.c_str());
        w.Key("kind");
        w.String(host::to_string(spec.kind));
        w.Key("tz");
        w.String(tz.name().c_str());
        if (cron) {
            w.Key("dst_rule");
            w.String(spec.cron->wildcard_time() ? "wildcard" : "fixed");
        }
        w.Key("from");
        w.String(rfc3339_ms(from).c_str());
        w.Key("next");
        w.StartArray();
        for (const int64_t x : times) {
            w.StartObject();
            w.Key("at");
            w.String(rfc3339_ms(x).c_str());
            w.Key("local");
            w.String(host::format_rfc3339_local(x, tz).c_str());
            w.Key("abbrev");
            w.String(host::to_civil(x, tz).abbrev.c_str());
            w.Key("epoch_ms");
            w.Int64(x);
            w.Key("in_ms");
            w.Int64(x - now);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        print_json(std::cout, std::string(buf.GetString(), buf.GetSize()));
        return exit_ok;
    }

    const style st{ctx.color};
    auto line = [](const std::string& label, const std::string& value) {
        std::string pad(label.size() < 15 ? 15 - label.size() : 0, ' ');
        std::cout << pad << label << ": " << value << "\n";
    };
    line("Original form", text);
    if (cron && spec.cron->expression() != text) line("Normalized form", spec.cron->expression());
    line("Time zone", tz.name());
    if (cron)
        line("DST rule", spec.cron->wildcard_time()
                             ? "wildcard (fires at every real instant that matches)"
                             : "fixed time (a skipped time fires once after the change, a repeated one once)");
    if (!o.from.empty()) line("From", rfc3339_ms(from));
    if (times.empty()) {
        line("Next elapse", st.dim("never"));
        return exit_ok;
    }
    for (std::size_t i = 0; i < times.size(); ++i) {
        line(i == 0 ? "Next elapse" : "Iter. #" + std::to_string(i + 1), st.bold(calendar_text(times[i], tz)));
        if (!tz.is_utc()) line("(in UTC)", calendar_text(times[i], host::time_zone::utc()));
        line("From now", from_now(times[i] - now));
    }
    return exit_ok;
}

void add_schedule(CLI::App& root, context& ctx) {
    auto* sched = root.add_subcommand("schedule", "work with schedules (cron expressions, fixed rates)");
    sched->require_subcommand(1);
    auto* next = sched->add_subcommand(
        "next", "print the next fire times of a schedule, in a zone and in UTC (like systemd-analyze calendar)");
    auto opts = std::make_shared<schedule_next_options>();
    next->add_option("SCHEDULE", opts->schedule,
                     "a cron expression (5 fields, or 6 with a leading second), a macro such as @daily, "
                     "or a fixed rate such as \"every 10s\"; quote it or not");
    next->add_option("--count,-n", opts->count, "how many fire times to print")
        ->type_name("N")
        ->default_val(5)
        ->check(CLI::Range(1, 1000));
    next->add_option("--from", opts->from, "start after this RFC 3339 time instead of now")->type_name("TIME");
    next->add_option("--tz", opts->tz, "IANA time zone the expression is read in (default UTC)")->type_name("ZONE");
    next->footer(
        "\nExamples:\n"
        "  vigy schedule next '*/15 9-17 * * mon-fri' --tz Europe/Berlin\n"
        "  vigy schedule next '30 2 * * *' --tz America/New_York --from 2026-03-07T00:00:00Z --count 3\n"
        "  vigy schedule next @hourly -o json\n"
        "  vigy schedule next every 90s\n");
    set_action(next, ctx, [&ctx, opts] { return run_next(ctx, *opts); });
}

}  // namespace

VIGY_CLI_COMMAND(add_schedule);

}  // namespace vigy::cli
