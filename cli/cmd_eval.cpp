// cli/cmd_eval.cpp — `vigy eval`: run a program in memory, without a database.
//
//   vigy eval FILE | -e SRC [--each]                 one evaluation; prints the printed
//                                                   last value (every value with --each)
//   vigy eval FILE --ticks N [--every MS] [--kv k=json]… [-o json]
//                                                   N simulated ticks, printing what each
//                                                   tick did
//
// Ticks go through host::evaluate — the runtime's own tick pipeline with the `lisp`
// reconciler kind (--kind for another) and every loaded extension: the reconciler is
// created once, each tick sees the kv and the tick clock the previous successful ticks
// left, conditions carry their last_transition, and a failed tick saves nothing. Time is
// simulated: tick i starts at start + i·every ms, no sleeping.
#include "cli.hpp"
#include "human.hpp"
#include "json_out.hpp"

#include "vigy/host/registry.hpp"
#include "vigy/host/value.hpp"

#include <rapidjson/document.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace vigy::cli {
namespace {

struct eval_options {
    std::string file;
    std::string expr;
    bool each = false;
    int64_t ticks = 0;
    int64_t every_ms = 1000;
    std::string trigger;
    int64_t start_ms = -1;
    std::vector<std::string> kv;
    std::vector<std::string> allow;
    std::string kind = "lisp";
};

std::string read_source(const eval_options& o, std::string& source_name) {
    if (!o.expr.empty() && !o.file.empty()) usage_error("give either FILE or -e SRC, not both");
    if (o.expr.empty() && o.file.empty()) usage_error("nothing to evaluate: give FILE or -e SRC");
    if (!o.expr.empty()) {
        source_name = "<expr>";
        return o.expr;
    }
    std::ostringstream text_out;
    if (o.file == "-") {
        source_name = "<stdin>";
        text_out << std::cin.rdbuf();
        return text_out.str();
    }
    std::ifstream in(o.file, std::ios::binary);
    if (!in) vigy::fail(VIGY_FAILED_PRECONDITION, "cannot read " + o.file + ": " + std::strerror(errno));
    text_out << in.rdbuf();
    source_name = o.file;
    return text_out.str();
}

std::map<std::string, std::string> parse_kv(const std::vector<std::string>& items) {
    std::map<std::string, std::string> kv;
    for (const std::string& item : items) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0) usage_error("--kv must be KEY=JSON, got \"" + printable(item) + "\"");
        try {
            (void)host::value::from_json(std::string_view(item).substr(eq + 1));
        } catch (const host::json_error& e) {
            usage_error("--kv " + item.substr(0, eq) + ": " + e.what());
        }
        kv[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return kv;
}

std::string config_json(const std::string& program, const std::string& source_name, bool each) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("program");
    write_string(w, program);
    w.Key("source_name");
    write_string(w, source_name);
    w.Key("each");
    w.Bool(each);
    w.EndObject();
    return text(buf);
}

// ---- JSON output -----------------------------------------------------------------------

// ---- human output ----------------------------------------------------------------------

/// "k=v, ..." of a JSON object.
std::string map_text(const std::string& json) { return object_summary(json); }

const char* str_member(const rapidjson::Value& v, const char* k) {
    return v.IsObject() && v.HasMember(k) && v[k].IsString() ? v[k].GetString() : nullptr;
}

std::string json_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return text(b);
}

void print_human_tick(std::ostream& out, const host::evaluated_tick& t, int64_t index, const style& st) {
    const host::run& r = t.result;
    const bool ok = r.result == host::run_result::ok;
    out << st.bold("tick " + std::to_string(index)) << "  " << rfc3339_ms(r.started_ms) << "  count " << r.tick_count
        << "  " << (ok ? st.green("ok") : st.red("failed")) << "\n";
    auto line = [&](const char* label, const std::string& s) {
        if (!s.empty()) out << "  " << st.dim(label) << printable(s) << "\n";
    };
    // what the program printed comes before why it failed
    if (r.output != "()" && r.output != "nil") line("output     ", one_line(r.output, 200));
    if (!ok) {
        std::string error = run_error_text(r);  // indent a caret diagnostic under the tick
        for (size_t p = error.find('\n'); p != std::string::npos; p = error.find('\n', p + 3))
            error.insert(p + 1, "  ");
        out << "  " << st.red("error: ") << printable(error) << "\n";
    }
    rapidjson::Document d;
    d.Parse(r.actions_json.c_str(), r.actions_json.size());
    if (ok && !d.HasParseError() && d.IsArray())
        for (const auto& a : d.GetArray()) {
            std::string s = str_member(a, "kind") ? str_member(a, "kind") : "?";
            if (a.IsObject() && a.HasMember("payload")) s += " " + json_text(a["payload"]);
            const char* res = str_member(a, "result");
            const char* msg = str_member(a, "message");
            if (res)
                s += std::string(" (") + res + (msg ? std::string(": ") + msg : std::string()) + ")";
            else if (msg)
                s += std::string(" (") + msg + ")";
            line("action     ", s);
        }
    if (ok) {
        line("desired    ", map_text(r.desired_json));
        line("observed   ", map_text(r.observed_json));
        d.Parse(r.conditions_json.c_str(), r.conditions_json.size());
        if (!d.HasParseError() && d.IsArray())
            for (const auto& c : d.GetArray()) {
                const char* type = str_member(c, "type");
                const char* status = str_member(c, "status");
                const char* reason = str_member(c, "reason");
                const char* message = str_member(c, "message");
                const char* since = str_member(c, "last_transition");
                std::string s = std::string(type ? type : "?") + "=" + (status ? status : "?");
                if (reason || message)
                    s += " (" + std::string(reason ? reason : "") +
                         (message ? (reason ? ": " : "") + std::string(message) : "") + ")";
                if (since) s += std::string(" since ") + since;
                line("condition  ", s);
            }
    }
    d.Parse(r.log_json.c_str(), r.log_json.size());
    if (!d.HasParseError() && d.IsArray())
        for (const auto& l : d.GetArray()) {
            const char* level = str_member(l, "level");
            const char* msg = str_member(l, "message");
            line("log        ", std::string("[") + (level ? level : "?") + "] " + (msg ? msg : ""));
        }
    line("trace      ", map_text(r.trace_json));
    line("metrics    ", map_text(r.metrics_json));
    if (ok) {
        d.Parse(r.events_json.c_str(), r.events_json.size());
        if (!d.HasParseError() && d.IsArray())
            for (const auto& e : d.GetArray()) {
                const char* type = str_member(e, "type");
                const char* reason = str_member(e, "reason");
                const char* msg = str_member(e, "message");
                line("event      ",
                     std::string(type ? type : "?") + " " + (reason ? reason : "") + ": " + (msg ? msg : ""));
            }
        std::string kv = map_text(r.kv_writes_json);
        d.Parse(r.kv_deletes_json.c_str(), r.kv_deletes_json.size());
        if (!d.HasParseError() && d.IsArray())
            for (const auto& k : d.GetArray())
                if (k.IsString()) kv += (kv.empty() ? "-" : ", -") + std::string(k.GetString(), k.GetStringLength());
        line("kv         ", kv);
    }
}

// ---- the command ---------------------------------------------------------------------------

int run_eval(context& ctx, const eval_options& o) {
    std::string source_name;
    const std::string program = read_source(o, source_name);
    require_utf8(program, source_name);
    if (o.ticks < 0) usage_error("--ticks must be >= 1");
    if (o.every_ms < 0) usage_error("--every must be >= 0");
    host::evaluate_options eo;
    eo.kv_json = parse_kv(o.kv);
    eo.ticks = o.ticks == 0 ? 1 : o.ticks;
    eo.every_ms = o.every_ms;
    eo.trigger_json = o.trigger;
    eo.start_ms = o.start_ms;

    host::registry& reg = ctx.plugins();
    host::vigy_spec spec;
    spec.name = source_name;
    spec.kind = o.kind;
    spec.config_json = config_json(program, source_name, o.each);
    spec.allow = o.allow;
    // an unknown kind or a program that does not build is an error, not a failed tick
    if (!reg.find_factory(o.kind)) {
        std::string known;
        for (const auto& k : reg.kinds()) known += (known.empty() ? "" : ", ") + k;
        vigy::fail(VIGY_INVALID_ARGUMENT,
                   "unknown reconciler kind \"" + o.kind + "\" (known: " + (known.empty() ? "none" : known) + ")");
    }
    const host::evaluation ev = host::evaluate(reg, spec, eo);
    const style st{ctx.color};

    if (o.ticks == 0) {  // evaluate once, print the value
        const host::run& r = ev.ticks.front().result;
        if (ctx.json()) {
            rapidjson::StringBuffer buf;
            json_writer w(buf);
            w.StartObject();
            w.Key("ticks");
            w.StartArray();
            api::write_evaluated_tick(w, ev.ticks.front(), 1);
            w.EndArray();
            w.EndObject();
            print_json(std::cout, text(buf));
            return r.result == host::run_result::ok ? exit_ok : exit_error;
        }
        // what the program printed first, then why it failed; a failing
        // program is exit status 1 whatever its code (the message carries the code)
        if (!r.output.empty()) std::cout << r.output << "\n";
        std::cout.flush();
        if (r.result != host::run_result::ok) {
            std::cerr << "error: " << printable(run_error_text(r)) << "\n";
            return exit_error;
        }
        return exit_ok;
    }

    bool any_failed = false;
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("ticks");
    w.StartArray();
    for (std::size_t i = 0; i < ev.ticks.size(); ++i) {
        any_failed = any_failed || ev.ticks[i].result.result != host::run_result::ok;
        if (ctx.json()) {
            api::write_evaluated_tick(w, ev.ticks[i], static_cast<int64_t>(i + 1));
        } else {
            if (i > 0) std::cout << "\n";
            print_human_tick(std::cout, ev.ticks[i], static_cast<int64_t>(i + 1), st);
        }
    }
    w.EndArray();
    if (ctx.json()) {
        w.Key("kv");
        write_raw_json(w, ev.kv_json, "{}");
        w.Key("conditions");
        write_raw_json(w, ev.conditions_json, "[]");
        w.EndObject();
        print_json(std::cout, text(buf));
    }
    return any_failed ? exit_error : exit_ok;
}

void add_eval(CLI::App& root, context& ctx) {
    auto o = std::make_shared<eval_options>();
    auto* sub = root.add_subcommand("eval", "evaluate a program in memory (no database), once or for N ticks");
    sub->add_option("file", o->file, "program file ('-' for stdin)")->type_name("FILE");
    sub->add_option("-e,--expr", o->expr, "program text to evaluate instead of a file")->type_name("SRC");
    sub->add_flag("--each", o->each, "print the value of every top-level form, not only the last");
    sub->add_option("--ticks", o->ticks, "run N simulated ticks and print what each did")->type_name("N");
    sub->add_option("--every", o->every_ms, "simulated tick interval in ms (default 1000)")->type_name("MS");
    sub->add_option("--trigger", o->trigger,
                    "simulate a triggered tick: (vigy-trigger) is {kind manual, source eval, payload JSON}")
        ->type_name("JSON");
    sub->add_option("--start-ms", o->start_ms, "first tick's start, epoch ms (default: now)")->type_name("MS");
    sub->add_option("--kv", o->kv, "initial kv entry KEY=JSON (repeatable)")
        ->type_name("KEY=JSON")
        ->allow_extra_args(false);
    sub->add_option("--allow", o->allow, "grant the capability (plugin id) ID beyond the defaults (repeatable)")
        ->type_name("ID")
        ->allow_extra_args(false);
    sub->add_option("--kind", o->kind, "reconciler kind (default lisp)")->type_name("KIND");
    sub->footer(std::string("Without --ticks the program is evaluated once and its printed last value goes\n"
                            "to stdout; an error goes to stderr (after what the program printed) with\n"
                            "line:column and exit status 1.\n"
                            "With --ticks N each tick is shown: output, actions, desired, observed,\n"
                            "conditions, log, trace, metrics, events and kv changes (-o json: one document\n"
                            "with a \"ticks\" array, the final \"kv\" and \"conditions\"). kv and the tick clock\n"
                            "carry from tick to tick as in the runtime; a failed tick saves nothing and the\n"
                            "exit status is 1. The program may call the standard extensions' intrinsics;\n"
                            "--allow ID grants another plugin's.\n\n"
                            "Examples:\n"
                            "  vigy eval -e '(+ 1 2)'\n"
                            "  vigy eval examples/tear-mirror.tatara --ticks 20 --every 500\n"
                            "  vigy eval prog.tatara --ticks 3 --kv 'count=41' -o json") +
                "\n\n" + global_options_help);
    set_action(sub, ctx, [&ctx, o] { return run_eval(ctx, *o); });
}

VIGY_CLI_COMMAND(add_eval);

}  // namespace
}  // namespace vigy::cli
