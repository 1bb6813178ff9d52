#!/usr/bin/env python3
"""bench/fair/starvation.py — does a runaway program starve a healthy vigy?

Runs the real `vigy serve` on a fresh database with N runaway programs (each runs to
its wall-clock limit, 5 s by default, then fails and backs off) plus one healthy
vigy ticking every 100 ms, for a while, then reads the healthy vigy's runs back
(`vigy inspect -o json`) and prints the gaps between its tick starts. Each scenario
runs with fair scheduling on (serve's defaults) and off (--tick-slice 0), side by side.

    bench/fair/starvation.py --vigy build/cli/vigy            # 6 and 50 runaways, on and off
    bench/fair/starvation.py --vigy build/cli/vigy --runaways 50 --seconds 20 --modes on

The bar (issue 8): every gap within 100 +/- 20 ms. One RESULT line per scenario:
RESULT fair=on runaways=6 runs=... p50=... p99=... max=... within20=...%
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

RUNAWAY = "(define (loop) (loop))\n(loop)\n"
HEALTHY = "(vigy-log 'info \"healthy\")\n(vigy-noop)\n"


def parse_ts(s):
    # RFC 3339 with optional fraction, always Z
    s = s.rstrip("Z")
    if "." in s:
        base, frac = s.split(".")
        frac = (frac + "000000")[:6]
        s = base + "." + frac
        fmt = "%Y-%m-%dT%H:%M:%S.%f"
    else:
        fmt = "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(s, fmt).timestamp() * 1000.0


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[i]


def run_scenario(vigy, runaways, seconds, fair, wall_ms, extra_serve, show_gaps=False):
    tmp = tempfile.mkdtemp(prefix="vigy-fair-bench-")
    env = dict(os.environ, VIGY_DB=os.path.join(tmp, "vigy.db"), NO_COLOR="1")
    try:
        def cli(*args):
            return subprocess.run([vigy, *args], env=env, check=True, capture_output=True, text=True).stdout

        runaway_file = os.path.join(tmp, "runaway.tatara")
        healthy_file = os.path.join(tmp, "healthy.tatara")
        with open(runaway_file, "w") as f:
            f.write(RUNAWAY)
        with open(healthy_file, "w") as f:
            f.write(HEALTHY)
        for i in range(runaways):
            cli("register", runaway_file, "--name", f"runaway-{i}", "--every", "100",
                "--wall-ms", str(wall_ms), "--fuel", "1000000000000")
        cli("register", healthy_file, "--name", "healthy", "--every", "100")
        args = [vigy, "serve", "--listen", "none"] + extra_serve
        if not fair:
            args += ["--tick-slice", "0"]
        serve = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(seconds)
        serve.send_signal(signal.SIGINT)
        try:
            _, err = serve.communicate(timeout=wall_ms / 1000.0 + 30)
        except subprocess.TimeoutExpired:
            serve.kill()
            raise
        if serve.returncode != 0:
            sys.stderr.write(err)
            raise RuntimeError(f"vigy serve exited {serve.returncode}")
        doc = json.loads(cli("inspect", "healthy", "-o", "json", "--runs", "100000"))
        starts = sorted(parse_ts(r["started_at"]) for r in doc["runs"])
        if show_gaps:
            for a, b in zip(starts, starts[1:]):
                if b - a > 120:
                    print(f"  gap {b - a:.0f} ms at +{a - starts[0]:.0f} ms", flush=True)
        gaps = sorted(b - a for a, b in zip(starts, starts[1:]))
        within = sum(1 for g in gaps if 80 <= g <= 120)
        return {
            "runs": len(starts),
            "expected": int(seconds * 10),
            "p50": percentile(gaps, 0.50),
            "p90": percentile(gaps, 0.90),
            "p99": percentile(gaps, 0.99),
            "max": gaps[-1] if gaps else float("nan"),
            "mean": statistics.fmean(gaps) if gaps else float("nan"),
            "within20": 100.0 * within / len(gaps) if gaps else 0.0,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vigy", default=shutil.which("vigy") or "build/cli/vigy", help="the vigy binary")
    ap.add_argument("--runaways", type=int, action="append", help="runaway programs (repeatable; default 6 and 50)")
    ap.add_argument("--seconds", type=float, default=15.0, help="how long serve runs per scenario")
    ap.add_argument("--wall-ms", type=int, default=5000, help="the runaways' wall-clock limit")
    ap.add_argument("--modes", default="on,off", help="on, off or on,off")
    ap.add_argument("--serve-arg", action="append", default=[], help="extra argument to vigy serve (repeatable)")
    ap.add_argument("--show-gaps", action="store_true", help="print every gap over 120 ms and when it happened")
    a = ap.parse_args()
    counts = a.runaways or [6, 50]
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    print(f"{'fair':>4} {'runaways':>8} {'runs':>5}/{'exp':<4} {'p50':>6} {'p90':>6} {'p99':>7} {'max':>7} "
          f"{'in 100+-20':>10}")
    for n in counts:
        for m in modes:
            r = run_scenario(a.vigy, n, a.seconds, m == "on", a.wall_ms, a.serve_arg, a.show_gaps)
            print(f"{m:>4} {n:>8} {r['runs']:>5}/{r['expected']:<4} {r['p50']:>6.0f} {r['p90']:>6.0f} "
                  f"{r['p99']:>7.0f} {r['max']:>7.0f} {r['within20']:>9.1f}%", flush=True)
            print(f"RESULT fair={m} runaways={n} runs={r['runs']} expected={r['expected']} p50={r['p50']:.0f} "
                  f"p90={r['p90']:.0f} p99={r['p99']:.0f} max={r['max']:.0f} within20={r['within20']:.1f}%",
                  flush=True)


if __name__ == "__main__":
    main()
