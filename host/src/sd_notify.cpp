// host/src/sd_notify.cpp — the sd_notify(3) datagram protocol (see sd_notify.hpp).
#include "vigy/host/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace vigy::host {

bool sd_notify(std::string_view state, std::string* error) {
    const char* env = std::getenv("NOTIFY_SOCKET");
    if (!env || !*env) return false;
    const std::string_view name(env);
    auto failed = [&](const std::string& why) {
        if (error) *error = why;
        return false;
    };
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if ((name[0] != '/' && name[0] != '@') || name.size() >= sizeof(addr.sun_path))
        return failed("invalid NOTIFY_SOCKET \"" + std::string(name) + "\": must be an absolute path or start with @");
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    // Abstract names are not NUL-terminated: the length says where they end.
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '/' ? 1 : 0));

    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return failed(std::string("cannot create a notify socket: ") + std::strerror(errno));
    const ssize_t sent =
        ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
    const int saved = errno;
    ::close(fd);
    if (sent < 0 || static_cast<size_t>(sent) != state.size())
        return failed("cannot send to notify socket " + std::string(name) + ": " + std::strerror(saved));
    return true;
}

}  // namespace vigy::host
