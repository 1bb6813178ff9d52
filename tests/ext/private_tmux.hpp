// private_tmux.hpp — a private scratch directory and tmux server socket for the
// tests that drive ext-mado against a real tmux: VIGY_MADO_TMUX_SOCKET points
// at <dir>/tmux.sock for the scope (child processes inherit it), and the
// destructor kills that server and removes the directory. Header-only, so the
// in-process and the end-to-end test binaries share it.
#ifndef VIGY_TESTS_EXT_PRIVATE_TMUX_HPP
#define VIGY_TESTS_EXT_PRIVATE_TMUX_HPP

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace vigy::test {

class private_tmux {
public:
    private_tmux() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "vigy-tmux-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        socket = (dir / "tmux.sock").string();
        ::setenv("VIGY_MADO_TMUX_SOCKET", socket.c_str(), 1);
        ::unsetenv("VIGY_MADO_TMUX");
    }
    ~private_tmux() {
        (void)tmux("kill-server");
        ::unsetenv("VIGY_MADO_TMUX_SOCKET");
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    private_tmux(const private_tmux&) = delete;
    private_tmux& operator=(const private_tmux&) = delete;

    /// Runs `tmux -S <socket> <args>` (a shell command line, output discarded);
    /// returns its exit status as std::system does.
    int tmux(const std::string& args) const {
        return std::system(("tmux -S '" + socket + "' " + args + " >/dev/null 2>&1").c_str());
    }
    /// The server's session names, sorted, one per line ("" without a server).
    std::string sessions() const {
        std::string listed;
        FILE* p =
            ::popen(("tmux -S '" + socket + "' list-sessions -F '#{session_name}' 2>/dev/null | sort").c_str(), "r");
        if (!p) return listed;
        char buf[256];
        while (std::fgets(buf, sizeof buf, p)) listed += buf;
        ::pclose(p);
        return listed;
    }

    std::filesystem::path dir;
    std::string socket;
};

}  // namespace vigy::test

#endif
