// host/src/schedule/schedule_spec.cpp — the schedule spec: flags -> spec,
// validation, compact JSON for the store, and the one-line summary.
#include "vigy/host/schedule.hpp"

#include "vigy/host/tick_context.hpp"  // format_rfc3339_ms / parse_rfc3339_ms
#include "vigy/sdk.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>

namespace vigy::host {

namespace {

[[noreturn]] void bad(const std::string& message) { sdk::fail(VIGY_INVALID_ARGUMENT, message); }

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::string rfc3339(int64_t ms) {
    std::string s = format_rfc3339_ms(ms);
    if (s.size() > 5 && s.compare(s.size() - 5, 5, ".000Z") == 0) s.replace(s.size() - 5, 5, "Z");
    return s;
}

std::string join_triggers(const std::vector<trigger_spec>& ts) {
    std::string out;
    for (const auto& t : ts) {
        if (!out.empty()) out += ", ";
        out += t.to_string();
    }
    return out;
}

int64_t parse_every(std::string_view text) {
    int64_t ms = 0;
    if (all_digits(text)) {
        if (text.size() > 15) bad("--every " + std::string(text) + " is too long");
        ms = std::stoll(std::string(text));
    } else {
        ms = parse_duration_ms(text, "--every");
    }
    if (ms < min_every_ms)
        bad("invalid tick interval " + std::to_string(ms) +
            " ms (--every): must be >= " + std::to_string(min_every_ms));
    return ms;
}

int64_t parse_count(std::string_view text, std::string_view flag) {
    if (!all_digits(text) || text.size() > 9)
        bad("invalid " + std::string(flag) + " \"" + std::string(text) + "\": expected a whole number >= 0");
    return std::stoll(std::string(text));
}

}  // namespace

const char* to_string(schedule_kind k) noexcept {
    switch (k) {
    case schedule_kind::every: return "every";
    case schedule_kind::cron: return "cron";
    case schedule_kind::once: return "once";
    case schedule_kind::trigger: return "trigger";
    }
    return "every";
}

std::optional<int64_t> schedule_spec::next_slot(int64_t after_ms, int64_t anchor_ms) const {
    switch (kind) {
    case schedule_kind::every:
        if (after_ms < anchor_ms) return anchor_ms;
        return anchor_ms + ((after_ms - anchor_ms) / every_ms + 1) * every_ms;
    case schedule_kind::cron: return cron ? cron->next(after_ms) : std::nullopt;
    case schedule_kind::once: {
        const int64_t t = at_ms.value_or(anchor_ms);
        if (t > after_ms) return t;
        return std::nullopt;
    }
    case schedule_kind::trigger: return std::nullopt;
    }
    return std::nullopt;
}

int64_t schedule_spec::period_at(int64_t slot_ms) const {
    if (kind == schedule_kind::every) return every_ms;
    if (kind == schedule_kind::cron && cron) {
        const auto n = cron->next(slot_ms);
        return n ? *n - slot_ms : 0;
    }
    return 0;
}

void schedule_spec::validate() const {
    const bool timer = kind == schedule_kind::every || kind == schedule_kind::cron;
    if (kind == schedule_kind::every && every_ms < min_every_ms)
        bad("invalid tick interval " + std::to_string(every_ms) +
            " ms (--every): must be >= " + std::to_string(min_every_ms));
    if (kind == schedule_kind::cron && !cron) bad("a cron schedule needs an expression (--cron)");
    if (kind != schedule_kind::cron && cron) bad("a cron expression belongs to a cron schedule only");
    if (kind != schedule_kind::once && at_ms) bad("--at needs --once");
    if (kind == schedule_kind::trigger && triggers.empty()) bad("a triggered vigy needs at least one --on");
    if (kind == schedule_kind::once && !triggers.empty())
        bad("--on cannot be combined with --once (a one-shot runs once; give --on alone for a triggered vigy)");
    for (std::size_t i = 0; i < triggers.size(); ++i)
        for (std::size_t j = i + 1; j < triggers.size(); ++j)
            if (triggers[i] == triggers[j]) bad("--on " + triggers[i].to_string() + " is given twice");
    if (!jitter.none()) {
        if (!timer) bad("--jitter needs --every or --cron (it spreads timer ticks)");
        if (jitter.percent < 0 || jitter.percent > 100)
            bad("--jitter " + jitter.to_string() + ": must be between 1% and 100%");
        if (jitter.window_ms < 0) bad("--jitter must not be negative");
        if (kind == schedule_kind::every && jitter.percent == 0 && jitter.window_ms >= every_ms)
            bad("--jitter " + jitter.to_string() + " must be less than the interval " + format_duration_ms(every_ms) +
                " (--every), or use a percentage such as 10%");
    }
    if (catch_up_ms < 0) bad("--catch-up must not be negative");
    if (catch_up_ms > 0 && !timer) bad("--catch-up needs --every or --cron (only timer slots can be missed)");
    supervision.validate();
}

bool operator==(const schedule_spec& a, const schedule_spec& b) {
    const bool cron_eq =
        a.cron.has_value() == b.cron.has_value() &&
        (!a.cron || (a.cron->expression() == b.cron->expression() && a.cron->zone() == b.cron->zone()));
    return a.kind == b.kind && a.every_ms == b.every_ms && cron_eq && a.at_ms == b.at_ms && a.triggers == b.triggers &&
           a.jitter == b.jitter && a.catch_up_ms == b.catch_up_ms && a.supervision == b.supervision;
}

schedule_spec parse_schedule_flags(const schedule_flags& f, int64_t now_ms) {
    std::vector<std::string> timers;
    if (f.every) timers.emplace_back("--every");
    if (f.cron) timers.emplace_back("--cron");
    if (f.once) timers.emplace_back("--once");
    if (timers.size() > 1) bad(timers[0] + " and " + timers[1] + " are mutually exclusive: give one schedule");
    if (f.tz && !f.cron) bad("--tz needs --cron (it is the zone the cron expression is read in)");
    if (f.at && !f.once) bad("--at needs --once");

    schedule_spec s;
    for (const auto& on : f.on) s.triggers.push_back(parse_trigger(on));
    if (f.every) {
        s.kind = schedule_kind::every;
        s.every_ms = parse_every(*f.every);
    } else if (f.cron) {
        s.kind = schedule_kind::cron;
        const time_zone tz = f.tz ? time_zone::locate(*f.tz) : time_zone::utc();
        try {
            s.cron = cron_schedule::parse(*f.cron, tz);
        } catch (const sdk::status_error& e) {
            bad("--cron \"" + *f.cron + "\": " + e.what());
        }
    } else if (f.once) {
        s.kind = schedule_kind::once;
        if (f.at) {
            const std::string& at = *f.at;
            if (!at.empty() && at.front() == '+') {
                s.at_ms = now_ms + parse_duration_ms(std::string_view(at).substr(1), "--at");
            } else {
                const auto t = parse_rfc3339_ms(at);
                if (!t)
                    bad("--at " + at +
                        ": expected an RFC 3339 time such as 2026-12-01T09:00:00Z or +01:00, or +DURATION such as +5m");
                if (*t < now_ms - 1000)
                    bad("--at " + at + " is in the past (now is " + rfc3339(now_ms / 1000 * 1000) + ")");
                s.at_ms = *t;
            }
        }
    } else if (!s.triggers.empty()) {
        s.kind = schedule_kind::trigger;
    } else {
        s.kind = schedule_kind::every;
        s.every_ms = default_every_ms;
    }
    if (f.jitter) s.jitter = parse_jitter(*f.jitter);
    if (f.catch_up) s.catch_up_ms = parse_duration_ms(*f.catch_up, "--catch-up");
    if (f.max_failures) s.supervision.max_failures = parse_count(*f.max_failures, "--max-failures");
    if (f.within) {
        s.supervision.within_ms = parse_duration_ms(*f.within, "--within");
        if (s.supervision.within_ms == 0) bad("--within " + *f.within + " must be more than 0");
    }
    if (f.cool_down) s.supervision.cool_down_ms = parse_duration_ms(*f.cool_down, "--cool-down");
    s.validate();
    return s;
}

std::string schedule_spec::to_json() const {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("kind");
    w.String(to_string(kind));
    if (kind == schedule_kind::every) {
        w.Key("every_ms");
        w.Int64(every_ms);
    }
    if (cron) {
        w.Key("cron");
        w.String(cron->expression().c_str(), static_cast<rapidjson::SizeType>(cron->expression().size()));
        if (!cron->zone().is_utc()) {
            w.Key("tz");
            w.String(cron->zone().name().c_str());
        }
    }
    if (at_ms) {
        w.Key("at_ms");
        w.Int64(*at_ms);
    }
    if (!triggers.empty()) {
        w.Key("on");
        w.StartArray();
        for (const auto& t : triggers) w.String(t.to_string().c_str());
        w.EndArray();
    }
    if (!jitter.none()) {
        w.Key("jitter");
        w.String(jitter.to_string().c_str());
    }
    if (catch_up_ms) {
        w.Key("catch_up_ms");
        w.Int64(catch_up_ms);
    }
    if (supervision.max_failures != supervision_spec::default_max_failures) {
        w.Key("max_failures");
        w.Int64(supervision.max_failures);
    }
    if (supervision.within_ms != supervision_spec::default_within_ms) {
        w.Key("within_ms");
        w.Int64(supervision.within_ms);
    }
    if (supervision.cool_down_ms) {
        w.Key("cool_down_ms");
        w.Int64(supervision.cool_down_ms);
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

schedule_spec schedule_from_json(std::string_view json) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError())
        bad("schedule json is not valid at offset " + std::to_string(d.GetErrorOffset()) + ": " +
            rapidjson::GetParseError_En(d.GetParseError()));
    if (!d.IsObject()) bad("schedule json must be an object");
    auto member_error = [](const std::string& name, const char* what) {
        bad("schedule json: \"" + name + "\" " + what);
    };
    auto int_of = [&](const rapidjson::Value& v, const std::string& name) {
        if (!v.IsInt64()) member_error(name, "must be an integer");
        return v.GetInt64();
    };
    auto str_of = [&](const rapidjson::Value& v, const std::string& name) {
        if (!v.IsString()) member_error(name, "must be a string");
        return std::string(v.GetString(), v.GetStringLength());
    };

    schedule_spec s;
    std::optional<std::string> kind, cron, tz;
    bool every_given = false;
    for (const auto& m : d.GetObject()) {
        const std::string name(m.name.GetString(), m.name.GetStringLength());
        const rapidjson::Value& v = m.value;
        if (name == "kind")
            kind = str_of(v, name);
        else if (name == "every_ms")
            s.every_ms = int_of(v, name), every_given = true;
        else if (name == "cron")
            cron = str_of(v, name);
        else if (name == "tz")
            tz = str_of(v, name);
        else if (name == "at_ms")
            s.at_ms = int_of(v, name);
        else if (name == "on") {
            if (!v.IsArray()) member_error(name, "must be an array of strings");
            for (const auto& t : v.GetArray()) s.triggers.push_back(parse_trigger(str_of(t, "on[]")));
        } else if (name == "jitter")
            s.jitter = parse_jitter(str_of(v, name));
        else if (name == "catch_up_ms")
            s.catch_up_ms = int_of(v, name);
        else if (name == "max_failures")
            s.supervision.max_failures = int_of(v, name);
        else if (name == "within_ms")
            s.supervision.within_ms = int_of(v, name);
        else if (name == "cool_down_ms")
            s.supervision.cool_down_ms = int_of(v, name);
        else
            member_error(name, "is not a schedule member");
    }
    if (!kind) bad("schedule json: \"kind\" is missing");
    if (*kind == "every")
        s.kind = schedule_kind::every;
    else if (*kind == "cron")
        s.kind = schedule_kind::cron;
    else if (*kind == "once")
        s.kind = schedule_kind::once;
    else if (*kind == "trigger")
        s.kind = schedule_kind::trigger;
    else
        bad("schedule json: unknown kind \"" + *kind + "\" (known: every, cron, once, trigger)");
    if (every_given && s.kind != schedule_kind::every) bad("schedule json: \"every_ms\" belongs to kind every only");
    if (tz && !cron) bad("schedule json: \"tz\" needs \"cron\"");
    if (cron) s.cron = cron_schedule::parse(*cron, tz ? time_zone::locate(*tz) : time_zone::utc());
    s.validate();
    return s;
}

std::string schedule_spec::summary() const {
    std::string out;
    switch (kind) {
    case schedule_kind::every: out = "every " + format_duration_ms(every_ms); break;
    case schedule_kind::cron:
        out = "cron " + (cron ? cron->expression() : std::string("?"));
        if (cron && !cron->zone().is_utc()) out += " (" + cron->zone().name() + ")";
        break;
    case schedule_kind::once: out = at_ms ? "once at " + rfc3339(*at_ms) : "once"; break;
    case schedule_kind::trigger: out = "on " + join_triggers(triggers); break;
    }
    if (kind != schedule_kind::trigger && !triggers.empty()) out += ", on " + join_triggers(triggers);
    if (!jitter.none()) out += ", jitter " + jitter.to_string();
    if (catch_up_ms) out += ", catch-up " + format_duration_ms(catch_up_ms);
    if (!supervision.is_default()) {
        if (supervision.max_failures == 0) {
            out += ", never degraded";
        } else {
            out += ", degraded after " + std::to_string(supervision.max_failures) + " failure" +
                   (supervision.max_failures == 1 ? "" : "s") + " in " + format_duration_ms(supervision.within_ms);
            if (supervision.cool_down_ms) out += ", cool-down " + format_duration_ms(supervision.cool_down_ms);
        }
    }
    return out;
}

}  // namespace vigy::host
