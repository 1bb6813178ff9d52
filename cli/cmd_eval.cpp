// cli/cmd_eval.cpp — `vigy eval`: run a program in memory, without a database.
//
//   vigy eval FILE | -e SRC [--each]                 one evaluation; prints the printed
//                                                   last value (every value with --each)
//   vigy eval FILE --ticks N [--every MS] [--kv k=json]… [-o json]
//                                                   N simulated ticks, printing what each
//                                                   tick did
//
// Ticks go through the `lisp` reconciler kind (--kind for another) with every
// loaded extension, exactly as the runtime runs them: the reconciler is created
// once, each tick gets a fresh tick context hydrated with the kv the previous
// successful ticks saved (plus the __sys bookkeeping), conditions carry their
// last_transition, and a failed tick saves nothing. Time is simulated: tick i
// starts at start + i·every ms, no sleeping.
#include "cli.hpp"
#include "format.hpp"

#include "vigy/host/reconciler.hpp"
#include "vigy/host/registry.hpp"
#include "vigy/host/tick_context.hpp"
#include "vigy/host/value.hpp"

#include <CLI/CLI.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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
    int64_t start_ms = -1;
    std::vector<std::string> kv;
    std::string kind = "lisp";
};

std::string read_source(const eval_options& o, std::string& source_name) {
    if (!o.expr.empty() && !o.file.empty()) throw command_error(exit_usage, "give either FILE or -e SRC, not both");
    if (o.expr.empty() && o.file.empty()) throw command_error(exit_usage, "nothing to evaluate: give FILE or -e SRC");
    if (!o.expr.empty()) {
        source_name = "<expr>";
        return o.expr;
    }
    std::ostringstream text;
    if (o.file == "-") {
        source_name = "<stdin>";
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream in(o.file, std::ios::binary);
    if (!in) throw command_error(exit_error, "cannot read " + o.file + ": " + std::strerror(errno));
    text << in.rdbuf();
    source_name = o.file;
    return text.str();
}

host::kv_map parse_kv(const std::vector<std::string>& items) {
    host::kv_map kv;
    for (const std::string& item : items) {
        size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            throw command_error(exit_usage, "--kv must be KEY=JSON, got \"" + item + "\"");
        try {
            kv[item.substr(0, eq)] = host::value::from_json(std::string_view(item).substr(eq + 1));
        } catch (const host::json_error& e) {
            throw command_error(exit_usage, "--kv " + item.substr(0, eq) + ": " + e.what());
        }
    }
    return kv;
}

std::string config_json(const std::string& program, const std::string& source_name, bool each) {
    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("program");
    w.String(program.data(), static_cast<rapidjson::SizeType>(program.size()));
    w.Key("source_name");
    w.String(source_name.data(), static_cast<rapidjson::SizeType>(source_name.size()));
    w.Key("each");
    w.Bool(each);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

/// One simulated tick's outcome.
struct tick_report {
    int index = 0;  ///< 1-based position in the run
    bool ok = true;
    std::string error;
};

bool hidden_key(const std::string& k) { return k.rfind("__sys::", 0) == 0; }

// ---- human output --------------------------------------------------------------------------

std::string map_text(const host::value& m) {
    std::string out;
    for (const host::map_entry& e : m.entries()) {
        if (!out.empty()) out += ", ";
        out += e.key.key_string() + "=" + e.val.to_json();
    }
    return out;
}

void print_human_tick(std::ostream& out, const host::tick_context& t, const tick_report& r, const style& st) {
    out << st.bold("tick " + std::to_string(r.index)) << "  " << rfc3339_ms(t.tick_start_ms()) << "  count "
        << t.tick_count() << "  " << (r.ok ? st.green("ok") : st.red("failed")) << "\n";
    if (!r.ok) {
        std::string error = r.error;  // indent a caret diagnostic under the tick
        for (size_t p = error.find('\n'); p != std::string::npos; p = error.find('\n', p + 3)) error.insert(p + 1, "  ");
        out << "  " << st.red("error: ") << error << "\n";
        return;
    }
    auto line = [&](const char* label, const std::string& text) {
        if (!text.empty()) out << "  " << st.dim(label) << text << "\n";
    };
    for (const host::action_record& a : t.actions()) {
        std::string s = a.kind;
        if (a.payload) s += " " + a.payload->to_json();
        if (a.result) s += " (" + *a.result + (a.message ? ": " + *a.message : std::string()) + ")";
        else if (a.message)
            s += " (" + *a.message + ")";
        line("action     ", s);
    }
    line("desired    ", map_text(t.desired()));
    line("observed   ", map_text(t.observed()));
    for (const host::condition_record& c : t.conditions()) {
        std::string s = c.name + "=" + c.status;
        if (c.reason || c.message)
            s += " (" + c.reason.value_or("") + (c.message ? (c.reason ? ": " : "") + *c.message : "") + ")";
        s += " since " + rfc3339_ms(c.last_transition_ms);
        line("condition  ", s);
    }
    for (const host::log_record& l : t.log_lines()) line("log        ", "[" + l.level + "] " + l.message);
    line("trace      ", map_text(t.traces()));
    std::string metrics;
    for (const auto& [name, v] : t.metrics()) {
        if (!metrics.empty()) metrics += ", ";
        metrics += name + "=" + host::value::real(v).to_json();
    }
    line("metrics    ", metrics);
    for (const host::event_record& e : t.events()) line("event      ", e.type + " " + e.reason + ": " + e.message);
    host::kv_changes ch = t.changes();
    std::string kv;
    for (const auto& [k, v] : ch.upserts) {
        if (hidden_key(k)) continue;
        if (!kv.empty()) kv += ", ";
        kv += k + "=" + v.to_json();
    }
    for (const std::string& k : ch.deleted) {
        if (hidden_key(k)) continue;
        if (!kv.empty()) kv += ", ";
        kv += "-" + k;
    }
    line("kv         ", kv);
    if (t.output() != "()" && t.output() != "nil") line("output     ", one_line(t.output(), 200));
}

// ---- the command ---------------------------------------------------------------------------

int run_eval(context& ctx, const eval_options& o) {
    std::string source_name;
    const std::string program = read_source(o, source_name);
    if (o.ticks < 0) throw command_error(exit_usage, "--ticks must be >= 1");
    if (o.every_ms < 0) throw command_error(exit_usage, "--every must be >= 0");
    host::kv_map kv = parse_kv(o.kv);

    host::registry& reg = ctx.plugins();
    std::optional<host::reconciler> rec;
    try {
        rec.emplace(reg, o.kind, config_json(program, source_name, o.each), nullptr, source_name);
    } catch (const host::status_error& e) {
        throw command_error(exit_error, e.what());
    }

    const int64_t start = o.start_ms >= 0 ? o.start_ms : now_ms();
    const style st{ctx.color};

    if (o.ticks == 0) {  // evaluate once, print the value
        host::tick_context t = host::tick_context::begin(std::move(kv), start);
        host::tick_result r = rec->tick(t.tick());
        if (!r.ok()) throw command_error(exit_error, r.message);
        if (ctx.json()) {
            std::string doc = "{\"ticks\":[" + t.to_json() + "]}";
            print_json(std::cout, doc);
        } else {
            std::cout << t.output() << "\n";
        }
        return exit_ok;
    }

    rapidjson::StringBuffer buf;
    json_writer w(buf);
    w.StartObject();
    w.Key("ticks");
    w.StartArray();
    std::vector<host::condition_record> conditions;
    bool any_failed = false;
    for (int64_t i = 0; i < o.ticks; ++i) {
        host::tick_context t = host::tick_context::begin(kv, start + i * o.every_ms, "", "", conditions);
        host::tick_result r = rec->tick(t.tick());
        tick_report rep;
        rep.index = static_cast<int>(i + 1);
        rep.ok = r.ok();
        rep.error = r.message;
        if (r.ok()) {
            host::kv_changes ch = t.changes();
            for (auto& [k, v] : ch.upserts) kv[k] = v;
            for (const std::string& k : ch.deleted) kv.erase(k);
            conditions = t.merged_conditions();
        } else {
            any_failed = true;
        }
        if (ctx.json()) {
            w.StartObject();
            w.Key("index");
            w.Int64(rep.index);
            w.Key("result");
            w.String(rep.ok ? "ok" : "failed");
            if (!rep.ok) {
                w.Key("error");
                w.String(rep.error.data(), static_cast<rapidjson::SizeType>(rep.error.size()));
                w.Key("tick");
                std::string header = "{\"start\":" + json_quote(rfc3339_ms(t.tick_start_ms())) +
                                     ",\"start_ms\":" + std::to_string(t.tick_start_ms()) +
                                     ",\"tick_count\":" + std::to_string(t.tick_count()) + "}";
                w.RawValue(header.data(), header.size(), rapidjson::kObjectType);
            } else {
                // Splice the tick context's members into this object.
                std::string body = t.to_json();
                rapidjson::Document d;
                d.Parse(body.data(), body.size());
                for (auto& m : d.GetObject()) {
                    w.Key(m.name.GetString(), m.name.GetStringLength());
                    m.value.Accept(w);
                }
            }
            w.EndObject();
        } else {
            if (i > 0) std::cout << "\n";
            print_human_tick(std::cout, t, rep, st);
        }
    }
    w.EndArray();
    if (ctx.json()) {
        w.Key("kv");
        host::value final_kv = host::value::map();
        for (const auto& [k, v] : kv) final_kv.set(k, v);
        std::string text = final_kv.to_json();
        w.RawValue(text.data(), text.size(), rapidjson::kObjectType);
        w.Key("conditions");
        std::string conds = host::conditions_to_json(conditions);
        w.RawValue(conds.data(), conds.size(), rapidjson::kArrayType);
        w.EndObject();
        print_json(std::cout, std::string(buf.GetString(), buf.GetSize()));
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
    sub->add_option("--start-ms", o->start_ms, "first tick's start, epoch ms (default: now)")->type_name("MS");
    sub->add_option("--kv", o->kv, "initial kv entry KEY=JSON (repeatable)")->type_name("KEY=JSON")->allow_extra_args(false);
    sub->add_option("--kind", o->kind, "reconciler kind (default lisp)")->type_name("KIND");
    sub->footer(
        "Without --ticks the program is evaluated once and its printed last value goes\n"
        "to stdout; an error goes to stderr with line:column and exit status 1.\n"
        "With --ticks N each tick is shown: actions, desired, observed, conditions, log,\n"
        "trace, metrics, events and kv changes (-o json: one document with a \"ticks\"\n"
        "array and the final \"kv\"). kv and tick metadata carry from tick to tick as in\n"
        "the runtime; a failed tick saves nothing and the exit status is 1.\n\n"
        "Examples:\n"
        "  vigy eval -e '(+ 1 2)'\n"
        "  vigy eval examples/tear-mirror.tatara --ticks 20 --every 500\n"
        "  vigy eval prog.tatara --ticks 3 --kv 'count=41' -o json");
    set_action(sub, ctx, [&ctx, o] { return run_eval(ctx, *o); });
}

VIGY_CLI_COMMAND(add_eval);

}  // namespace
}  // namespace vigy::cli
