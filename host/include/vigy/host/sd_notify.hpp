/// vigy/host/sd_notify.hpp — service readiness for systemd (`Type=notify`).
///
/// The sd_notify(3) datagram protocol without libsystemd: one datagram of
/// newline-separated "KEY=value" assignments to the AF_UNIX socket named by
/// $NOTIFY_SOCKET (a path, or an abstract name when it starts with '@').
/// `vigy serve` sends READY=1 once it schedules and STOPPING=1 when it begins
/// shutting down, so `systemctl start vigy` returns only when vigy serves.
#ifndef VIGY_HOST_SD_NOTIFY_HPP
#define VIGY_HOST_SD_NOTIFY_HPP

#include <string>
#include <string_view>

namespace vigy::host {

/// Sends `state` (e.g. "READY=1\nSTATUS=serving /var/lib/vigy/vigy.db") to the
/// service manager. Returns true when it was sent, false when $NOTIFY_SOCKET is
/// unset or empty (not run by systemd). A socket that cannot be reached is not
/// an error for the caller: it returns false and `error` (when not NULL) says why
/// ("cannot send to notify socket /run/x: No such file or directory").
/// Thread-safe (no state; reads the environment).
bool sd_notify(std::string_view state, std::string* error = nullptr);

}  // namespace vigy::host

#endif  // VIGY_HOST_SD_NOTIFY_HPP
