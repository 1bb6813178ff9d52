// tests/dist/test_sd_notify.cpp — host/src/sd_notify.cpp: the sd_notify(3)
// datagram reaches a listening AF_UNIX socket named by $NOTIFY_SOCKET (a path or
// an abstract '@' name); without the variable nothing is sent; a bad name or an
// unreachable socket is reported, never thrown.
#include "vigy/host/sd_notify.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

/// A datagram socket bound to `name` (path, or '@' + abstract name).
class listener {
public:
    explicit listener(const std::string& name) : name_(name) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name.data(), name.size());
        if (name[0] == '@') addr.sun_path[0] = '\0';
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '/'));
        REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) == 0);
    }
    ~listener() {
        ::close(fd_);
        if (name_[0] == '/') std::filesystem::remove(name_);
    }
    /// The next datagram, waiting up to 5 s for it ("" on timeout).
    std::string receive() {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) return "";
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }

private:
    std::string name_;
    int fd_ = -1;
};

struct env_guard {
    explicit env_guard(const char* value) {
        if (value)
            ::setenv("NOTIFY_SOCKET", value, 1);
        else
            ::unsetenv("NOTIFY_SOCKET");
    }
    ~env_guard() { ::unsetenv("NOTIFY_SOCKET"); }
};

std::string unique(const std::string& stem) { return stem + "-" + std::to_string(::getpid()); }

}  // namespace

TEST_CASE("sd_notify sends nothing without NOTIFY_SOCKET", "[dist][sd_notify]") {
    env_guard env(nullptr);
    std::string error = "unchanged";
    CHECK_FALSE(vigy::host::sd_notify("READY=1", &error));
    CHECK(error == "unchanged");
    env_guard empty("");
    CHECK_FALSE(vigy::host::sd_notify("READY=1", &error));
}

TEST_CASE("sd_notify reaches an abstract notify socket", "[dist][sd_notify]") {
    const std::string name = "@" + unique("vigy-test-notify");
    listener l(name);
    env_guard env(name.c_str());
    REQUIRE(vigy::host::sd_notify("READY=1\nSTATUS=serving x.db"));
    CHECK(l.receive() == "READY=1\nSTATUS=serving x.db");
    REQUIRE(vigy::host::sd_notify("STOPPING=1"));
    CHECK(l.receive() == "STOPPING=1");
}

TEST_CASE("sd_notify reaches a notify socket by path", "[dist][sd_notify]") {
    const std::string path = (std::filesystem::temp_directory_path() / unique("vigy-test-notify.sock")).string();
    std::filesystem::remove(path);
    listener l(path);
    env_guard env(path.c_str());
    REQUIRE(vigy::host::sd_notify("READY=1"));
    CHECK(l.receive() == "READY=1");
}

TEST_CASE("sd_notify reports a bad or unreachable notify socket", "[dist][sd_notify]") {
    std::string error;
    {
        env_guard env("relative/socket");
        CHECK_FALSE(vigy::host::sd_notify("READY=1", &error));
        CHECK(error == "invalid NOTIFY_SOCKET \"relative/socket\": must be an absolute path or start with @");
    }
    {
        env_guard env("/nonexistent/vigy-notify.sock");
        CHECK_FALSE(vigy::host::sd_notify("READY=1", &error));
        CHECK(error.rfind("cannot send to notify socket /nonexistent/vigy-notify.sock: ", 0) == 0);
    }
    {
        const std::string long_name = "/" + std::string(200, 'x');
        env_guard env(long_name.c_str());
        CHECK_FALSE(vigy::host::sd_notify("READY=1", &error));
        CHECK(error.find("invalid NOTIFY_SOCKET") == 0);
    }
}
