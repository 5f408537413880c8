#!/usr/bin/env python3
"""Runs the allocation-churn benchmark on both sides -- bench/churn (recycle)
and churn.py (CPython) -- several times, interleaved so that both see the same
machine conditions, and prints the median time per object of each side and
the ratio recycle / CPython per type (below 1: recycle is faster).

Usage: run_churn.py [--build DIR] [--n N] [--runs R] [--python PY]
  --build   the CMake build directory holding bench/churn (build/release)
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ["tuple", "list", "dict", "instance"]


def run(cmd, impl):
    """The ns_per_object values of impl ("recycle" or "python") by case; other
    lines (a baseline the program may print) are skipped."""
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    values = {}
    for line in out.splitlines():
        rec = json.loads(line)
        if rec.get("impl") == impl and rec.get("metric") == "ns_per_object":
            values[rec["case"]] = rec["value"]
    return values


def median(v):
    v = sorted(v)
    k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    exe = os.path.join(args.build, "bench", "churn")
    if not os.path.exists(exe):
        sys.exit("run_churn: %s not found (build the release tree first: make all)" % exe)
    c_cmd = [exe, "all", str(args.n), "3"]
    py_cmd = [args.python, os.path.join(HERE, "churn.py"), "all", str(args.n), "3"]
    results = {"recycle": {c: [] for c in CASES}, "cpython": {c: [] for c in CASES}}
    for r in range(args.runs):
        # Alternate which side goes first, so neither always runs on a warmer machine.
        order = [("recycle", c_cmd, "recycle"), ("cpython", py_cmd, "python")]
        if r % 2:
            order.reverse()
        for side, cmd, impl in order:
            for case, value in run(cmd, impl).items():
                results[side][case].append(value)
    version = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    print("allocation churn: create and drop one object at a time, N = %d, %d interleaved runs"
          % (args.n, args.runs))
    print("medians in ns per object; CPython %s with its empty-loop time subtracted" % version)
    print("%-10s %12s %12s %16s" % ("type", "recycle", "CPython", "recycle/CPython"))
    for case in CASES:
        rc = median(results["recycle"][case])
        py = median(results["cpython"][case])
        ratio = rc / py if py > 0 else float("inf")
        print("%-10s %12.1f %12.1f %16.2f" % (case, rc, py, ratio))


if __name__ == "__main__":
    main()
