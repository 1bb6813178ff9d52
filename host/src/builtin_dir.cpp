// The build tree's plugin directory, compiled into this one small TU only
// (an absolute path in a -D would defeat ccache for every other file).
#include "vigy/host/plugin_loader.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

#ifndef VIGY_DEFAULT_PLUGIN_DIR
#define VIGY_DEFAULT_PLUGIN_DIR ""
#endif

namespace vigy::host {

std::filesystem::path builtin_plugin_dir() {
    std::error_code ec;
    std::filesystem::path exe = boost::dll::program_location(ec);
    if (!ec && !exe.empty()) {
        std::filesystem::path dir = exe.parent_path() / ".." / "lib" / "vigy" / "plugins";
        if (std::filesystem::is_directory(dir, ec)) return dir.lexically_normal();
    }
    return std::filesystem::path(VIGY_DEFAULT_PLUGIN_DIR);
}

}  // namespace vigy::host
