#!/usr/bin/env python3
"""tests/dist/serve_notify.py VIGY WORK_DIR

`vigy serve` under a stand-in for systemd's Type=notify: a datagram socket named
by $NOTIFY_SOCKET (abstract) must receive READY=1 once serve schedules, and
STOPPING=1 after SIGTERM, before serve exits 0. Standard library only."""
import os
import signal
import socket
import subprocess
import sys


def main():
    vigy, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "notify.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    name = f"vigy-serve-notify-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(30)
    env = dict(os.environ, NOTIFY_SOCKET="@" + name, NO_COLOR="1", HOME=work)
    env.pop("VIGY_PLUGIN_PATH", None)
    serve = subprocess.Popen([vigy, "serve", "--db", db, "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    failures = []
    try:
        ready = sock.recv(4096).decode()
        if not ready.startswith("READY=1\n") or f"STATUS=serving {db}" not in ready:
            failures.append(f"first notification is not READY=1 with the status: {ready!r}")
        serve.send_signal(signal.SIGTERM)
        stopping = sock.recv(4096).decode()
        if stopping != "STOPPING=1":
            failures.append(f"after SIGTERM expected STOPPING=1, got {stopping!r}")
        rc = serve.wait(timeout=30)
        if rc != 0:
            failures.append(f"serve exited {rc}: {serve.stderr.read().decode()}")
    except socket.timeout:
        failures.append("no notification within 30 s")
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    for f in failures:
        print("FAIL:", f)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
