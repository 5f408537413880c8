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

One known race is retried: stepA's `(> (time-ms) start-time)` fails when
the interpreter answers two REPL lines within one millisecond (the
readings are equal). When that is the run's only failure, the step runs
again (twice at most), and the last run decides.
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
    if not os.path.exists(runtest) or not os.path.exists(os.path.join(args.mal_dir, "tests", args.step + ".mal")):
        print("mal's files not found in %s: skipped (set MAL_DIR)" % args.mal_dir)
        return 77

    rc, output = run_once(args, runtest)
    for _ in range(TIME_MS_RETRIES):
        if rc == 0 or not only_time_ms_race(output):
            break
        # mal's stepA compares two time-ms readings a REPL round trip
        # apart; an interpreter that answers within the same millisecond
        # fails it by chance, and the driver skips every test after a
        # failure. Run the step again: the last run decides.
        print("\nrun_step_test: the only failure is stepA's time-ms comparison (two readings within one "
              "millisecond): the step runs again")
        rc, output = run_once(args, runtest)
    return rc


# The test of mal's stepA that a fast interpreter fails by chance:
#   (def! start-time (time-ms)) ... (sumdown 10) ... (> (time-ms) start-time) ;=>true
TIME_MS_RACE = "(> (time-ms) start-time)"
TIME_MS_RETRIES = 2  # one run in 5-6 meets the race here: three in a row, one in 150-200


def only_time_ms_race(output):
    """Whether the driver's output reports exactly one failed test, and that
    one is the time-ms comparison (its teardown checked and clean)."""
    failed = [line for line in output.splitlines() if line.startswith("FAILED TEST (line ")]
    return (len(failed) == 1 and TIME_MS_RACE in failed[0]
            and "teardown: no object left alive" in output)


def run_once(args, runtest):
    """One run of the step's tests through mal's driver, then the teardown
    check. Returns (exit status, everything printed), having printed it."""
    out = []

    def say(text):
        print(text)
        out.append(text)

    test_file = os.path.join("..", "tests", args.step + ".mal")
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
               test_file, "--", os.path.abspath(args.run)]
        proc = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              errors="replace")
        say(proc.stdout.rstrip("\n"))
        rc = proc.returncode
        # The driver stopped the interpreter with SIGTERM and did not wait
        # for it: wait for its teardown report.
        deadline = time.time() + 60
        while not os.path.exists(report) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.05)
        if not os.path.exists(report):
            say("FAIL: the interpreter wrote no teardown report (did it crash?)")
            return 1, "\n".join(out)
        with open(report) as f:
            leaked = int(f.read().strip() or "-1")
        if leaked != 0:
            say("FAIL: %d objects still alive when the interpreter tore its runtime down" % leaked)
            return 1, "\n".join(out)
        say("teardown: no object left alive")
        return rc, "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
