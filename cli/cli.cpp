// The shared CLI context (global options, lazily loaded plugin registry, opening the
// database) and command self-registration.
#include "cli.hpp"

#include "vigy/host/log.hpp"
#include "vigy/host/registry.hpp"
#include "vigy/host/tick_context.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

namespace vigy::cli {

void usage_error(const std::string& message) { throw usage_failure(message); }

void require_utf8(const std::string& text, const std::string& where) {
    const std::size_t bad = host::invalid_utf8_at(text);
    if (bad == std::string::npos) return;
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
    const std::size_t nl = bad == 0 ? std::string::npos : text.rfind('\n', bad - 1);
    const std::size_t col = bad - (nl == std::string::npos ? 0 : nl + 1) + 1;
    vigy::fail(VIGY_INVALID_ARGUMENT, where + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                          ": the program is not valid UTF-8 (byte " + std::to_string(bad) +
                                          "); nothing was done");
}

context::context() = default;
context::~context() = default;

std::string context::db_path() const {
    if (!db_option.empty()) return db_option;
    return host::runtime::default_db_path().string();
}

std::string context::redact(std::string text) const {
    std::string raw;
    try {
        raw = db_path();
    } catch (...) {
        return text;  // no database named: nothing to hide
    }
    const std::string shown = store::display_path(raw);
    if (raw.empty() || shown == raw) return text;
    for (auto at = text.find(raw); at != std::string::npos; at = text.find(raw, at + shown.size()))
        text.replace(at, raw.size(), shown);
    return text;
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

std::unique_ptr<host::runtime> context::open_runtime(runtime_use use, host::runtime_options options) {
    const std::string db = db_path();
    if (use != runtime_use::plugins) {
        options.default_plugin_dirs = false;
        options.plugin_dirs.clear();
        if (use == runtime_use::read_only) options.create_if_missing = false;
    } else {
        const auto extra = plugin_dir_paths();
        options.plugin_dirs.insert(options.plugin_dirs.end(), extra.begin(), extra.end());
    }
    try {
        return host::runtime::open(db, std::move(options));
    } catch (const status_error& e) {
        const std::string msg = e.what();
        const std::string shown = store::display_path(db);  // a URL without its password
        if (msg.find(shown) != std::string::npos) throw;
        throw status_error(e.code(), "cannot open database " + shown + ": " + msg);
    }
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
