#!/usr/bin/env python3
"""Embedding vigy from Python through libvigy.so with ctypes only (no packages).

    python3 embed.py [--lib PATH] [--db PATH] [--seconds S]

Registers a tatara-lisp vigy ticking every 100 ms, serves for at least S seconds
(default 1) and until three runs arrived through the subscription callback,
checks what the runs say, forces one tick, and shows two errors the API reports
(a bad interval, an unknown vigy). Exits 0 when everything held, 1 otherwise.

The wrapper (class Runtime) is the whole binding: vigy/embed.h in ctypes terms.
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import sys
import tempfile
import threading
import time

# ---- the binding -------------------------------------------------------------

SET_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
RUN_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


class VigyErrorSink(ctypes.Structure):
    """struct vigy_error (vigy/status.h): the library reports failures through it."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
                ("ctx", ctypes.c_void_p), ("set", SET_FN)]


class VigyError(Exception):
    def __init__(self, status, name, message):
        super().__init__(f"{message} ({name})")
        self.status, self.name, self.message = status, name, message


def load_library(path=None):
    lib = ctypes.CDLL(path or ctypes.util.find_library("vigy") or "libvigy.so.1")
    lib.vigy_embed_version.restype = ctypes.c_uint32
    lib.vigy_embed_status_name.restype = ctypes.c_char_p
    lib.vigy_embed_status_name.argtypes = [ctypes.c_int32]
    P, S, E = ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(VigyErrorSink)
    OUT = ctypes.POINTER(ctypes.c_void_p)  # char** out_json: a library-owned string
    signatures = {
        "vigy_embed_open": [S, P, ctypes.POINTER(P), E],
        "vigy_embed_register": [P, S, OUT, E],
        "vigy_embed_remove": [P, S, ctypes.c_int, E],
        "vigy_embed_get": [P, S, OUT, E],
        "vigy_embed_list": [P, S, OUT, E],
        "vigy_embed_runs": [P, S, ctypes.c_size_t, OUT, E],
        "vigy_embed_tick": [P, S, ctypes.c_int64, OUT, E],
        "vigy_embed_subscribe": [P, RUN_FN, P, ctypes.POINTER(ctypes.c_uint64), E],
        "vigy_embed_unsubscribe": [P, ctypes.c_uint64, E],
        "vigy_embed_plugins": [P, OUT, E],
        "vigy_embed_start": [P, E],
        "vigy_embed_stop": [P, E],
    }
    for name, args in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, ctypes.c_int32
    lib.vigy_embed_close.argtypes, lib.vigy_embed_close.restype = [P], None
    lib.vigy_embed_free.argtypes, lib.vigy_embed_free.restype = [P], None
    return lib


class Runtime:
    """A vigy runtime on one database (vigy_embed_open ... vigy_embed_close)."""

    def __init__(self, lib, db_path):
        self.lib = lib
        self._callbacks = {}  # subscription id -> the ctypes callback (kept alive)
        handle = ctypes.c_void_p()
        self._call(lib.vigy_embed_open, db_path.encode(), None, ctypes.byref(handle))
        self.handle = handle

    def _call(self, fn, *args):
        """Calls fn(*args, err) and raises VigyError on a non-OK status."""
        message = []
        sink_fn = SET_FN(lambda ctx, msg, n: message.append(ctypes.string_at(msg, n).decode()))
        sink = VigyErrorSink(ctypes.sizeof(VigyErrorSink), 0, None, sink_fn)
        status = fn(*args, ctypes.byref(sink))
        if status != 0:
            name = self.lib.vigy_embed_status_name(status).decode()
            raise VigyError(status, name, message[-1] if message else name)

    def _json(self, fn, *args):
        out = ctypes.c_void_p()
        self._call(fn, *args, ctypes.byref(out))
        try:
            return json.loads(ctypes.string_at(out.value).decode())
        finally:
            self.lib.vigy_embed_free(out)

    def register(self, spec):
        return self._json(self.lib.vigy_embed_register, self.handle, json.dumps(spec).encode())

    def remove(self, name, keep_history=False):
        self._call(self.lib.vigy_embed_remove, self.handle, name.encode(), int(keep_history))

    def get(self, name):
        return self._json(self.lib.vigy_embed_get, self.handle, name.encode())

    def list(self, selector=""):
        return self._json(self.lib.vigy_embed_list, self.handle, selector.encode())

    def runs(self, name, limit=20):
        return self._json(self.lib.vigy_embed_runs, self.handle, name.encode(), limit)

    def tick(self, name, wait_ms=5000):
        return self._json(self.lib.vigy_embed_tick, self.handle, name.encode(), wait_ms)

    def subscribe(self, on_run):
        """on_run(run: dict) is called on a runtime thread for every committed run."""
        cb = RUN_FN(lambda user, data, n: on_run(json.loads(ctypes.string_at(data, n).decode())))
        sub = ctypes.c_uint64()
        self._call(self.lib.vigy_embed_subscribe, self.handle, cb, None, ctypes.byref(sub))
        self._callbacks[sub.value] = cb
        return sub.value

    def unsubscribe(self, sub):
        self._call(self.lib.vigy_embed_unsubscribe, self.handle, sub)
        del self._callbacks[sub]

    def plugins(self):
        return self._json(self.lib.vigy_embed_plugins, self.handle)

    def start(self):
        self._call(self.lib.vigy_embed_start, self.handle)

    def stop(self):
        self._call(self.lib.vigy_embed_stop, self.handle)

    def close(self):
        if self.handle:
            self.lib.vigy_embed_close(self.handle)
            self.handle = None
            self._callbacks.clear()


# ---- the program ------------------------------------------------------------

PROGRAM = """(vigy-desired "answer" (+ 40 2))
(vigy-log "info" "ticked from python")
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", help="path of libvigy.so.1 (default: the system's)")
    ap.add_argument("--db", help="database file (default: a temporary one)")
    ap.add_argument("--seconds", type=float, default=1.0, help="serve at least this long")
    ap.add_argument("--expect-plugin-dir", help="check that the built-in plugins came from this directory")
    args = ap.parse_args()

    lib = load_library(args.lib)
    major = lib.vigy_embed_version() >> 16
    if major != 1:
        print(f"error: libvigy has ABI major {major}, this binding speaks 1", file=sys.stderr)
        return 1
    tmp = tempfile.TemporaryDirectory(prefix="vigy-py-")
    db = args.db or os.path.join(tmp.name, "vigy.db")
    failures = []

    def expect(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    rt = Runtime(lib, db)
    try:
        loaded = rt.plugins()
        ids = sorted(p["id"] for p in loaded["plugins"])
        expect("vigy.lisp" in ids and "vigy.native" in ids, "plugins loaded: " + ", ".join(ids))
        if args.expect_plugin_dir:
            want = os.path.realpath(args.expect_plugin_dir)
            expect(all(os.path.dirname(os.path.realpath(p["file"])) == want for p in loaded["plugins"]),
                   f"every plugin file is in {want}")
        v = rt.register({"name": "py-hello", "program": PROGRAM, "interval_ms": 100,
                         "labels": {"app": "python"}})
        expect(v["outcome"] == "created" and v["kind"] == "lisp", f"registered {v['name']} ({v['outcome']})")

        runs, enough = [], threading.Event()

        def on_run(run):  # a runtime thread
            runs.append(run)
            if len(runs) >= 3:
                enough.set()

        sub = rt.subscribe(on_run)
        started = time.monotonic()
        rt.start()
        time.sleep(args.seconds)           # "the application runs" while vigy serves
        enough.wait(timeout=30)           # and at least three runs arrived
        rt.stop()
        rt.unsubscribe(sub)
        served = time.monotonic() - started

        expect(len(runs) >= 3, f"{len(runs)} runs delivered through the callback in {served:.1f} s")
        expect(all(r["vigy_name"] == "py-hello" and r["result"] == "ok" for r in runs), "every run is ok")
        expect(all(r["desired"] == {"answer": 42} for r in runs), "every run declared desired answer = 42")
        expect(all(any(l["message"] == "ticked from python" for l in r["log"]) for r in runs),
               "every run logged its line")
        seqs = [r["seq"] for r in runs]
        expect(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "runs arrive in commit order")

        listed = rt.list("app=python")
        expect([x["name"] for x in listed] == ["py-hello"], "list --selector app=python finds it")
        stored = rt.runs("py-hello", 100)
        expect(len(stored) >= len(runs), f"{len(stored)} runs stored in the database")

        forced = rt.tick("py-hello")
        expect(forced["trigger"] == "forced" and forced["result"] == "ok", "a forced tick runs")

        try:
            rt.register({"name": "too-fast", "program": "1", "interval_ms": 50})
            expect(False, "an interval of 50 ms is refused")
        except VigyError as e:
            expect(e.name == "invalid-argument" and "50" in e.message, f"bad interval refused: {e}")
        try:
            rt.tick("no-such-vigy")
            expect(False, "an unknown vigy is not found")
        except VigyError as e:
            expect(e.name == "not-found", f"unknown vigy: {e}")
    finally:
        rt.close()
        tmp.cleanup()

    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
