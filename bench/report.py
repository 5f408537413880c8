#!/usr/bin/env python3
"""Turns the results.json of bench/run.py runs into the tables of
docs/benchmarks.md: every workload against the reference CPython with the
issues' targets and whether they hold (on thread CPU time, the wall-clock
ratio beside), the pauses per generation, the scale table beside the
machine's floor, and every CPython side by side at one size. Python
standard library only.

    python3 bench/report.py RESULTS.json [MORE.json ...] [--at N] [--doc FILE]

Samples of the same (workload, case, size, side, metric) from several files
are pooled (their medians are taken together); the reference CPython is the
first file's. --at N picks the size of the every-CPython table (1,000,000).

--doc FILE (docs/benchmarks.md) rewrites, in place, only the generated
blocks of FILE, each between a line <!-- report:NAME --> and a line
<!-- /report:NAME --> (NAME: runs, main, pauses, scale, pythons), and leaves
every other line as it is: the prose, and the subsections other work adds
(instances, mal against Boehm, the incremental mode), survive a
regeneration.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import median, spread_pct as spread  # noqa: E402  (the runner's own statistics)

# The targets, as ratios recycle / reference CPython (at most), on thread
# CPU time: issue 8's for full collections, cyclic garbage, memory and gen-2
# pauses; issue 16's for churn (0.4, and 1.2 x malloc + free) and the young
# generations' pauses (0.4, median and p99).
TARGETS = {
    ("fullgc", "tree"): 0.25,
    ("fullgc", "listtree"): 0.25,
    ("fullgc", "graph"): 0.5,
    ("cycles", "pair"): 0.3,
    ("cycles", "ring10"): 0.3,
    ("churn", None): 0.4,
    ("memory", None): 1.0,
}
MALLOC_TARGET = 1.2  # churn: at most this many times malloc + free
PAUSE_TARGETS = {0: 0.4, 1: 0.4, 2: 0.25}  # median and p99, CPU time
HEADLINE = {"fullgc": "ns_per_obj", "cycles": "ns_per_freed", "pyperf": "us_per_collect",
            "churn": "ns_per_object", "memory": "bytes_per_obj"}
UNITS = {"ns_per_obj": "ns per obj", "ns_per_freed": "ns per freed", "us_per_collect": "us per collect",
         "ns_per_object": "ns per object", "bytes_per_obj": "bytes per obj"}
ORDER = ["fullgc", "floor", "cycles", "pyperf", "pauses", "churn", "memory"]


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
    samples, pythons, ref, meta = {}, [], None, []
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
        meta.append({"file": p, "date": d.get("date"), "minutes": d.get("minutes"), "mode": d.get("mode"),
                     "commit": d.get("commit"), "load": d.get("load"), "machine": d.get("machine"),
                     "variants": d.get("variants")})
    return samples, pythons, ref, meta


def variants_of(samples, pythons):
    known = set(["recycle", "malloc", "boehm", "php"] + [p["label"] for p in pythons])
    return sorted(set(k[3] for k in samples if k[3] not in known))


def wall_ratio(samples, b, c, n, m, ref):
    rc, py = samples.get((b, c, n, "recycle", "wall_" + m)), samples.get((b, c, n, ref, "wall_" + m))
    return median(rc) / median(py) if rc and py and median(py) else None


def cell(v):
    return "-" if not v else "%s ±%.0f%%" % (fmt(median(v)), spread(v))


def target_of(bench, case):
    return TARGETS.get((bench, case), TARGETS.get((bench, None)))


def main_table(samples, ref, variants=()):
    keys = sorted(set((b, c, n) for (b, c, n, i, m) in samples if b in HEADLINE and m == HEADLINE[b]),
                  key=lambda k: (ORDER.index(k[0]), k[1], k[2]))
    vhead = "".join(" %s | %s ratio |" % (v, v) for v in variants)
    out = ["| workload | case | n | metric | recycle |%s %s | ratio | wall ratio | target | met | malloc+free "
           "| Boehm GC | PHP |" % (vhead, ref), "|---|---|---|---|---|" + "---|---|" * len(variants)
           + "---|---|---|---|---|---|---|---|"]
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
        vcells = ""
        for v in variants:
            vv = samples.get((b, c, n, v, m))
            vcells += " %s | %s |" % (cell(vv), fmt(median(vv) / median(py), digits and 3) if vv and py else "-")
        out.append("| %s | %s | %s | %s | %s |%s %s | %s | %s | %s | %s | %s | %s | %s |" % (
            b, c, "{:,}".format(n), UNITS[m], rcell, vcells, pcell, fmt(ratio, digits and 3),
            fmt(wall_ratio(samples, b, c, n, m, ref), digits and 3), "<= %s" % t if t else "-", met,
            cell(mal), cell(samples.get((b, c, n, "boehm", m))), cell(samples.get((b, c, n, "php", m)))))
    return "\n".join(out)


def pauses_table(samples, ref, variants=()):
    """Per resident-heap size and generation: the number of pauses in one run,
    the median, 99th percentile and maximum of the thread CPU time of a pause
    (each the median over the runs of that run's figure), the wall-clock
    median, recycle's ns per object examined, and the targets."""
    sizes = sorted(set(n for (b, c, n, i, m) in samples if b == "pauses"))
    sides = ["recycle"] + list(variants)
    vnote = "".join(" / %s" % v for v in variants)
    out = ["| resident heap | gen | pauses (rcy / py) | median CPU us: recycle%s / CPython (ratio) | p99 CPU us "
           "| max CPU us | median wall us | rcy ns per examined | target | met (CPU) |" % vnote,
           "|---|---|---|---|---|---|---|---|---|---|"]

    def med(n, impl, m):
        v = samples.get(("pauses", "ring", n, impl, m))
        return median(v) if v else None

    def group(n, m):
        a, b = med(n, "recycle", m), med(n, ref, m)
        r = a / b if a is not None and b else None
        vs = "".join(" / %s" % fmt(med(n, v, m)) for v in variants)
        return "%s%s / %s (%s)" % (fmt(a), vs, fmt(b), fmt(r)), r

    for n in sizes:
        for g in range(3):
            counts = "%s/%s" % (fmt(med(n, "recycle", "gen%d_count" % g)), fmt(med(n, ref, "gen%d_count" % g)))
            mc, rm = group(n, "gen%d_median_us" % g)
            pc, rp = group(n, "gen%d_p99_us" % g)
            xc, _ = group(n, "gen%d_max_us" % g)
            mw, _ = group(n, "wall_gen%d_median_us" % g)
            per = fmt(med(n, "recycle", "gen%d_ns_per_examined" % g))
            t = PAUSE_TARGETS[g]
            met = "-" if rm is None or rp is None else ("yes" if rm <= t and rp <= t else "**no**")
            out.append("| {:,} | {} | {} | {} | {} | {} | {} | {} | <= {} | {} |".format(
                n, g, counts, mc, pc, xc, mw, per, t, met))
        share = "%s %% / %s %% of %s s / %s s of mutator CPU time" % (
            fmt(med(n, "recycle", "gc_share_pct")), fmt(med(n, ref, "gc_share_pct")),
            fmt(med(n, "recycle", "mutator_s")), fmt(med(n, ref, "mutator_s")))
        out.append("| {:,} | all | time collecting: {} | | | | | | | |".format(n, share))
    del sides
    return "\n".join(out)


FLOORS = [("seq4k", "sequential"), ("mlp4k", "16 in flight, 4 KiB"), ("mlp2m", "16 in flight, huge"),
          ("chase4k", "dependent, 4 KiB"), ("chase2m", "dependent, huge")]


def scale_table(samples, ref, variants=()):
    """Full-collection cost per object of the tree and the random graph at
    every size measured, beside the floor at the same size (a buffer of as
    many 48-byte objects)."""
    sizes = sorted(set(n for (b, c, n, i, m) in samples if b in ("fullgc", "floor") and
                       (c in ("tree", "graph") or b == "floor")))
    if not sizes:
        return ""

    def med(b, c, n, impl, m):
        v = samples.get((b, c, n, impl, m))
        return median(v) if v else None

    sides = ["recycle"] + list(variants)
    head = "| objects |" + "".join(" tree %s | graph %s |" % (s_, s_) for s_ in sides)
    head += " tree %s | graph %s |" % (ref.replace("CPython ", "py "), ref.replace("CPython ", "py "))
    head += "".join(" floor: %s |" % lab for _, lab in FLOORS) + " huge pages backing the floor's buffer |"
    out = [head, "|---|" + "---|" * (2 * len(sides) + 2 + len(FLOORS) + 1)]
    for n in sizes:
        cells = ["{:,}".format(n)]
        for s_ in sides + [ref]:
            cells += [fmt(med("fullgc", "tree", n, s_, "ns_per_obj")), fmt(med("fullgc", "graph", n, s_, "ns_per_obj"))]
        cells += [fmt(med("floor", c, n, "recycle", "ns_per_visit")) for c, _ in FLOORS]
        hp = med("floor", "chase2m", n, "recycle", "huge_pct")
        cells.append("-" if hp is None else "%.0f %%" % hp)
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def every_python_table(samples, pythons, at):
    labels = [p["label"] for p in sorted(pythons, key=lambda p: [int(x) for x in p["version"].split(".")])]
    rows = []
    for b in ORDER:
        if b == "floor":
            continue
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
    ap.add_argument("--doc", default="")
    args = ap.parse_args()
    samples, pythons, ref, meta = load(args.results)
    variants = variants_of(samples, pythons)
    runs = []
    for m in meta:
        ld = m["load"]
        runs.append("- `%s`: %s run of %s, %s minutes, commit `%s`, variants: %s; 1-minute load average before "
                    "each run: median %s (%s-%s, %s runs)" % (
                        os.path.basename(os.path.dirname(m["file"])) + "/" + os.path.basename(m["file"]),
                        m["mode"], m["date"], m["minutes"], m["commit"],
                        ", ".join("`%s`" % v for v in m["variants"]) if m["variants"] else "none",
                        fmt(ld and ld["median"]), fmt(ld and ld["min"]), fmt(ld and ld["max"]), ld and ld["runs"]))
    blocks = {"runs": "\n".join(runs), "main": main_table(samples, ref, variants),
              "pauses": pauses_table(samples, ref, variants), "scale": scale_table(samples, ref, variants),
              "pythons": every_python_table(samples, pythons, args.at)}
    if args.doc:
        return rewrite_doc(args.doc, blocks)
    print("## Runs\n")
    print(blocks["runs"])
    print("\n## Against %s\n" % ref)
    print(blocks["main"])
    print("\n## Pauses\n")
    print(blocks["pauses"])
    print("\n## Scale\n")
    print(blocks["scale"])
    print("\n## Every CPython at {:,}\n".format(args.at))
    print(blocks["pythons"])
    return 0


def rewrite_doc(path, blocks):
    """Replaces the generated blocks of path (see the module's docstring)."""
    with open(path) as f:
        lines = f.read().split("\n")
    out, inside, seen = [], None, set()
    for line in lines:
        t = line.strip()
        if inside is None and t.startswith("<!-- report:") and t.endswith("-->"):
            inside = t[len("<!-- report:"):-3].strip()
            if inside not in blocks:
                sys.stderr.write("report.py: %s: unknown block %r\n" % (path, inside))
                return 1
            out.append(line)
            out.append(blocks[inside])
            seen.add(inside)
            continue
        if inside is not None:
            if t == "<!-- /report:%s -->" % inside:
                out.append(line)
                inside = None
            continue
        out.append(line)
    if inside is not None:
        sys.stderr.write("report.py: %s: block %r is not closed\n" % (path, inside))
        return 1
    with open(path, "w") as f:
        f.write("\n".join(out))
    print("report.py: rewrote the blocks %s of %s" % (", ".join(sorted(seen)) or "(none)", path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
