// The shared CLI context (global options, lazily loaded plugin registry) and
// command self-registration.
#include "cli.hpp"

#include "vigy/host/log.hpp"
#include "vigy/host/registry.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>

namespace vigy::cli {

context::context() = default;
context::~context() = default;

std::string context::db_path() const {
    if (!db_option.empty()) return db_option;
    if (const char* env = std::getenv("VIGY_DB"); env && *env) return env;
    if (const char* home = std::getenv("HOME"); home && *home)
        return (std::filesystem::path(home) / ".local" / "share" / "vigy" / "vigy.db").string();
    return "vigy.db";
}

std::vector<std::filesystem::path> context::plugin_dir_paths() const {
    return std::vector<std::filesystem::path>(plugin_dirs.begin(), plugin_dirs.end());
}

host::registry& context::plugins() {
    if (!registry_) {
        host::set_verbosity(verbosity);
        registry_ = std::make_unique<host::registry>();
        registry_->load_search_path(plugin_dir_paths());
    }
    return *registry_;
}

command_registration::command_registration(command_fn fn) { registered_commands().push_back(fn); }

std::vector<command_fn>& registered_commands() {
    static std::vector<command_fn> commands;
    return commands;
}

void set_action(CLI::App* sub, context& ctx, std::function<int()> action) {
    sub->callback([&ctx, action = std::move(action)] {
        host::set_verbosity(ctx.verbosity);
        ctx.exit_code = action();
    });
}

}  // namespace vigy::cli
