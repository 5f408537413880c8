#!/usr/bin/env python3
"""Runs mal's own test file for one step against our interpreter.

Makes mal's layout in a scratch directory (impls/recycle as the working
directory, impls/tests and impls/lib as symlinks to mal's folders), starts
mal's driver there as mal's Makefile does:

    python3 runtest.py --hard --deferrable --optional ../tests/STEP.mal -- run

and then checks that the interpreter, stopped by the driver's SIGTERM, tore
its runtime down with no object left alive (it writes the count of objects
still alive to $MAL_LEAK_REPORT). Exit 0 only when every test passed and
nothing leaked; exit 77 (ctest's skip code) when mal's files are absent.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mal-dir", required=True, help="mal's folder (runtest.py, tests/, lib/)")
    ap.add_argument("--bin-dir", required=True, help="where the step executables are")
    ap.add_argument("--run", required=True, help="clients/mal/run")
    ap.add_argument("--step", required=True, help="e.g. step4_if_fn_do")
    ap.add_argument("--test-timeout", default="120")
    args = ap.parse_args()

    runtest = os.path.join(args.mal_dir, "runtest.py")
    test_file = os.path.join(args.mal_dir, "tests", args.step + ".mal")
    if not os.path.exists(runtest) or not os.path.exists(test_file):
        print("mal's files not found in %s: skipped (set MAL_DIR)" % args.mal_dir)
        return 77

    with tempfile.TemporaryDirectory(prefix="mal-test-") as tmp:
        impls = os.path.join(tmp, "impls")
        work = os.path.join(impls, "recycle")
        os.makedirs(work)
        for name in ("tests", "lib"):
            os.symlink(os.path.abspath(os.path.join(args.mal_dir, name)), os.path.join(impls, name))
        report = os.path.join(tmp, "leak-report")
        env = dict(os.environ, STEP=args.step, MAL_BIN_DIR=os.path.abspath(args.bin_dir),
                   MAL_LEAK_REPORT=report)
        cmd = [sys.executable, os.path.abspath(runtest), "--hard", "--deferrable", "--optional",
               "--start-timeout", args.test_timeout, "--test-timeout", args.test_timeout,
               os.path.join("..", "tests", args.step + ".mal"), "--", os.path.abspath(args.run)]
        rc = subprocess.call(cmd, cwd=work, env=env)
        # The driver stopped the interpreter with SIGTERM and did not wait
        # for it: wait for its teardown report.
        deadline = time.time() + 60
        while not os.path.exists(report) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.05)
        if not os.path.exists(report):
            print("FAIL: the interpreter wrote no teardown report (did it crash?)")
            return 1
        with open(report) as f:
            leaked = int(f.read().strip() or "-1")
        if leaked != 0:
            print("FAIL: %d objects still alive when the interpreter tore its runtime down" % leaked)
            return 1
        print("teardown: no object left alive")
        return rc


if __name__ == "__main__":
    sys.exit(main())
