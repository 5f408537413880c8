#!/usr/bin/env python3
"""Turns the results.json of bench/run.py runs into the tables of
docs/benchmarks.md: every workload against the reference CPython with the
issue's target and whether it holds, the pauses per generation, and every
CPython side by side at one size. Python standard library only.

    python3 bench/report.py RESULTS.json [MORE.json ...] [--at N]

Samples of the same (workload, case, size, side, metric) from several files
are pooled (their medians are taken together); the reference CPython is the
first file's. --at N picks the size of the every-CPython table (1,000,000).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import median, spread_pct as spread  # noqa: E402  (the runner's own statistics)

# The targets of issue 8, as ratios recycle / reference CPython (at most).
TARGETS = {
    ("fullgc", "tree"): 0.25,
    ("fullgc", "listtree"): 0.25,
    ("fullgc", "graph"): 0.5,
    ("cycles", "pair"): 0.3,
    ("cycles", "ring10"): 0.3,
    ("churn", None): 0.5,
    ("memory", None): 1.0,
}
MALLOC_TARGET = 1.5  # churn: at most this many times malloc + free
PAUSE_TARGETS = {0: 0.5, 1: 0.5, 2: 0.25}  # median and p99, CPU time
HEADLINE = {"fullgc": "ns_per_obj", "cycles": "ns_per_freed", "pyperf": "us_per_collect",
            "churn": "ns_per_object", "memory": "bytes_per_obj"}
UNITS = {"ns_per_obj": "ns per obj", "ns_per_freed": "ns per freed", "us_per_collect": "us per collect",
         "ns_per_object": "ns per object", "bytes_per_obj": "bytes per obj"}
ORDER = ["fullgc", "cycles", "pyperf", "pauses", "churn", "memory"]


def fmt(x, digits=None):
    if x is None:
        return "-"
    if digits is not None:
        return "%.*f" % (digits, x)
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def load(paths):
    samples, pythons, ref = {}, [], None
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        if ref is None:
            ref = d["reference"]
        for py in d["pythons"]:
            if py["label"] not in [q["label"] for q in pythons]:
                pythons.append(py)
        for s in d["samples"]:
            samples.setdefault(tuple(s[:5]), []).extend(s[5])
    return samples, pythons, ref


def cell(v):
    return "-" if not v else "%s ±%.0f%%" % (fmt(median(v)), spread(v))


def target_of(bench, case):
    return TARGETS.get((bench, case), TARGETS.get((bench, None)))


def main_table(samples, ref):
    keys = sorted(set((b, c, n) for (b, c, n, i, m) in samples if b in HEADLINE and m == HEADLINE[b]),
                  key=lambda k: (ORDER.index(k[0]), k[1], k[2]))
    out = ["| workload | case | n | metric | recycle | %s | ratio | target | met | malloc+free | Boehm GC | PHP |"
           % ref, "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for b, c, n in keys:
        m = HEADLINE[b]
        rc, py = samples.get((b, c, n, "recycle", m)), samples.get((b, c, n, ref, m))
        ratio = median(rc) / median(py) if rc and py else None
        t = target_of(b, c)
        met = "-" if t is None or ratio is None else ("yes" if ratio <= t else "**no**")
        mal = samples.get((b, c, n, "malloc", m))
        if mal and rc:
            rm = median(rc) / median(mal)
            met += " (%.2f x malloc: %s)" % (rm, "yes" if rm <= MALLOC_TARGET else "**no**")
        digits = 2 if b == "memory" else None
        rcell = "-" if not rc else "%s ±%.0f%%" % (fmt(median(rc), digits), spread(rc))
        pcell = "-" if not py else "%s ±%.0f%%" % (fmt(median(py), digits), spread(py))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            b, c, "{:,}".format(n), UNITS[m], rcell, pcell, fmt(ratio, digits and 3), "<= %s" % t if t else "-", met,
            cell(mal), cell(samples.get((b, c, n, "boehm", m))), cell(samples.get((b, c, n, "php", m)))))
    return "\n".join(out)


def pauses_table(samples, ref):
    sizes = sorted(set(n for (b, c, n, i, m) in samples if b == "pauses"))
    out = ["| resident heap | gen | pauses (rcy / py) | median wall us: recycle / CPython (ratio) | p99 wall us "
           "| median CPU us | p99 CPU us | target | met (CPU) |", "|---|---|---|---|---|---|---|---|---|"]

    def med(n, impl, m):
        v = samples.get(("pauses", "tree", n, impl, m))
        return median(v) if v else None

    def pair(n, m):
        a, b = med(n, "recycle", m), med(n, ref, m)
        r = a / b if a is not None and b else None
        return "%s / %s (%s)" % (fmt(a), fmt(b), fmt(r)), r

    for n in sizes:
        for g in range(3):
            counts = "%s/%s" % (fmt(med(n, "recycle", "gen%d_count" % g)), fmt(med(n, ref, "gen%d_count" % g)))
            mw, _ = pair(n, "gen%d_median_us" % g)
            pw, _ = pair(n, "gen%d_p99_us" % g)
            mc, rm = pair(n, "gen%d_cpu_median_us" % g)
            pc, rp = pair(n, "gen%d_cpu_p99_us" % g)
            t = PAUSE_TARGETS[g]
            met = "-" if rm is None or rp is None else ("yes" if rm <= t and rp <= t else "**no**")
            out.append("| {:,} | {} | {} | {} | {} | {} | {} | <= {} | {} |".format(n, g, counts, mw, pw, mc, pc, t,
                                                                                   met))
        share = "%s %% / %s %% of %s s / %s s" % (fmt(med(n, "recycle", "gc_share_pct")), fmt(med(n, ref, "gc_share_pct")),
                                                fmt(med(n, "recycle", "wall_s")), fmt(med(n, ref, "wall_s")))
        out.append("| {:,} | all | time collecting: {} | | | | | | |".format(n, share))
    return "\n".join(out)


def every_python_table(samples, pythons, at):
    labels = [p["label"] for p in sorted(pythons, key=lambda p: [int(x) for x in p["version"].split(".")])]
    rows = []
    for b in ORDER:
        metrics = ([HEADLINE[b]] if b != "pauses" else
                   ["gc_share_pct", "gen0_median_us", "gen1_median_us", "gen2_median_us"])
        cases = sorted(set(c for (bb, c, n, i, m) in samples if bb == b))
        for c in cases:
            for m in metrics:
                ns = sorted(set(n for (bb, cc, n, i, mm) in samples if bb == b and cc == c and mm == m))
                n = at if at in ns else (ns[0] if len(ns) == 1 else None)
                if n is None:
                    continue
                rc = samples.get((b, c, n, "recycle", m))
                if not rc:
                    continue
                cells = []
                for lab in labels:
                    v = samples.get((b, c, n, lab, m))
                    cells.append("-" if not v else "%s (%s)" % (fmt(median(v)), fmt(median(rc) / median(v))))
                rows.append("| %s | %s | %s | %s | %s |" % (b, c, UNITS.get(m, m.replace("_", " ")),
                                                           fmt(median(rc)), " | ".join(cells)))
    head = "| workload | case | metric | recycle | %s |" % " | ".join(l.replace("CPython ", "") for l in labels)
    return "\n".join([head, "|" + "---|" * (4 + len(labels))] + rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+")
    ap.add_argument("--at", type=int, default=1000000)
    args = ap.parse_args()
    samples, pythons, ref = load(args.results)
    print("## Against %s\n" % ref)
    print(main_table(samples, ref))
    print("\n## Pauses\n")
    print(pauses_table(samples, ref))
    print("\n## Every CPython at {:,}\n".format(args.at))
    print(every_python_table(samples, pythons, args.at))
    return 0


if __name__ == "__main__":
    sys.exit(main())
