#!/usr/bin/env python3
"""mal on recycle against mal's own C implementation on the Boehm collector.

Runs mal's perf1, perf2 and perf3 (from mal's tests/, run from where they
are: mal is MPL-2.0, nothing is copied) and our GC-heavy program
(bench/mal/gc_heavy.mal) on both interpreters, interleaved in one run (the
order alternates every repetition), and reports per program and side the
medians of:

  - the program's own figure: "Elapsed time" (perf1, perf2, gc_heavy) or
    iterations in 10 s of wall time (perf3);
  - process CPU time (user + system, from wait4's rusage: both sides are
    measured by the same clock, whatever the machine's load);
  - perf3's iterations per CPU second (iterations / CPU time: the 10 s are
    wall time, so on a loaded machine the raw count mostly measures the
    share of the CPU a side got);
  - peak RSS (ru_maxrss);
  - collection pauses: ours from the collector's gc callbacks
    (MAL_GC_PAUSES), Boehm's from its GC_PRINT_STATS lines ("Complete
    collection took N ms M ns").

The peer is built from a copy of mal's peers/c.2 (it needs Debian's
libgc-dev, libedit-dev, libffi-dev and pkg-config). Usage:

  run_mal.py --ours build/release/clients/mal/stepA_mal --mal-dir ../shared/mal \
             --work build/bench-mal [--reps 3] [--quick]
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def build_peer(mal_dir, work):
    src = os.path.join(mal_dir, "peers", "c.2")
    dst = os.path.join(work, "peer-c.2")
    exe = os.path.join(dst, "stepA_mal")
    if os.path.exists(exe):
        return exe
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    r = subprocess.run(["make", "-C", dst, "stepA_mal"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if r.returncode != 0 or not os.path.exists(exe):
        sys.stderr.write(r.stdout[-3000:])
        sys.exit("the peer did not build (it needs libgc-dev, libedit-dev, libffi-dev, pkg-config)")
    return exe


def layout(mal_dir, work):
    impls = os.path.join(work, "impls")
    for name in ("tests", "lib"):
        link = os.path.join(impls, name)
        if not os.path.islink(link):
            os.makedirs(impls, exist_ok=True)
            os.symlink(os.path.abspath(os.path.join(mal_dir, name)), link)
    for side in ("recycle", "peer"):
        os.makedirs(os.path.join(impls, side), exist_ok=True)
    return impls


def run_measured(exe, prog, cwd, side, work):
    """One run: figures from the program's output, CPU and peak RSS from
    wait4's rusage of that very process."""
    pauses_file = os.path.join(work, "pauses-%s.txt" % side)
    if os.path.exists(pauses_file):
        os.remove(pauses_file)
    env = dict(os.environ)
    if side == "recycle":
        env["MAL_GC_PAUSES"] = pauses_file
    else:
        env["GC_PRINT_STATS"] = "1"
    out_path = os.path.join(work, "out-%s.txt" % side)
    err_path = os.path.join(work, "err-%s.txt" % side)
    time_path = os.path.join(work, "time-%s.txt" % side)
    # The peak RSS a child reports (ru_maxrss) includes the memory of the
    # process it was forked from, before its exec: started from Python it
    # would read as Python's 15 MB. GNU time is a small C program, so its
    # child starts from ~1.5 MB (the floor of the figure, the same for both
    # sides); without it the figure is Python's floor.
    cmd = [exe, prog]
    if GNU_TIME:
        cmd = [GNU_TIME, "-f", "%U %S %M", "-o", time_path] + cmd
    with open(out_path, "w") as fo, open(err_path, "w") as fe:
        wall0 = time.monotonic()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - wall0
    out = open(out_path).read()
    err = open(err_path).read()
    res = {"cpu_s": ru.ru_utime + ru.ru_stime, "wall_s": wall, "peak_rss_kb": ru.ru_maxrss,
           "status": status}
    if GNU_TIME:
        u, s_, m = open(time_path).read().split()[-3:]
        res["cpu_s"] = float(u) + float(s_)
        res["peak_rss_kb"] = int(m)
    m = re.search(r"iters over 10 seconds: (\d+)", out)
    if m:
        res["iters"] = int(m.group(1))
    m = re.search(r"Elapsed time: ([0-9.]+) msecs", out)
    if m:
        res["elapsed_ms"] = float(m.group(1))
    if side == "recycle":
        if os.path.exists(pauses_file):
            m = re.search(r"collections (\d+) total_ms ([0-9.]+) max_ms ([0-9.]+)", open(pauses_file).read())
            if m:
                res["gc_count"] = int(m.group(1))
                res["gc_total_ms"] = float(m.group(2))
                res["gc_max_ms"] = float(m.group(3))
    else:
        ps = [int(a) + int(b) / 1e6 for a, b in re.findall(r"Complete collection took (\d+) ms (\d+) ns", err)]
        res["gc_count"] = len(ps)
        res["gc_total_ms"] = sum(ps)
        res["gc_max_ms"] = max(ps) if ps else 0.0
    if status != 0:
        res["error"] = (out + err)[-500:]
    return res


def med(rows, key):
    v = [r[key] for r in rows if key in r]
    return statistics.median(v) if v else None


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return ["?", "?", "?"]


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--mal-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one repetition, perf3 left out")
    args = ap.parse_args()

    if not os.path.exists(os.path.join(args.mal_dir, "tests", "perf3.mal")):
        sys.exit("mal's files not found in %s (set MAL_DIR)" % args.mal_dir)
    os.makedirs(args.work, exist_ok=True)
    work = os.path.abspath(args.work)
    ours = os.path.abspath(args.ours)
    peer = build_peer(args.mal_dir, work)
    impls = layout(args.mal_dir, work)
    progs = [("perf1", "../tests/perf1.mal"), ("perf2", "../tests/perf2.mal"),
             ("perf3", "../tests/perf3.mal"), ("gc_heavy", os.path.join(HERE, "gc_heavy.mal"))]
    reps = args.reps
    if args.quick:
        progs = [p for p in progs if p[0] != "perf3"]
        reps = 1
    sides = {"recycle": (ours, os.path.join(impls, "recycle")), "peer": (peer, os.path.join(impls, "peer"))}

    load_before = loadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = {name: {"recycle": [], "peer": []} for name, _ in progs}
    for rep in range(reps):
        for name, prog in progs:
            order = ["recycle", "peer"] if rep % 2 == 0 else ["peer", "recycle"]
            for side in order:
                exe, cwd = sides[side]
                r = run_measured(exe, prog, cwd, side, work)
                results[name][side].append(r)
                sys.stderr.write("rep %d %-8s %-7s cpu %.2fs rss %d KB %s\n" % (
                    rep + 1, name, side, r["cpu_s"], r["peak_rss_kb"],
                    ("iters %d" % r["iters"]) if "iters" in r else
                    ("elapsed %.0f ms" % r["elapsed_ms"]) if "elapsed_ms" in r else r.get("error", "")))
    load_after = loadavg()

    lines = []
    lines.append("mal on recycle (%s) vs mal's C peer on Boehm (peers/c.2), %d interleaved repetitions, medians" % (
        os.path.relpath(ours), reps))
    lines.append("machine: %s, %d CPUs; %s; load average %s before, %s after" % (
        cpu_model(), os.cpu_count() or 0, started, "/".join(load_before), "/".join(load_after)))
    lines.append("")
    lines.append("| program | side | figure | CPU s | iters per CPU s | peak RSS MB | collections | GC total ms | max pause ms |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for name, _ in progs:
        for side in ("recycle", "peer"):
            rows = results[name][side]
            if any("error" in r for r in rows):
                lines.append("| %s | %s | FAILED: %s | | | | | | |" % (name, side, rows[0].get("error", "")[:80]))
                continue
            cpu = med(rows, "cpu_s")
            ipc = med([dict(v=r["iters"] / r["cpu_s"]) for r in rows if "iters" in r and r["cpu_s"] > 0], "v")
            fig = ("%d iters" % med(rows, "iters")) if med(rows, "iters") is not None else (
                "%.0f ms" % med(rows, "elapsed_ms")) if med(rows, "elapsed_ms") is not None else "-"
            rss = med(rows, "peak_rss_kb") / 1024.0
            summary[(name, side)] = {"cpu": cpu, "ipc": ipc, "rss": rss, "iters": med(rows, "iters")}
            lines.append("| %s | %s | %s | %.3f | %s | %.1f | %s | %s | %s |" % (
                name, side, fig, cpu, ("%.0f" % ipc) if ipc else "-", rss,
                "%d" % med(rows, "gc_count") if med(rows, "gc_count") is not None else "-",
                "%.1f" % med(rows, "gc_total_ms") if med(rows, "gc_total_ms") is not None else "-",
                "%.2f" % med(rows, "gc_max_ms") if med(rows, "gc_max_ms") is not None else "-"))
    lines.append("")
    for name, _ in progs:
        a, b = summary.get((name, "recycle")), summary.get((name, "peer"))
        if not a or not b:
            continue
        parts = ["CPU time ratio peer/recycle %.2fx" % (b["cpu"] / a["cpu"]) if a["cpu"] else ""]
        if a["ipc"] and b["ipc"]:
            parts.append("iterations per CPU s recycle/peer %.2fx" % (a["ipc"] / b["ipc"]))
            parts.append("raw iterations recycle/peer %.2fx" % (a["iters"] / b["iters"]))
        parts.append("peak RSS recycle/peer %.2fx" % (a["rss"] / b["rss"]))
        lines.append("- %s: %s" % (name, ", ".join(p for p in parts if p)))
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"started": started, "load_before": load_before, "load_after": load_after,
                   "results": results}, f, indent=1)
    failed = any("error" in r for v in results.values() for rows in v.values() for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
