// cli/cmd_db.cpp — `vigy db check [--full]`: PRAGMA quick_check (or integrity_check)
// of the database file on a read-only connection of its own (store::check_database).
#include "cli.hpp"
#include "json_out.hpp"

#include <rapidjson/stringbuffer.h>
#include <CLI/CLI.hpp>

#include <iostream>

namespace vigy::cli {
namespace {

struct db_check_options {
    bool full = false;
};

int run_db_check(context& ctx, const db_check_options& o) {
    const store::check_report r = store::check_database(ctx.db_path(), o.full);
    const std::string& db = r.path;  // a URL without its password
    const char* kind = o.full ? "integrity_check" : "quick_check";
    if (ctx.json()) {
        rapidjson::StringBuffer buf;
        json_writer w(buf);
        w.StartObject();
        w.Key("db");
        write_string(w, r.path);
        w.Key("check");
        w.String(kind);
        w.Key("ok");
        w.Bool(r.ok);
        w.Key("problems");
        w.StartArray();
        for (const auto& p : r.problems) write_string(w, p);
        w.EndArray();
        w.Key("duration_ms");
        w.Int64(r.duration_ms);
        w.EndObject();
        print_json(std::cout, text(buf));
    } else if (r.ok) {
        std::cout << db << ": " << kind << " ok (" << r.duration_ms << " ms)\n";
    } else {
        std::cout << db << ": " << kind << " found " << r.problems.size() << " problem"
                  << (r.problems.size() == 1 ? "" : "s") << " (" << r.duration_ms << " ms)\n";
        for (const auto& p : r.problems) std::cout << "  " << p << "\n";
    }
    if (!r.ok) {
        std::cerr << "error: database " << db << " is damaged: restore it from a backup (vigy serve refuses it)\n";
        return exit_error;
    }
    return exit_ok;
}

void add_db(CLI::App& root, context& ctx) {
    auto* db = root.add_subcommand("db", "database maintenance (check)");
    db->require_subcommand(1);
    auto o = std::make_shared<db_check_options>();
    auto* check = db->add_subcommand("check", "check the database file for damage (PRAGMA quick_check)");
    check->footer(std::string("Reads every page of the database on a read-only connection of its own (no\n"
                              "migration, so a damaged file can be checked while vigy serve runs). --full runs\n"
                              "PRAGMA integrity_check, which also cross-checks every index (slower). vigy serve\n"
                              "runs the quick check when it starts and refuses a damaged database.\n\n"
                              "exit status: 0 when the database is ok, 1 when it is damaged (the problems are\n"
                              "printed) or cannot be read, 3 when it does not exist.") +
                  "\n\n" + global_options_help);
    check->add_flag("--full", o->full, "PRAGMA integrity_check instead of quick_check");
    set_action(check, ctx, [&ctx, o] { return run_db_check(ctx, *o); });
}

}  // namespace

VIGY_CLI_COMMAND(add_db);

}  // namespace vigy::cli
