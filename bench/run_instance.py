#!/usr/bin/env python3
"""Runs the compact-instance benchmark on both sides -- bench/bench_instance
(recycle) and bench_instance.py (CPython) -- several times, interleaved
case by case (each case on both sides back to back, the side that starts
alternating from run to run) so that both see the same machine conditions, and prints the medians and the
ratios recycle / CPython (below 1: recycle is smaller or faster), with the
load average before and after.

Usage: run_instance.py [--build DIR] [--n N] [--mem-n N] [--runs R] [--python PY]
  --build   the CMake build directory holding bench/bench_instance (build/release)

Times are thread CPU time. Both sides run the same program: a loop over
1,000 instances doing the attribute operation. recycle's loop costs about
nothing beside the call; CPython's (FOR_ITER, STORE_FAST) costs as much as
the operation, so CPython's times are given twice: the statement (the
operation with its loop, what a Python program pays for `o.x = v`) and the
operation alone (the same loop without the operation subtracted, as
churn.py reports). The goal is judged against the statement; the table
gives both ratios.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# (recycle call, its case, the CPython code it is compared with, that case)
ROWS = [
    ('rcy_setattr(o, "x", v)', "setattr", "o.x = v", "setattr"),
    ("rcy_setattr_str(o, x, v)", "setattr_str", "o.x = v", "setattr"),
    ('rcy_getattr(o, "x")', "getattr", "o.x", "getattr"),
    ("rcy_getattr_str(o, x)", "getattr_str", "o.x", "getattr"),
    ('rcy_getattr_ref(o, "x", &r); rcy_decref(r)', "getattr_ref", "o.x", "getattr_ref"),
    ('rcy_setattr(o, "y", m), m mortal', "setattr_mortal", "o.y = m", "setattr_mortal"),
    ("rcy_setattr_str(o, x, v)", "setattr_str", "setattr(o, name, v)", "setattr_str"),
    ("rcy_getattr_str(o, x)", "getattr_str", "getattr(o, name)", "getattr_str"),
]


def run(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def median(v):
    v = sorted(v)
    k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--n", type=int, default=2000000)
    ap.add_argument("--mem-n", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    exe = os.path.join(args.build, "bench", "bench_instance")
    if not os.path.exists(exe):
        sys.exit("run_instance: %s not found (build the release tree first)" % exe)
    py = os.path.join(HERE, "bench_instance.py")
    cases = []
    for _, case, _, pycase in ROWS:
        for c in (case, pycase):
            if c not in cases:
                cases.append(c)
    res = {"recycle": {}, "cpython": {}}

    def record(side, cmd, tag=""):
        for rec in run(cmd):
            key = (rec["case"] + tag if rec["case"] == "loop" else rec["case"], rec["metric"])
            res[side].setdefault(key, []).append(rec["value"])

    load_before = loadavg()
    # Each case on both sides back to back (the order alternating), so that
    # the two figures of a ratio see the same moment of a shared machine;
    # CPython's loop is timed in the same process as each of its cases.
    for r in range(args.runs):
        first = r % 2 == 0
        pair = [("recycle", [exe, "memory", str(args.mem_n)]),
                ("cpython", [args.python, py, "memory", str(args.mem_n)])]
        for side, cmd in (pair if first else pair[::-1]):
            record(side, cmd)
        for case in cases:
            pair = [("recycle", [exe, case, str(args.n), "5"]),
                    ("cpython", [args.python, py, case, str(args.n), "5"])]
            for side, cmd in (pair if first else pair[::-1]):
                record(side, cmd, "@" + case)
    load_after = loadavg()
    version = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    m = lambda side, case, metric: median(res[side].get((case, metric), [float("nan")]))
    print("compact instances: %d interleaved runs on %s (%s), CPython %s; load average %s before, %s after"
          % (args.runs, platform.node(), platform.machine(), version, load_before, load_after))
    rc_mem, py_mem = m("recycle", "memory", "bytes_per_obj"), m("cpython", "memory", "bytes_per_obj")
    print("memory per instance with 2 attributes (USS, N = %d): recycle %.1f B, CPython %.1f B, ratio %.2f; "
          "census: %d dicts, %d strs" % (args.mem_n, rc_mem, py_mem, rc_mem / py_mem,
                                         m("recycle", "memory", "census_dicts"), m("recycle", "memory", "census_strs")))
    loop = m("cpython", "loop@setattr", "ns_per_op")
    print("times in ns per operation (N = %d, medians over the runs); CPython's loop alone "
          "(`for o in objs: pass`, timed beside each case): %.2f ns beside o.x = v" % (args.n, loop))
    print("goal (issue 14): each recycle call at most 0.5 x CPython's statement (operation + its loop)")
    print("%-44s %8s  %-22s %8s %9s %9s %9s" % ("recycle", "ns", "CPython 3.11", "op ns", "stmt ns",
                                               "ratio op", "ratio stmt"))
    for label, case, pylabel, pycase in ROWS:
        rc = m("recycle", case, "ns_per_op")
        op = m("cpython", pycase, "ns_per_op")
        full = op + m("cpython", "loop@" + pycase, "ns_per_op")
        print("%-44s %8.2f  %-22s %8.2f %9.2f %9.2f %9.2f" % (label, rc, pylabel, op, full,
                                                            rc / op if op > 0 else float("inf"), rc / full))

if __name__ == "__main__":
    main()
