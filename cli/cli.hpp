/// cli/cli.hpp — what every `vigy` subcommand shares: the global options
/// (context), opening the database, self-registration of commands.
///
/// Adding a command: create cli/cmd_<name>.cpp, list it in cli/CMakeLists.txt, and
///
///     static void add_frob(CLI::App& root, vigy::cli::context& ctx) {
///         auto* sub = root.add_subcommand("frob", "frob the vigies");
///         auto opts = std::make_shared<frob_options>();   // lives as long as the callback
///         sub->add_option("--hard", opts->hard, "frob harder");
///         vigy::cli::set_action(sub, ctx, [&ctx, opts] { ...; return vigy::cli::exit_ok; });
///     }
///     VIGY_CLI_COMMAND(add_frob);
///
/// The action runs after the whole command line is parsed. Return an exit code, or
/// throw: a vigy::status_error prints "error: <what()>" to stderr and exits with the
/// code's exit status (exit_codes.hpp); usage_error() for a bad command line exits 2;
/// any other std::exception exits 1. Messages are lowercase without trailing period.
///
/// Threading: single-threaded (the CLI's main thread).
#ifndef VIGY_CLI_CLI_HPP
#define VIGY_CLI_CLI_HPP

#include "exit_codes.hpp"

#include "vigy/host/runtime.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigy::host {
class registry;
}

namespace vigy::cli {

/// A command line that parses but makes no sense ("give either FILE or -e SRC"): exit
/// status 2. Thrown by usage_error(); main() is the only place that catches it.
struct usage_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Throws usage_failure(message).
[[noreturn]] void usage_error(const std::string& message);

/// Throws status_error INVALID_ARGUMENT "WHERE:LINE:COL: the program is not valid UTF-8
/// (byte N); nothing was done" when `text` is not UTF-8 (program sources read from a
/// file, -e or stdin, before anything stores or builds them).
void require_utf8(const std::string& text, const std::string& where);

/// What a command needs from the runtime.
enum class runtime_use {
    read_only,  ///< reads only (list, inspect, tail): no plugins; a missing SQLite file is
                ///< refused (NOT_FOUND, exit 3), never created
    read,       ///< simple writes (enable, disable, reset, delete): no plugins loaded
    plugins     ///< register, tick, serve: built-in plugin dirs + --plugin-dir
};

/// True for a PostgreSQL URL (postgresql:// or postgres://); false for an SQLite path.
[[nodiscard]] inline bool is_postgresql_url(const std::string& db) {
    return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

/// The global options and shared, lazily created state of one `vigy` run.
class context {
public:
    context();
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    // ---- global options, filled by the parser before any action runs ----
    std::string db_option;                 ///< --db PATH ("" when not given)
    std::vector<std::string> plugin_dirs;  ///< --plugin-dir DIR, repeatable, in order
    std::string output = "table";          ///< -o/--output: "table" or "json"
    int verbosity = 0;                     ///< number of -v
    /// Colour on stdout: only when stdout is a terminal and NO_COLOR is unset or empty.
    bool color = false;

    /// True with -o json.
    bool json() const noexcept { return output == "json"; }

    /// The database path: --db, else host::runtime::default_db_path(). Creates nothing.
    /// A PostgreSQL URL may carry a password: show it through redact().
    std::string db_path() const;

    /// `text` with every occurrence of db_path() replaced by store::display_path of it
    /// (a URL without its password), for messages that name the database verbatim.
    std::string redact(std::string text) const;

    /// --plugin-dir values as paths.
    std::vector<std::filesystem::path> plugin_dir_paths() const;

    /// The plugin registry, created and loaded on first use: the built-in
    /// plugin directory, each --plugin-dir, then VIGY_PLUGIN_PATH. Skipped
    /// files are logged as warnings and listed by `vigy plugins list`. Lives
    /// until the context is destroyed (end of main).
    host::registry& plugins();

    /// Opens the database of this context as a runtime (status_error naming the
    /// database path when it cannot be opened).
    std::unique_ptr<host::runtime> open_runtime(runtime_use use, host::runtime_options options = {});

    /// Set by set_action(): the exit code of the command that ran.
    int exit_code = exit_ok;

private:
    std::unique_ptr<host::registry> registry_;
};

/// Adds a command's subcommand(s) to `root`. Called once, before parsing.
using command_fn = void (*)(CLI::App& root, context& ctx);

/// Registers a command at static-initialisation time (see VIGY_CLI_COMMAND).
struct command_registration {
    explicit command_registration(command_fn fn);
};

/// Every registered command, in registration order (CLI11 lists subcommands in the
/// order they are added).
std::vector<command_fn>& registered_commands();

/// Makes `action` the action of subcommand `sub`: after parsing, it applies the
/// global options (log verbosity), runs `action` and stores its return value
/// in ctx.exit_code.
void set_action(CLI::App* sub, context& ctx, std::function<int()> action);

}  // namespace vigy::cli

#define VIGY_CLI_CONCAT_IMPL(a, b) a##b
#define VIGY_CLI_CONCAT(a, b) VIGY_CLI_CONCAT_IMPL(a, b)
/// Registers `fn` (a vigy::cli::command_fn) as a `vigy` command. Use once per
/// command at namespace scope in a cli/cmd_*.cpp file.
#define VIGY_CLI_COMMAND(fn) \
    static const ::vigy::cli::command_registration VIGY_CLI_CONCAT(vigy_cli_command_, __LINE__) { fn }

#endif  // VIGY_CLI_CLI_HPP
