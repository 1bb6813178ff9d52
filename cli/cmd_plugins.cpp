// `vigy plugins list` and `vigy plugins inspect ID`: what the host loaded,
// what each plugin provides, and which files were skipped and why.
#include "cli.hpp"
#include "style.hpp"

#include "vigy/host/plugin_loader.hpp"
#include "vigy/host/registry.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace vigy::cli {
namespace {

using json_writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

/// "1", "1..2", "0+" (variadic).
std::string arity(const host::intrinsic_info& in) {
    if (in.max_arity == VIGY_ARITY_VARIADIC) return std::to_string(in.min_arity) + "+";
    if (in.max_arity == in.min_arity) return std::to_string(in.min_arity);
    return std::to_string(in.min_arity) + ".." + std::to_string(in.max_arity);
}

std::string provides(const host::loaded_plugin& p) {
    std::vector<std::string> parts;
    if (!p.kinds.empty()) {
        std::vector<std::string> names;
        for (const auto& k : p.kinds) names.push_back(k.kind);
        parts.push_back("reconcilers: " + join(names));
    }
    if (!p.extensions.empty()) {
        std::vector<std::string> names;
        for (const auto& x : p.extensions) names.push_back(x.name);
        parts.push_back("extensions: " + join(names));
    }
    return parts.empty() ? "-" : join(parts, "; ");
}

void write_plugin_json(json_writer& w, const host::loaded_plugin& p, bool detailed) {
    w.StartObject();
    w.Key("id");
    w.String(p.id);
    w.Key("version");
    w.String(p.version);
    w.Key("abi");
    w.String(host::abi_string(p.abi_version));
    w.Key("description");
    w.String(p.description);
    w.Key("file");
    w.String(p.file);
    w.Key("in_process");
    w.Bool(p.in_process);
    w.Key("kinds");
    w.StartArray();
    for (const auto& k : p.kinds) {
        if (detailed) {
            w.StartObject();
            w.Key("kind");
            w.String(k.kind);
            w.Key("doc");
            w.String(k.doc);
            w.EndObject();
        } else {
            w.String(k.kind);
        }
    }
    w.EndArray();
    w.Key("extensions");
    w.StartArray();
    for (const auto& x : p.extensions) {
        if (!detailed) {
            w.String(x.name);
            continue;
        }
        w.StartObject();
        w.Key("name");
        w.String(x.name);
        w.Key("doc");
        w.String(x.doc);
        w.Key("intrinsics");
        w.StartArray();
        for (const auto& in : x.intrinsics) {
            w.StartObject();
            w.Key("name");
            w.String(in.name);
            w.Key("min_arity");
            w.Int(in.min_arity);
            w.Key("max_arity");
            if (in.max_arity == VIGY_ARITY_VARIADIC)
                w.Null();
            else
                w.Int(in.max_arity);
            w.Key("doc");
            w.String(in.doc);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

int list_plugins(context& ctx) {
    host::registry& reg = ctx.plugins();
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.SetIndent(' ', 2);
        w.StartObject();
        w.Key("plugins");
        w.StartArray();
        for (const auto& p : reg.plugins()) write_plugin_json(w, p, false);
        w.EndArray();
        w.Key("skipped");
        w.StartArray();
        for (const auto& d : reg.skipped()) {
            w.StartObject();
            w.Key("file");
            w.String(d.file);
            w.Key("reason");
            w.String(d.reason);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        std::cout << buf.GetString() << "\n";
        return exit_ok;
    }
    style st{ctx.color};
    table t({"ID", "VERSION", "ABI", "PROVIDES", "FILE"});
    for (const auto& p : reg.plugins()) t.add({p.id, p.version, host::abi_string(p.abi_version), provides(p), p.file});
    if (t.empty())
        std::cout << "no plugins loaded\n";
    else
        t.print(std::cout, st);
    if (!reg.skipped().empty()) {
        std::cout << "\n" << st.yellow("skipped " + std::to_string(reg.skipped().size()) + ":") << "\n";
        for (const auto& d : reg.skipped()) std::cout << "  " << d.file << ": " << d.reason << "\n";
    }
    return exit_ok;
}

int inspect_plugin(context& ctx, const std::string& id) {
    host::registry& reg = ctx.plugins();
    const host::loaded_plugin* p = reg.find_plugin(id);
    if (!p) {
        std::vector<std::string> ids;
        for (const auto& q : reg.plugins()) ids.push_back(q.id);
        vigy::fail(VIGY_NOT_FOUND, "no plugin \"" + id + "\" is loaded (loaded: " +
                                       (ids.empty() ? std::string("none") : join(ids)) + ")");
    }
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.SetIndent(' ', 2);
        write_plugin_json(w, *p, true);
        std::cout << buf.GetString() << "\n";
        return exit_ok;
    }
    style st{ctx.color};
    std::cout << st.bold(p->id) << " " << p->version << " (abi " << host::abi_string(p->abi_version) << ")\n";
    if (!p->description.empty()) std::cout << p->description << "\n";
    std::cout << "file: " << p->file << "\n";
    if (!p->kinds.empty()) {
        std::cout << "\nreconciler kinds:\n";
        table t({"KIND", "DOC"});
        for (const auto& k : p->kinds) t.add({k.kind, k.doc});
        t.print(std::cout, st);
    }
    for (const auto& x : p->extensions) {
        std::cout << "\nextension " << st.bold(x.name) << (x.doc.empty() ? "" : ": " + x.doc) << "\n";
        table t({"INTRINSIC", "ARITY", "DOC"});
        for (const auto& in : x.intrinsics) t.add({in.name, arity(in), in.doc});
        if (t.empty())
            std::cout << "(no intrinsics)\n";
        else
            t.print(std::cout, st);
    }
    if (p->kinds.empty() && p->extensions.empty()) std::cout << "\nprovides nothing\n";
    return exit_ok;
}

void add_plugins(CLI::App& root, context& ctx) {
    CLI::App* plugins = root.add_subcommand("plugins", "list and inspect the loaded plugins");
    plugins->require_subcommand(1);

    CLI::App* list = plugins->add_subcommand("list", "list loaded plugins and the files that were skipped");
    set_action(list, ctx, [&ctx] { return list_plugins(ctx); });

    CLI::App* inspect = plugins->add_subcommand("inspect", "show a plugin's reconciler kinds and intrinsics");
    auto id = std::make_shared<std::string>();
    inspect->add_option("id", *id, "plugin id, e.g. vigy.native")->required();
    set_action(inspect, ctx, [&ctx, id] { return inspect_plugin(ctx, *id); });
}

}  // namespace

VIGY_CLI_COMMAND(add_plugins);

}  // namespace vigy::cli
