// The `vigy` executable: global options, then the commands registered by the
// cli/cmd_*.cpp files (see cli.hpp). Every failure is mapped to an exit status here,
// once (exit_codes.hpp).
#include "cli.hpp"

#include "vigy/plugin.h"

#include <CLI/CLI.hpp>

#include <unistd.h>
#include <cctype>
#include <cstdlib>
#include <iostream>

namespace {

/// "error: <message>" with the first letter lowercased (CLI11 capitalises).
void print_error(std::string message) {
    if (!message.empty()) message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
    while (!message.empty() && (message.back() == '\n' || message.back() == '.')) message.pop_back();
    std::cerr << "error: " << message << "\n";
}

std::string version_string() {
    return "vigy 0.1.0 (abi " + std::to_string(VIGY_ABI_MAJOR) + "." + std::to_string(VIGY_ABI_MINOR) + ")";
}

}  // namespace

namespace {

int run(int argc, char** argv) {
    vigy::cli::context ctx;
    // no-color.org: NO_COLOR disables colour when present and not empty
    const char* no_color = std::getenv("NO_COLOR");
    ctx.color = ::isatty(STDOUT_FILENO) && (no_color == nullptr || *no_color == '\0');

    CLI::App app{"vigy: an always-on reconciler runtime", "vigy"};
    app.set_version_flag("--version", version_string(), "print the version and exit");
    app.set_help_flag("-h,--help", "print this help and exit");
    app.require_subcommand(1);
    app.fallthrough();  // global options are accepted after the subcommand too
    app.footer(vigy::cli::global_options_help);
    app.add_option("--db", ctx.db_option,
                   "database file or postgresql://user@host:port/dbname URL (default: $VIGY_DB, else "
                   "$XDG_DATA_HOME/vigy/vigy.db, else ~/.local/share/vigy/vigy.db)")
        ->type_name("PATH");
    app.add_option("--plugin-dir", ctx.plugin_dirs, "also load plugins from DIR (repeatable)")
        ->type_name("DIR")
        ->allow_extra_args(false);
    app.add_option("-o,--output", ctx.output, "output format: table or json")
        ->check(CLI::IsMember({"table", "json"}))
        ->type_name("FORMAT");
    app.add_flag("-v,--verbose", ctx.verbosity, "more log output (repeat for more)");

    for (vigy::cli::command_fn fn : vigy::cli::registered_commands()) fn(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        print_error(e.what());
        std::cerr << "run 'vigy --help' for usage\n";
        return vigy::cli::exit_usage;
    } catch (const vigy::cli::usage_failure& e) {
        print_error(e.what());
        return vigy::cli::exit_usage;
    } catch (const vigy::status_error& e) {
        print_error(ctx.redact(e.what()));  // a PostgreSQL URL's password never reaches the terminal
        return vigy::cli::exit_code_for(e.code());
    } catch (const std::exception& e) {
        print_error(ctx.redact(e.what()));
        return vigy::cli::exit_error;
    }
    return ctx.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {  // building the command line itself failed
        print_error(e.what());
        return vigy::cli::exit_error;
    } catch (...) {
        print_error("internal error: a non-standard exception");
        return vigy::cli::exit_error;
    }
}
