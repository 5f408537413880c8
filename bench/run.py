#!/usr/bin/env python3
"""Runs the benchmarks side by side: every C program of bench/ (recycle) and
its Python twin under every CPython found on the machine, several times,
interleaved, and prints a table of medians, spreads, the ratio
recycle / CPython and the heap size. Python standard library only.

    python3 bench/run.py --bindir BUILD/release/bench [options]

  --quick           the smallest sizes once, the default python3 only: proves
                    that the harness works (CI), never judges speed
  --check           exit 1 unless every run printed every expected metric
  --reps R          interleaved repetitions (default 5, 3 for sizes >= 5M)
  --only W[,W]      workloads: fullgc, cycles, pyperf, pauses, churn, memory
  --sizes N[,N]     override the sizes of the sized workloads
  --pythons SPEC    "ref" (python3 only), "all" (python3 and every CPython 3
                    that `pyenv versions` lists), or a comma list of versions
  --other-sizes N   run the non-reference CPythons only at these sizes
  --out DIR         where results.json, table.md and ratios.png go
  --chart           draw ratios.png (bench/chart.py)
  --peers-only      run only the peers (to --merge with an earlier run)
  --merge FILE      add the samples of an earlier results.json to the table
  --no-peers        leave out the peers (Boehm GC when bench/peers/boehm.c was
                    built against libgc-dev, PHP when php is installed); the
                    quick mode always does

Each program prints JSON lines {"bench", "case", "n", "impl", "metric",
"value"}; a program's "impl" is "recycle" (or "malloc" for the plain
malloc + free baseline of the churn program) and a twin's "python".
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

# name: program, twin, cases, sizes, the headline metrics (lower is better),
# and the metrics that describe the heap.
WORKLOADS = [
    {"name": "fullgc", "prog": "bench_fullgc", "twin": "bench_fullgc.py",
     "cases": ["tree", "listtree", "graph"], "sizes": SIZES,
     "metrics": ["ns_per_obj"], "heap": ["tracked", "uss_mb"], "peers": {"boehm": ["tree", "graph"]}},
    {"name": "cycles", "prog": "bench_cycles", "twin": "bench_cycles.py",
     "cases": ["pair", "ring10"], "sizes": SIZES,
     "metrics": ["ns_per_freed"], "heap": ["uss_mb"], "peers": {"php": ["pair", "ring10"]}},
    {"name": "pyperf", "prog": "bench_pyperf", "twin": "bench_pyperf.py",
     "cases": ["gc_collect", "gc_traversal"], "fixed": {"gc_collect": 2100, "gc_traversal": 1000},
     "metrics": ["us_per_collect"], "heap": []},
    {"name": "pauses", "prog": "bench_pauses", "twin": "bench_pauses.py",
     "cases": ["tree"], "sizes": [100000, 1000000, 5000000],
     "metrics": ["gen0_median_us", "gen0_p99_us", "gen1_median_us", "gen1_p99_us",
                 "gen2_median_us", "gen2_p99_us", "gen2_max_us", "gc_share_pct",
                 "gen0_cpu_median_us", "gen0_cpu_p99_us", "gen1_cpu_median_us", "gen1_cpu_p99_us",
                 "gen2_cpu_median_us", "gen2_cpu_p99_us"],
     "heap": ["gen0_count", "gen1_count", "gen2_count", "wall_s"]},
    {"name": "churn", "prog": "churn", "twin": "churn.py",
     "cases": ["tuple", "list", "dict", "instance"], "sizes": SIZES,
     "metrics": ["ns_per_object"], "heap": [], "peers": {"boehm": ["instance"], "php": ["instance"]}},
    {"name": "memory", "prog": "bench_memory", "twin": "bench_memory.py",
     "cases": ["node", "list", "dict"], "sizes": SIZES,
     "metrics": ["bytes_per_obj"], "heap": [], "peers": {"boehm": ["node"], "php": ["node"]}},
]
QUICK_PAUSE_ITERATIONS = 100000
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
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    todo = []
    for w in WORKLOADS:
        if only is not None and w["name"] not in only:
            continue
        for case in w["cases"]:
            if "fixed" in w:
                ns = [w["fixed"][case]]
            elif args.quick:
                ns = [min(w["sizes"])]
            else:
                ns = sizes or w["sizes"]
            for n in ns:
                extra = []
                if w["name"] == "pauses" and args.quick:
                    extra = [str(QUICK_PAUSE_ITERATIONS)]
                elif w["name"] == "pyperf" and args.quick:
                    extra = ["3"]
                elif w["name"] in ("fullgc", "cycles") and n >= 5000000:
                    extra = ["3"]  # in-process repetitions: each builds a big heap
                todo.append((w, case, n, extra))
    return todo


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bindir", default=os.path.join("build", "release", "bench"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--only", default="")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--pythons", default="")
    ap.add_argument("--other-sizes", default="")
    ap.add_argument("--out", default=os.path.join("build", "bench-results"))
    ap.add_argument("--chart", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--peers-only", action="store_true")
    ap.add_argument("--merge", default="", help="add the samples of an earlier results.json")
    ap.add_argument("--timeout", type=int, default=3600)
    args = ap.parse_args()
    args.bindir = os.path.abspath(args.bindir)  # the programs run in bench/

    pythons = find_pythons(args.pythons or ("ref" if args.quick else "all"))
    ref_label = pythons[0]["label"]
    other_sizes = set(int(s) for s in args.other_sizes.split(",")) if args.other_sizes else None
    os.makedirs(args.out, exist_ok=True)
    print("recycle benchmarks: %s; CPythons: %s" % (time.strftime("%Y-%m-%d %H:%M %Z"),
                                                     ", ".join(p["label"] for p in pythons)))
    samples = {}  # (bench, case, n, impl, metric) -> [values]
    failures = []
    expected = []
    for w, case, n, extra in plan(args):
        reps = args.reps or (1 if args.quick else (3 if n >= 5000000 else 5))
        sides = [("recycle", [os.path.join(args.bindir, w["prog"]), case, str(n)] + extra, None)]
        for p in pythons:
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
                if cmd is not None:
                    sides.append((peer, cmd, None))
        if args.peers_only:
            sides = [s for s in sides if s[0] in PEERS]
            if not sides:
                continue
        for rep in range(reps):
            # Interleaved: each repetition runs every side once, starting
            # with a different one each time.
            k = rep % len(sides)
            for label, cmd, env in sides[k:] + sides[:k]:
                recs, note = run_one(cmd, env, args.timeout)
                sys.stderr.write("  %-7s %-12s %9d %-16s rep %d: %s\n" % (w["name"], case, n, label, rep + 1,
                                                                          note))
                if recs is None:
                    failures.append("%s %s %d %s: %s" % (w["name"], case, n, label, note))
                    continue
                for r in recs:
                    impl = label if r["impl"] == "python" else r["impl"]
                    if r["bench"] != w["name"] or r["case"] != case:
                        continue
                    samples.setdefault((r["bench"], r["case"], r["n"], impl, r["metric"]), []).append(r["value"])
        for label, _, _ in sides:
            for m in w["metrics"][:1]:
                expected.append((w["name"], case, n, label, m))
        save(args, samples, pythons, ref_label)  # so far: a run cut short still leaves its results

    if args.merge:
        with open(args.merge) as f:
            earlier = json.load(f)
        for s in earlier["samples"]:
            samples.setdefault(tuple(s[:5]), []).extend(s[5])
        known = set(p["label"] for p in pythons)
        pythons += [p for p in earlier["pythons"] if p["label"] not in known]
    rows, text = save(args, samples, pythons, ref_label)
    print(text)
    if args.chart:
        sys.path.insert(0, HERE)
        import chart
        chart.draw(rows, ref_label, os.path.join(args.out, "ratios.png"))
    missing = [e for e in expected if e not in samples]
    for f_ in failures:
        sys.stderr.write("run.py: failed: %s\n" % f_)
    for e in missing:
        sys.stderr.write("run.py: missing: %s\n" % (e,))
    if args.check and (failures or missing):
        sys.exit(1)
    if args.check:
        print("bench_quick: %d runs parsed, every expected metric present" % len(expected))


def save(args, samples, pythons, ref_label):
    """Writes table.md and results.json; returns the rows and the table."""
    rows = table(samples, pythons, ref_label)
    text = render(rows, pythons, ref_label)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine_info(),
                   "pythons": pythons, "reference": ref_label, "rows": rows,
                   "samples": [list(k) + [v] for k, v in sorted(samples.items(), key=str)]}, f, indent=1)
    return rows, text


def table(samples, pythons, ref_label):
    rows = []
    keys = sorted(set((b, c, n, m) for (b, c, n, i, m) in samples),
                  key=lambda k: ([w["name"] for w in WORKLOADS].index(k[0]) if k[0] in
                                 [w["name"] for w in WORKLOADS] else 99, k[1], k[2], k[3]))
    for b, c, n, m in keys:
        w = next((w for w in WORKLOADS if w["name"] == b), None)
        if w is None or m not in w["metrics"]:
            continue
        row = {"bench": b, "case": c, "n": n, "metric": m, "impls": {}}
        for impl in ["recycle", "malloc"] + PEERS + [p["label"] for p in pythons]:
            v = samples.get((b, c, n, impl, m))
            if v:
                row["impls"][impl] = {"median": median(v), "spread_pct": spread_pct(v), "runs": len(v)}
        rc = row["impls"].get("recycle")
        ref = row["impls"].get(ref_label)
        row["ratio"] = rc["median"] / ref["median"] if rc and ref and ref["median"] else None
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
    head = ["workload", "case", "n", "metric", "recycle", ref_label, "ratio"]
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
        cells = [r["bench"], r["case"], "{:,}".format(r["n"]), r["metric"], cell("recycle"), cell(ref_label),
                 fmt(r["ratio"])]
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
    return info


if __name__ == "__main__":
    main()
