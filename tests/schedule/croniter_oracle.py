#!/usr/bin/python3
"""tests/schedule/croniter_oracle.py — the independent oracle for vigy's cron.

Run under Debian's /usr/bin/python3 (python3-croniter 1.3.5, python3-dateutil;
zoneinfo is in the standard library). Two modes, both printing one JSON object
per line on stdout:

  cron SEED COUNT   generates COUNT cron expressions from SEED (deterministic)
                    and, for each, croniter's next fire times from a random
                    start instant in UTC or a zone without DST:
                    {"expr": "...", "tz": "Asia/Tokyo", "from_ms": N, "next_ms": [N, ...]}
                    A 6-field expression is in vigy's form (seconds first);
                    croniter gets it with the seconds moved last, its form.
  offsets ZONE...   the UTC offset of each zone at instants 2030..2060 from
                    Python's zoneinfo: {"tz": "...", "at_s": [..], "offset_s": [..]}

The corpus keeps to where croniter and cronie agree (see docs/schedules.md):
no `N/S` without a range (cronie refuses it), no step larger than its range,
no `*/S` or full-range lists in day-of-month or day-of-week while the other
day field is restricted (cronie and croniter decide "restricted" differently),
no 7 in day-of-week of 6-field expressions (croniter 1.3.5 drops it there), and
no day-of-month list with both a day >= 29 and a day <= 3 (croniter 1.3.5
overshoots into the next month, see croniter_overshoots).
"""
import datetime
import json
import random
import sys
from zoneinfo import ZoneInfo

from croniter import croniter

ZONES = ["UTC", "UTC", "Asia/Tokyo", "Asia/Kolkata", "Asia/Shanghai", "Africa/Lagos", "America/Bogota"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
NEXT_COUNT = 8


def case(rng, name):
    return name.upper() if rng.random() < 0.2 else (name.capitalize() if rng.random() < 0.3 else name)


def value(rng, lo, hi, names, base):
    """A value in lo..hi, as a number or (sometimes) its name; names[0] is value `base`."""
    v = rng.randint(lo, hi)
    if names and rng.random() < 0.35:
        return v, case(rng, names[(v - base) % len(names)])
    return v, str(v)


def item(rng, lo, hi, names, allow_star_step):
    """One list item: N, N-M, N-M/S, */S."""
    r = rng.random()
    if r < 0.15 and allow_star_step:
        span = hi - lo
        return "*/%d" % rng.randint(1, max(1, span))
    if r < 0.55:
        return value(rng, lo, hi, names, lo)[1]
    a, ta = value(rng, lo, hi - 1, names, lo)
    b, tb = value(rng, a + 1, hi, names, lo)
    if a == 0 and tb.lower() == "sun":  # "0-sun" is 0-0 for cronie (sun ends a range as 7 only after a start > 0)
        tb = "7"
    if r < 0.8:
        return "%s-%s" % (ta, tb)
    return "%s-%s/%d" % (ta, tb, rng.randint(1, max(1, b - a)))


def field(rng, lo, hi, names=None, star_weight=0.35, allow_star_step=True, full_ok=True):
    if rng.random() < star_weight:
        return "*"
    for _ in range(50):
        n = 1 if rng.random() < 0.6 else rng.randint(2, 4)
        text = ",".join(item(rng, lo, hi, names, allow_star_step) for _ in range(n))
        if full_ok or not covers_all(text, lo, hi, names):
            return text
    return str(lo)


def expand(text, lo, hi, names):
    out = set()
    for it in text.split(","):
        step = 1
        if "/" in it:
            it, s = it.split("/")
            step = int(s)
        if it == "*":
            a, b = lo, hi
        elif "-" in it:
            x, y = it.split("-")
            a, b = num(x, lo, names), num(y, lo, names)
            if hi == 7 and b == 0 and a > 0:  # fri-sun: a range ending in Sunday ends at 7
                b = 7
        else:
            a = b = num(it, lo, names)
        out.update(range(a, b + 1, step))
    return out


def num(t, lo, names):
    if t.isdigit():
        return int(t)
    return names.index(t.lower()) + lo


def covers_all(text, lo, hi, names):
    vals = expand(text, lo, hi, names)
    if hi == 7:  # day of week: 7 is Sunday
        vals = {0 if v == 7 else v for v in vals}
        return vals == set(range(0, 7))
    return vals == set(range(lo, hi + 1))


def croniter_overshoots(dom):
    """croniter 1.3.5 steps from day d by (v - d) days to a listed day v the month
    lacks (31 in February) and so jumps past the first days of the next month:
    '31,1' after Feb 25 gives Mar 3, then Mar 20... Lists with a day >= 29 and a
    day <= 3 hit that bug; vigy's handling of them is tested by hand."""
    days = expand(dom, 1, 31, None)
    return max(days) >= 29 and min(days) <= 3


def never_fires(dom, month):
    days = expand(dom, 1, 31, None)
    months = expand(month, 1, 12, MONTHS)
    longest = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
    return not any(d <= longest[m] for m in months for d in days)


def expression(rng):
    six = rng.random() < 0.25
    shape = rng.random()
    minute = field(rng, 0, 59, star_weight=0.25)
    hour = field(rng, 0, 23, star_weight=0.35)
    month = field(rng, 1, 12, MONTHS, star_weight=0.6)
    dow_hi = 6 if six else 7
    if shape < 0.35:  # only day-of-month restricted
        dom, dow = field(rng, 1, 31, star_weight=0.0), "*"
    elif shape < 0.6:  # only day-of-week restricted
        dom, dow = "*", field(rng, 0, dow_hi, DAYS, star_weight=0.0)
    elif shape < 0.85:  # both restricted: the Vixie OR rule
        dom = field(rng, 1, 31, star_weight=0.0, allow_star_step=False, full_ok=False)
        dow = field(rng, 0, dow_hi, DAYS, star_weight=0.0, allow_star_step=False, full_ok=False)
    else:
        dom, dow = "*", "*"
    if dom != "*" and croniter_overshoots(dom):
        dom = str(rng.randint(4, 28))
    if rng.random() < 0.08:  # leap day
        dom, month, dow = "29", rng.choice(["2", "feb", "FEB"]), "*"
    if never_fires(dom, month):  # croniter also gives up on such a day-of-month when OR-ed with a weekday
        dom = "1"
    fields = [minute, hour, dom, month, dow]
    if six:
        fields.insert(0, field(rng, 0, 59, star_weight=0.3))
    return " ".join(fields), six


def start_instant(rng):
    # 1995..2090: leap years 1996, 2000 (a century leap year), ..., not 2100.
    lo = int(datetime.datetime(1995, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    hi = int(datetime.datetime(2090, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    t = rng.randint(lo, hi)
    if rng.random() < 0.3:
        t -= t % 60  # exactly on a minute: "strictly after" matters
    return t * 1000 + (rng.randint(0, 999) if rng.random() < 0.3 else 0)


def cron_mode(seed, count):
    rng = random.Random(seed)
    for _ in range(count):
        expr, six = expression(rng)
        tz = rng.choice(ZONES)
        from_ms = start_instant(rng)
        oracle_expr = expr
        if six:
            parts = expr.split()
            oracle_expr = " ".join(parts[1:] + parts[:1])  # croniter: seconds last
        start = datetime.datetime.fromtimestamp(from_ms / 1000.0, tz=ZoneInfo(tz))
        it = croniter(oracle_expr, start)
        nxt = [int(round(it.get_next(float) * 1000)) for _ in range(NEXT_COUNT)]
        print(json.dumps({"expr": expr, "tz": tz, "from_ms": from_ms, "next_ms": nxt}))


def offsets_mode(zones):
    base = int(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    end = int(datetime.datetime(2060, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    for tz in zones:
        z = ZoneInfo(tz)
        at, off = [], []
        t = base
        while t < end:  # every 7 hours: every transition day is sampled near its change
            at.append(t)
            off.append(int(datetime.datetime.fromtimestamp(t, tz=z).utcoffset().total_seconds()))
            t += 7 * 3600
        print(json.dumps({"tz": tz, "at_s": at, "offset_s": off}))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "cron":
        cron_mode(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) >= 3 and sys.argv[1] == "offsets":
        offsets_mode(sys.argv[2:])
    else:
        sys.stderr.write("usage: croniter_oracle.py cron SEED COUNT | offsets ZONE...\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
