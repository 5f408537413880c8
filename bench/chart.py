#!/usr/bin/env python3
"""Draws the plots of a bench/run.py run with matplotlib (Debian's
python3-matplotlib; bench/run.py --chart finds a python3 that has it):

  ratios.png  recycle / reference CPython on thread CPU time, one bar per
              workload and case at its largest size (and one per --variant
              side), the issue's target marked where there is one
  pauses.png  the distribution of the pauses of each generation (CDF of the
              thread CPU time of every pause of every run), recycle beside
              CPython and beside every --variant side (an incremental mode,
              say), one row per resident-heap size
  scale.png   full-collection cost per object against the heap size (tree
              and random graph, recycle, its variants and CPython) beside
              the machine's floor measured by bench_floor

    python3 bench/chart.py RESULTS.json OUTDIR

Only plots are drawn here; the numbers are in table.md and bench/report.py.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

PLAIN = FuncFormatter(lambda x, _: "%g" % x)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import target_of, PAUSE_TARGETS  # noqa: E402
from run import median, PEERS  # noqa: E402

COLORS = {"recycle": "#1f77b4", "python": "#d62728", "malloc": "#7f7f7f", "boehm": "#2ca02c", "php": "#9467bd"}
VARIANT_COLORS = ["#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22"]


def load(path):
    with open(path) as f:
        d = json.load(f)
    samples = {tuple(s[:5]): s[5] for s in d["samples"]}
    dists = {tuple(s[:5]): s[5] for s in d.get("dists", [])}
    return d, samples, dists


def variant_sides(d, samples):
    known = set(["recycle", "malloc"] + PEERS + [p["label"] for p in d["pythons"]])
    return sorted(set(k[3] for k in samples if k[3] not in known))


def color_of(side, ref, variants):
    if side == ref:
        return COLORS["python"]
    if side in variants:
        return VARIANT_COLORS[variants.index(side) % len(VARIANT_COLORS)]
    return COLORS.get(side, "#000000")


def subtitle(d):
    load = d.get("load") or {}
    return "%s, %s run, commit %s; load average %s; thread CPU time" % (
        d.get("date", "?"), d.get("mode", "?"), d.get("commit") or "?",
        "%.1f (%.1f-%.1f)" % (load["median"], load["min"], load["max"]) if load else "?")


HEADLINE = {"fullgc": "ns_per_obj", "cycles": "ns_per_freed", "pyperf": "us_per_collect",
            "churn": "ns_per_object", "memory": "bytes_per_obj"}


def draw_ratios(d, samples, out):
    ref = d["reference"]
    variants = variant_sides(d, samples)
    bars = []  # (label, {side: ratio}, target)
    for bench in ["fullgc", "cycles", "pyperf", "pauses", "churn", "memory"]:
        cases = sorted(set(k[1] for k in samples if k[0] == bench))
        for case in cases:
            metrics = [HEADLINE[bench]] if bench != "pauses" else [
                "gen0_median_us", "gen0_p99_us", "gen1_median_us", "gen1_p99_us", "gen2_median_us"]
            for m in metrics:
                ns = sorted(set(k[2] for k in samples if k[0] == bench and k[1] == case and k[4] == m
                                and (bench, case, k[2], ref, m) in samples))
                if not ns:
                    continue
                n = ns[-1]
                py = median(samples[(bench, case, n, ref, m)])
                if not py:
                    continue
                ratios = {}
                for side in ["recycle"] + variants:
                    v = samples.get((bench, case, n, side, m))
                    if v:
                        ratios[side] = median(v) / py
                if not ratios:
                    continue
                label = "%s %s %s" % (bench, case, "{:,}".format(n))
                t = target_of(bench, case)
                if bench == "pauses":
                    g = int(m[3])
                    label = "pauses %s gen%d %s" % ("{:,}".format(n), g, m.split("_")[1])
                    t = PAUSE_TARGETS[g]
                bars.append((label, ratios, t))
    if not bars:
        return
    sides = ["recycle"] + variants
    h = 0.8 / len(sides)
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(bars) * max(1, len(sides) * 0.7) + 1.6))
    for j, side in enumerate(sides):
        ys = [i + (j - (len(sides) - 1) / 2.0) * h for i in range(len(bars))]
        xs = [b[1].get(side, 0) for b in bars]
        ax.barh(ys, xs, height=h, color=color_of(side, ref, variants), label=side)
        for y, x in zip(ys, xs):
            if x:
                ax.text(x, y, " %.2f" % x, va="center", fontsize=7)
    for i, b in enumerate(bars):
        if b[2] is not None:
            ax.plot([b[2], b[2]], [i - 0.45, i + 0.45], color="black", linewidth=1.5)
    ax.axvline(1.0, color="#d62728", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([b[0] for b in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("recycle / %s (thread CPU time; lower is better; black tick: target; dashed: parity)" % ref)
    ax.set_title("recycle against %s at the largest size of each workload\n%s" % (ref, subtitle(d)), fontsize=9)
    if len(sides) > 1:
        ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ratios.png"), dpi=110)
    plt.close(fig)


def draw_pauses(d, samples, dists, out):
    ref = d["reference"]
    variants = variant_sides(d, samples)
    sizes = sorted(set(k[2] for k in dists if k[0] == "pauses"))
    if not sizes:
        return
    sides = ["recycle"] + variants + [ref]
    fig, axes = plt.subplots(len(sizes), 3, figsize=(12, 3.0 * len(sizes) + 0.8), squeeze=False)
    for r, n in enumerate(sizes):
        for g in range(3):
            ax = axes[r][g]
            for side in sides:
                v = sorted(dists.get(("pauses", "ring", n, side, "gen%d_us" % g), []))
                if not v:
                    continue
                ys = [(i + 1) / float(len(v)) for i in range(len(v))]
                style = dict(color=color_of(side, ref, variants), linewidth=1.4)
                if len(v) < 20:
                    ax.step(v, ys, where="post", marker="o", markersize=3, label="%s (%d)" % (side, len(v)), **style)
                else:
                    ax.step(v, ys, where="post", label="%s (%d)" % (side, len(v)), **style)
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(PLAIN)
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_ylim(0, 1.02)
            lo, hi = ax.get_xlim()
            if lo > 0 and hi / lo < 20:  # within about a decade: label the minor ticks too
                ax.xaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
                ax.xaxis.set_minor_formatter(FuncFormatter(lambda x, _: "%g" % float("%.2g" % x)))
                ax.tick_params(axis="x", which="minor", labelsize=7)
            ax.grid(alpha=0.3, which="both")
            ax.set_title("generation %d, resident heap %s" % (g, "{:,}".format(n)), fontsize=9)
            if r == len(sizes) - 1:
                ax.set_xlabel("pause, us of thread CPU time (log)")
            if g == 0:
                ax.set_ylabel("share of pauses <= x")
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="lower right")
            else:
                ax.text(0.5, 0.5, "no pauses", transform=ax.transAxes, ha="center", color="#7f7f7f")
    fig.suptitle("Pauses of automatic collection in the steady state (bench_pauses ring: every pause of every run)\n"
                 + subtitle(d), fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "pauses.png"), dpi=100)
    plt.close(fig)


FLOOR_LABELS = {"chase4k": "floor: dependent random visit, 4 KiB pages",
                "chase2m": "floor: dependent random visit, huge pages",
                "mlp4k": "floor: random visit, 16 in flight, 4 KiB pages",
                "mlp2m": "floor: random visit, 16 in flight, huge pages",
                "seq4k": "floor: sequential read per 48 bytes"}


def draw_scale(d, samples, out):
    ref = d["reference"]
    variants = variant_sides(d, samples)
    fig, ax = plt.subplots(figsize=(9, 6))
    drew = False
    for case, marker in (("tree", "o"), ("graph", "s")):
        for side in ["recycle"] + variants + [ref, "boehm"]:
            pts = sorted((k[2], median(v)) for k, v in samples.items()
                         if k[0] == "fullgc" and k[1] == case and k[3] == side and k[4] == "ns_per_obj")
            if not pts:
                continue
            drew = True
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=color_of(side, ref, variants),
                    linestyle="-" if case == "graph" else "--", label="%s, %s" % (side, case))
    for case, style in (("mlp4k", ":"), ("mlp2m", "-."), ("chase4k", (0, (1, 3))), ("seq4k", (0, (5, 5)))):
        pts = sorted((k[2], median(v)) for k, v in samples.items()
                     if k[0] == "floor" and k[1] == case and k[3] == "recycle" and k[4] == "ns_per_visit")
        if pts:
            drew = True
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color="#7f7f7f" if case.startswith("chase") else "black",
                    linestyle=style, linewidth=1, label=FLOOR_LABELS[case])
    if not drew:
        plt.close(fig)
        return
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("objects in the heap (log)")
    ax.set_ylabel("ns per object of a full collection / per visit (thread CPU time, log)")
    ax.set_title("Full collection cost per object against the heap size, beside the machine's floor\n" + subtitle(d),
                 fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scale.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: chart.py RESULTS.json OUTDIR\n")
        return 2
    d, samples, dists = load(sys.argv[1])
    os.makedirs(sys.argv[2], exist_ok=True)
    draw_ratios(d, samples, sys.argv[2])
    draw_pauses(d, samples, dists, sys.argv[2])
    draw_scale(d, samples, sys.argv[2])
    print("chart.py: plots in %s" % sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
