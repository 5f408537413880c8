#!/usr/bin/env python3
"""Runs the benchmarks side by side: every C program of bench/ (recycle) and
its Python twin under the CPythons found on the machine, several times,
interleaved (each repetition runs every side once, starting with a
different one), and prints a table of medians, spreads and the ratio
recycle / CPython, judged on the thread CPU time of each side (wall-clock
figures beside). Python standard library only; the plots (bench/chart.py)
need matplotlib and are drawn by whichever python3 has it.

    python3 bench/run.py --bindir BUILD/release/bench [options]

  (default)         the standard run (make bench; about 15 minutes here at a
                    load average of 10, less on a quieter machine): python3
                    only, each workload's standard sizes (full collections of
                    trees to 1e7, of the random graph and the list tree to
                    1e6; pauses at 1e6, 5e6, 1e7), heaps of 5e6 objects
                    repeated twice and of 1e7 once, the others 3-5 times
  --long            the long sweep (make bench-long): the scale sizes up to
                    1e8 (recycle and the floor only at 1e8), churn and memory
                    at every size, and every CPython at 1,000,000
  --quick           the smallest sizes once, the default python3 only: proves
                    that the harness works (CI), never judges speed
  --check           exit 1 unless every run printed every expected metric
  --reps R          interleaved repetitions (default: each workload's own)
  --only W[,W]      workloads: fullgc, floor, cycles, pyperf, pauses, churn, memory,
                    heaptools
  --sizes N[,N]     override the sizes of the sized workloads
  --pythons SPEC    "ref" (python3 only), "all" (python3 and every CPython 3
                    that `pyenv versions` lists), a comma list of versions, or
                    "none" (recycle, its variants and the floor alone)
  --other-sizes N   run the non-reference CPythons only at these sizes
  --variant LABEL:VAR=VALUE[,VAR=VALUE]
                    also run the recycle programs with these environment
                    variables, as a side of its own named LABEL (repeatable):
                    a configuration switch (e.g. huge-page arenas) or a
                    collector mode (e.g. incremental) beside the default
  --variant-only W[,W]
                    run the --variant sides only on these workloads
  --out DIR         where results.json, table.md and the plots go
  --chart           draw the plots (bench/chart.py): ratios.png, pauses.png,
                    scale.png
  --peers-only      run only the peers (to --merge with an earlier run)
  --merge FILE      add the samples of an earlier results.json to the table
  --no-peers        leave out the peers (Boehm GC when bench/peers/boehm.c was
                    built against libgc-dev, PHP when php is installed); the
                    quick mode always does

Each program prints JSON lines {"bench", "case", "n", "impl", "metric",
"value"}; a program's "impl" is "recycle" (or "malloc" for the plain
malloc + free baseline of the churn program) and a twin's "python". A timed
metric is thread CPU time; the same metric prefixed "wall_" is wall-clock
time. A line {"bench", "case", "n", "impl", "dist", "values"} is a whole
distribution (the pauses), kept in results.json for the plots. Before each
run the 1-minute load average is recorded (results.json "runs"), and the
table says what it was.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SIZES = [100000, 1000000, 10000000]
LONG = 100000000  # the scale sweep's largest size (--long): recycle and the floor only

# name: program, twin (None: the program alone), cases, sizes of the standard
# run and of the long sweep, the headline metrics (lower is better; CPU
# time), the metrics that describe the heap, the interleaved repetitions,
# and the largest size the Python twins run at.
WORKLOADS = [
    {"name": "fullgc", "prog": "bench_fullgc", "twin": "bench_fullgc.py",
     "cases": ["tree", "listtree", "graph"], "sizes": SIZES, "long": SIZES + [LONG], "long_cases": ["tree", "graph"],
     "standard_max": {"listtree": 1000000, "graph": 1000000},  # the random graph's build is slow here
     "metrics": ["ns_per_obj"], "heap": ["tracked", "uss_mb", "rss_mb", "huge_mb"], "peers": {"boehm": ["tree", "graph"]},
     "reps": 3, "python_max": 10000000, "peer_max": 1000000},
    {"name": "floor", "prog": "bench_floor", "twin": None,
     "cases": ["chase4k", "mlp4k", "seq4k", "chase2m", "mlp2m"], "sizes": SIZES, "long": SIZES + [LONG],
     "metrics": ["ns_per_visit"], "heap": ["huge_pct", "buffer_mb"], "reps": 3},
    {"name": "cycles", "prog": "bench_cycles", "twin": "bench_cycles.py",
     "cases": ["pair", "ring10"], "sizes": [100000, 1000000], "long": SIZES,
     "metrics": ["ns_per_freed"], "heap": ["uss_mb"], "peers": {"php": ["pair", "ring10"]}, "reps": 3},
    {"name": "pyperf", "prog": "bench_pyperf", "twin": "bench_pyperf.py",
     "cases": ["gc_collect", "gc_traversal"], "fixed": {"gc_collect": 2100, "gc_traversal": 1000},
     "metrics": ["us_per_collect"], "heap": [], "reps": 5},
    # Case buffers (cyclic garbage holding 4 KiB buffers, charged as
    # external bytes) at 1e6 only in the standard run; auto_* (every
    # automatic pause of any generation), gc_cpu_s and peak_rss_mb judge
    # incremental mode (--variant incremental:RCY_GC_MODE=incremental).
    {"name": "pauses", "prog": "bench_pauses", "twin": "bench_pauses.py",
     "cases": ["ring", "buffers", "bigcycle"], "sizes": [1000000, 5000000, 10000000], "long": [1000000, 5000000, 10000000],
     "standard_max": {"buffers": 1000000, "bigcycle": 1000000},
     "metrics": ["auto_p99_us", "auto_max_us", "gc_cpu_s",
                 "gen0_median_us", "gen0_p99_us", "gen0_max_us", "gen1_median_us", "gen1_p99_us", "gen1_max_us",
                 "gen2_median_us", "gen2_p99_us", "gen2_max_us", "gc_share_pct",
                 "wall_gen0_median_us", "wall_gen0_p99_us", "wall_gen1_median_us", "wall_gen1_p99_us",
                 "wall_gen2_median_us", "wall_gen2_p99_us", "wall_gen2_max_us"],
     "heap": ["gen0_count", "gen1_count", "gen2_count", "gen0_ns_per_examined", "gen1_ns_per_examined",
              "gen2_ns_per_examined", "mutator_s", "iterations", "rss_mb", "huge_mb", "peak_rss_mb",
              "incr_passes", "incr_steps", "incr_backstops", "incr_early_starts", "incr_largest_component",
              "incr_last_suspects", "incr_recent_passes", "incr_young_passes", "incr_young_steps",
              "incr_young_finished", "dropped_freed_at", "dropped_freed"],
     "reps": 3},
    {"name": "churn", "prog": "churn", "twin": "churn.py",
     "cases": ["tuple", "list", "dict", "instance"], "sizes": [1000000], "long": SIZES,
     "metrics": ["ns_per_object"], "heap": [], "peers": {"boehm": ["instance"], "php": ["instance"]}, "reps": 5},
    {"name": "memory", "prog": "bench_memory", "twin": "bench_memory.py",
     "cases": ["node", "list", "dict"], "sizes": [1000000, 10000000], "long": SIZES,
     "metrics": ["bytes_per_obj"], "heap": ["rss_mb", "huge_mb"], "peers": {"boehm": ["node"], "php": ["node"]},
     "reps": 1},
    # The heap tools (issue 18): the snapshot walk every tool shares, and
    # retained sizes (the walk and the dominator tree) over a whole heap.
    {"name": "heaptools", "prog": "bench_heaptools", "twin": None,
     "cases": ["dominators"], "sizes": [1000000, 10000000], "long": [1000000, 10000000],
     "metrics": ["retainers_cpu_s", "walk_cpu_s"], "heap": ["peak_rss_growth_bytes", "heap_bytes"], "reps": 3},
]
QUICK_PAUSE_ITERATIONS = 100000
# The standard run repeats the largest heaps less (each builds millions of
# objects on a machine shared with others); the long sweep repeats all alike.
BIG_REPS = {5000000: 2, 10000000: 1}
QUICK_PAUSE_SIZE = 100000
PEERS = ["boehm", "php"]


def peer_cmd(peer, bindir, bench, case, n):
    """The command running a peer on a workload, or None when it is not here:
    the Boehm-Demers-Weiser collector (bench/peers/boehm.c, built when
    Debian's libgc-dev is installed) and PHP (php-cli, bench/peers/php.php)."""
    if peer == "boehm":
        exe = os.path.join(bindir, "peer_boehm")
        return [exe, bench, case, str(n)] if os.path.exists(exe) else None
    if peer == "php":
        php = shutil.which("php")
        return [php, "-d", "memory_limit=-1", os.path.join(HERE, "peers", "php.php"), bench, case, str(n)] if php else None
    return None


def median(v):
    v = sorted(v)
    k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0


def spread_pct(v):
    """Half the range of the samples, in percent of their median."""
    m = median(v)
    return 0.0 if len(v) < 2 or m == 0 else 50.0 * (max(v) - min(v)) / abs(m)


# ---- Finding the CPythons -------------------------------------------------

PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"


def python_cmd(env_version):
    """The command running python3 of a pyenv version: `PYENV_VERSION=v python3`
    through pyenv itself, since a runner started by pyenv's python3 has that
    version's directory first on its PATH."""
    return ["pyenv", "exec", "python3"] if env_version else ["python3"]


def probe(env_version):
    env = dict(os.environ)
    if env_version:
        env["PYENV_VERSION"] = env_version
    try:
        out = subprocess.run(python_cmd(env_version) + ["-c", PROBE], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.split()
    if out.returncode != 0 or len(lines) < 2:
        return None
    return {"version": lines[0], "exe": lines[1], "pyenv": env_version}


def find_pythons(spec):
    ref = probe(None)
    if ref is None:
        sys.exit("run.py: no python3 on PATH")
    ref["label"] = "CPython " + ref["version"]
    found = [ref]
    if spec == "ref":
        return found
    wanted = None if spec == "all" else set(spec.split(","))
    try:
        out = subprocess.run(["pyenv", "versions", "--bare"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True, timeout=60)
        names = out.stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        names = []
    seen = {os.path.realpath(ref["exe"])}
    for name in names:
        if wanted is not None and name not in wanted:
            continue
        p = probe(name)
        # `PYENV_VERSION=2.7.18 python3` falls back to another python3: the
        # version it reports tells.
        if p is None or not p["version"].startswith("3.") or not name.startswith(p["version"][:3]):
            continue
        real = os.path.realpath(p["exe"])
        if real in seen:
            continue
        seen.add(real)
        p["label"] = "CPython " + p["version"]
        found.append(p)
    found[1:] = sorted(found[1:], key=lambda p: [int(x) for x in p["version"].split(".")])
    return found


# ---- Running --------------------------------------------------------------

def run_one(cmd, env, timeout):
    t0 = time.time()
    try:
        out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=timeout, cwd=HERE)
    except subprocess.TimeoutExpired:
        return None, "timeout after %ds" % timeout
    except OSError as e:
        return None, "cannot run %s: %s" % (cmd[0], e)
    if out.returncode != 0:
        return None, "exit %d: %s" % (out.returncode, out.stderr.strip()[-500:])
    recs = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            recs.append(json.loads(line))
        except ValueError:
            return None, "unparsable line: " + line
    return recs, "%.1fs" % (time.time() - t0)


def plan(args):
    """(workload, case, n, extra args) in the order they run."""
    only = set(args.only.split(",")) if args.only else None
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else None
    todo = []
    for w in WORKLOADS:
        if only is not None and w["name"] not in only:
            continue
        for case in w["cases"]:
            if "fixed" in w:
                ns = [w["fixed"][case]]
            elif args.quick:
                ns = [QUICK_PAUSE_SIZE if w["name"] == "pauses" else min(w["sizes"])]
            elif sizes:
                ns = sizes
            elif args.long:
                ns = [n for n in w["long"] if n < LONG or case in w.get("long_cases", w["cases"])]
            else:
                ns = [n for n in w["sizes"] if n <= w.get("standard_max", {}).get(case, n)]
            for n in ns:
                extra = []
                if w["name"] == "pauses" and args.quick:
                    extra = [str(QUICK_PAUSE_ITERATIONS)]
                elif w["name"] == "pyperf" and args.quick:
                    extra = ["3"]
                elif w["name"] == "fullgc" and n >= 5000000:
                    extra = ["3" if n < LONG else "2"]  # in-process repetitions: each builds a big heap
                elif w["name"] == "cycles" and n >= 5000000:
                    extra = ["1"]
                elif w["name"] == "churn" and args.quick:
                    extra = ["1"]
                todo.append((w, case, n, extra))
    return todo


def reps_of(args, w, n):
    if args.reps:
        return args.reps
    if args.quick:
        return 1
    if args.long:
        return w["reps"]
    return min([w["reps"]] + [r for size, r in BIG_REPS.items() if n >= size])


def parse_variants(specs):
    """[(label, {VAR: VALUE})] from --variant LABEL:VAR=VALUE[,VAR=VALUE]."""
    out = []
    for spec in specs:
        label, _, assigns = spec.partition(":")
        env = {}
        for a in assigns.split(","):
            if "=" not in a:
                sys.exit("run.py: --variant wants LABEL:VAR=VALUE[,VAR=VALUE], not %r" % spec)
            k, v = a.split("=", 1)
            env[k] = v
        if not label or label in ("recycle", "malloc") or label in PEERS:
            sys.exit("run.py: --variant needs a label of its own, not %r" % label)
        out.append((label, env))
    return out


def loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bindir", default=os.path.join("build", "release", "bench"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--long", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--only", default="")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--pythons", default="")
    ap.add_argument("--other-sizes", default="")
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--variant-only", default="")
    ap.add_argument("--out", default=os.path.join("build", "bench-results"))
    ap.add_argument("--chart", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--peers-only", action="store_true")
    ap.add_argument("--merge", default="", help="add the samples of an earlier results.json")
    ap.add_argument("--timeout", type=int, default=3600)
    args = ap.parse_args()
    args.bindir = os.path.abspath(args.bindir)  # the programs run in bench/
    variants = parse_variants(args.variant)
    if args.long and not args.other_sizes and not args.pythons:
        args.other_sizes = "1000000"

    pythons = find_pythons(args.pythons or ("all" if args.long else "ref"))
    ref_label = pythons[0]["label"]
    if args.pythons == "none":
        pythons = []
    other_sizes = set(int(x) for x in args.other_sizes.split(",")) if args.other_sizes else None
    os.makedirs(args.out, exist_ok=True)
    began = time.time()
    args.commit = git_commit()  # the checkout the run began on (it may move while a long run goes on)
    print("recycle benchmarks (%s): %s; CPythons: %s; load average %s" % (
        "quick" if args.quick else "long" if args.long else "standard", time.strftime("%Y-%m-%d %H:%M %Z"),
        ", ".join(p["label"] for p in pythons), " ".join("%.2f" % x for x in os.getloadavg())))
    samples = {}  # (bench, case, n, impl, metric) -> [values]
    dists = {}    # (bench, case, n, impl, dist) -> [values], every run pooled
    runs = []     # one entry per program run: what, when, how long, the load
    failures = []
    expected = []
    for w, case, n, extra in plan(args):
        reps = reps_of(args, w, n)
        rc_cmd = [os.path.join(args.bindir, w["prog"]), case, str(n)] + extra
        sides = [("recycle", rc_cmd, None)]
        for label, venv in variants:
            if args.variant_only and w["name"] not in args.variant_only.split(","):
                continue
            env = dict(os.environ)
            env.update(venv)
            sides.append((label, rc_cmd, env))
        for p in pythons if w["twin"] else []:
            if n > w.get("python_max", n):
                continue
            if p is not pythons[0] and other_sizes is not None and "fixed" not in w and n not in other_sizes:
                continue
            env = dict(os.environ)
            if p["pyenv"]:
                env["PYENV_VERSION"] = p["pyenv"]
            sides.append((p["label"], python_cmd(p["pyenv"]) + [os.path.join(HERE, w["twin"]), case, str(n)] + extra,
                          env))
        if not args.quick and not args.no_peers:
            for peer, cases in sorted(w.get("peers", {}).items()):
                cmd = peer_cmd(peer, args.bindir, w["name"], case, n) if case in cases else None
                # The long sweep runs the peers past the standard run's
                # limit, but not at its largest size: Boehm GC's random
                # graph of 1e8 objects ran over 17 minutes a run here.
                if cmd is not None and (n <= w.get("peer_max", n) or (args.long and n < LONG)):
                    sides.append((peer, cmd, None))
        if args.peers_only:
            sides = [s_ for s_ in sides if s_[0] in PEERS]
            if not sides:
                continue
        for rep in range(reps):
            # Interleaved: each repetition runs every side once, starting
            # with a different one each time.
            k = rep % len(sides)
            for label, cmd, env in sides[k:] + sides[:k]:
                load = loadavg()
                t0 = time.time()
                recs, note = run_one(cmd, env, args.timeout)
                runs.append({"bench": w["name"], "case": case, "n": n, "side": label, "rep": rep + 1,
                             "start": time.strftime("%H:%M:%S", time.gmtime(t0)), "seconds": round(time.time() - t0, 2),
                             "load1": load, "ok": recs is not None})
                sys.stderr.write("  %-7s %-12s %9d %-16s rep %d: %s (load %.2f)\n" % (
                    w["name"], case, n, label, rep + 1, note, load or 0))
                if recs is None:
                    failures.append("%s %s %d %s: %s" % (w["name"], case, n, label, note))
                    continue
                for r in recs:
                    impl = label if r["impl"] in ("python", "recycle") else r["impl"]
                    if r["bench"] != w["name"] or r["case"] != case:
                        continue
                    if "dist" in r:
                        dists.setdefault((r["bench"], r["case"], r["n"], impl, r["dist"]), []).extend(r["values"])
                    else:
                        samples.setdefault((r["bench"], r["case"], r["n"], impl, r["metric"]), []).append(r["value"])
        for label, _, _ in sides:
            for m in w["metrics"][:1]:
                expected.append((w["name"], case, n, label, m))
        save(args, samples, dists, runs, pythons, ref_label, began)  # so far: a run cut short still leaves its results

    if args.merge:
        with open(args.merge) as f:
            earlier = json.load(f)
        for s_ in earlier["samples"]:
            samples.setdefault(tuple(s_[:5]), []).extend(s_[5])
        for s_ in earlier.get("dists", []):
            dists.setdefault(tuple(s_[:5]), []).extend(s_[5])
        runs = earlier.get("runs", []) + runs
        known = set(p["label"] for p in pythons)
        pythons += [p for p in earlier["pythons"] if p["label"] not in known]
    rows, text = save(args, samples, dists, runs, pythons, ref_label, began)
    print(text)
    if args.chart:
        draw_charts(os.path.join(args.out, "results.json"), args.out)
    missing = [e for e in expected if e not in samples]
    for f_ in failures:
        sys.stderr.write("run.py: failed: %s\n" % f_)
    for e in missing:
        sys.stderr.write("run.py: missing: %s\n" % (e,))
    if args.check and (failures or missing):
        sys.exit(1)
    if args.check:
        print("bench_quick: %d runs parsed, every expected metric present" % len(expected))


MATPLOTLIB_HINT = ("run.py: no python3 here has matplotlib, so no plots were drawn; install Debian's package "
                   "(sudo apt-get install python3-matplotlib) and run: /usr/bin/python3 bench/chart.py %s %s")


def draw_charts(results, out):
    """Draws the plots with the first python3 that has matplotlib: this one,
    or Debian's /usr/bin/python3 (python3-matplotlib)."""
    for py in [sys.executable, "/usr/bin/python3"]:
        if not os.path.exists(py):
            continue
        ok = subprocess.run([py, "-c", "import matplotlib"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode == 0
        if ok:
            r = subprocess.run([py, os.path.join(HERE, "chart.py"), results, out])
            if r.returncode != 0:
                sys.stderr.write("run.py: bench/chart.py failed (exit %d)\n" % r.returncode)
            return
    sys.stderr.write(MATPLOTLIB_HINT % (results, out) + "\n")


def load_summary(runs):
    loads = sorted(r["load1"] for r in runs if r.get("load1") is not None)
    if not loads:
        return None
    return {"min": loads[0], "median": median(loads), "max": loads[-1], "runs": len(loads)}


def save(args, samples, dists, runs, pythons, ref_label, began):
    """Writes table.md and results.json; returns the rows and the table."""
    rows = table(samples, pythons, ref_label)
    text = render(rows, pythons, ref_label)
    load = load_summary(runs)
    head = "Run of %s, %s, %.1f minutes; %s; 1-minute load average before each run: %s." % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(began)), "quick" if args.quick else
        "long" if args.long else "standard", (time.time() - began) / 60.0,
        ", ".join("%s: %s" % (k, v) for k, v in sorted(machine_info().items())),
        "-" if load is None else "median %.2f (min %.2f, max %.2f, over %d runs)" % (
            load["median"], load["min"], load["max"], load["runs"]))
    text = head + " CPU time; ratio = recycle / " + ref_label + " on CPU time, wall ratio on wall-clock time.\n\n" + text
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(began)),
                   "minutes": round((time.time() - began) / 60.0, 1),
                   "mode": "quick" if args.quick else "long" if args.long else "standard",
                   "commit": args.commit, "machine": machine_info(), "load": load,
                   "variants": args.variant, "pythons": pythons, "reference": ref_label, "rows": rows,
                   "samples": [list(k) + [v] for k, v in sorted(samples.items(), key=str)],
                   "dists": [list(k) + [v] for k, v in sorted(dists.items(), key=str)],
                   "runs": runs}, f, indent=1)
    return rows, text


def git_commit():
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=HERE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True, timeout=30)
        return out.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def variant_labels(samples, pythons):
    """The sides that are neither recycle, malloc, a peer nor a CPython: the
    --variant runs of recycle, in the order first seen."""
    known = set(["recycle", "malloc"] + PEERS + [p["label"] for p in pythons])
    out = []
    for k in samples:
        if k[3] not in known and k[3] not in out:
            out.append(k[3])
    return sorted(out)


def table(samples, pythons, ref_label):
    rows = []
    variants = variant_labels(samples, pythons)
    keys = sorted(set((b, c, n, m) for (b, c, n, i, m) in samples),
                  key=lambda k: ([w["name"] for w in WORKLOADS].index(k[0]) if k[0] in
                                 [w["name"] for w in WORKLOADS] else 99, k[1], k[2], k[3]))
    for b, c, n, m in keys:
        w = next((w for w in WORKLOADS if w["name"] == b), None)
        if w is None or m not in w["metrics"]:
            continue
        row = {"bench": b, "case": c, "n": n, "metric": m, "impls": {}}
        for impl in ["recycle"] + variants + ["malloc"] + PEERS + [p["label"] for p in pythons]:
            v = samples.get((b, c, n, impl, m))
            if v:
                row["impls"][impl] = {"median": median(v), "spread_pct": spread_pct(v), "runs": len(v)}
        rc = row["impls"].get("recycle")
        ref = row["impls"].get(ref_label)
        row["ratio"] = rc["median"] / ref["median"] if rc and ref and ref["median"] else None
        wm = m if m.startswith("wall_") else "wall_" + m
        wrc, wref = samples.get((b, c, n, "recycle", wm)), samples.get((b, c, n, ref_label, wm))
        row["wall_ratio"] = median(wrc) / median(wref) if wrc and wref and median(wref) else None
        row["variants"] = {}
        for vl in variants:
            vv = row["impls"].get(vl)
            if vv and ref and ref["median"]:
                row["variants"][vl] = vv["median"] / ref["median"]
        mal = row["impls"].get("malloc")
        row["ratio_malloc"] = rc["median"] / mal["median"] if rc and mal and mal["median"] else None
        heap = {}
        for hm in w["heap"]:
            for impl in ("recycle", ref_label):
                v = samples.get((b, c, n, impl, hm))
                if v:
                    heap.setdefault(hm, {})[impl] = median(v)
        row["heap"] = heap
        rows.append(row)
    return rows


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def render(rows, pythons, ref_label):
    others = [p["label"] for p in pythons[1:]]
    variants = sorted(set(v for r in rows for v in r["impls"] if v not in
                          ["recycle", "malloc"] + PEERS + [p["label"] for p in pythons]))
    head = ["workload", "case", "n", "metric", "recycle"] + variants + [ref_label, "ratio", "wall ratio"]
    head += [o.replace("CPython ", "") for o in others] + ["malloc", "rcy/malloc"] + PEERS + ["heap"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        im = r["impls"]

        def cell(impl):
            v = im.get(impl)
            return "-" if v is None else "%s ±%.0f%%" % (fmt(v["median"]), v["spread_pct"])

        heap = []
        for hm, by in sorted(r["heap"].items()):
            heap.append("%s %s" % (hm, "/".join(fmt(by.get(i)) for i in ("recycle", ref_label))))
        cells = [r["bench"], r["case"], "{:,}".format(r["n"]), r["metric"], cell("recycle")]
        cells += [cell(v) for v in variants] + [cell(ref_label), fmt(r["ratio"]), fmt(r.get("wall_ratio"))]
        cells += [fmt(im[o]["median"]) if o in im else "-" for o in others]
        cells += [cell("malloc"), fmt(r["ratio_malloc"])] + [cell(p) for p in PEERS] + ["; ".join(heap)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_info():
    info = {"platform": platform.platform()}
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, universal_newlines=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
            if line.startswith("CPU(s):"):
                info["cpus"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem"] = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            info["thp"] = f.read().strip()
    except OSError:
        pass
    return info


if __name__ == "__main__":
    main()
