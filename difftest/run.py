#!/usr/bin/env python3
"""Differential tests: recycle (replay) against CPython (twin.py).

    run.py --replay BUILD/difftest/replay [--python python3 | --all-pythons]
           [-n N] [--seed S] [--steps K] [--quick] [--jobs J]

Generates N programs (gen.py, seeds S..S+N-1, of K operations, or 20 to
150 varying with the seed when K is 0, the default), runs each through the
replayer and through twin.py in every interpreter asked for, and compares
the records line for line. A disagreement is shrunk (lines are removed while
the records still disagree) and the shortest program is printed with both
records. The programs in difftest/regress/ are replayed first, every time.

--quick is what `ctest -R difftest_quick` runs: 300 programs of 60 steps
against python3. --all-pythons finds every CPython of `pyenv versions`
(run as PYENV_VERSION=v python3) plus python3 itself, and skips those that
cannot run the twin (before 3.8).

Per interpreter, what is compared (docs/testing.md explains why):
* 3.8 - 3.11: everything, exactly; 3.8 runs without class R (one
  resurrection kept all the garbage of a collection alive before 3.9).
* 3.12 - 3.13: everything, exactly, with `replay -d`, which emulates
  CPython 3.12's deferred automatic collection (it runs at the next
  eval-breaker check, after the allocation that triggered it was tracked).
* without _testcapi.with_tp_del: programs without legacy finalizers.

--incremental STEP compares recycle with itself instead: N timeless programs
(gen.py --timeless: their outcome cannot depend on when automatic
collections run) through `replay -F` in compat mode and `replay -F -i STEP`
in incremental mode (steps of STEP work units, so that every phase of a pass
is interleaved with the program), each record taken after a final full
collection: finalizer and legacy-finalizer runs, live objects, garbage,
survivors (all sorted) and the roots. No CPython is needed.
Exit status: 0 all agree, 1 a disagreement, 77 no usable python3.
"""
import argparse
import concurrent.futures
import difflib
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import gen  # noqa: E402

TWIN = os.path.join(HERE, "twin.py")
REGRESS = os.path.join(HERE, "regress")


class Interp:
    def __init__(self, name, exe, caps):
        self.name = name
        self.exe = exe
        self.caps = caps

    @property
    def label(self):
        return "CPython %s (%s)" % (self.caps["version"], self.name)

    def notes(self):
        c = self.caps
        out = []
        if c["deferred"]:
            out.append("automatic collections deferred to the eval breaker: replay -d")
        if not c["legacy"]:
            out.append("no _testcapi.with_tp_del: programs without legacy finalizers (L, M, N)")
        if not c["partial_resurrection"]:
            out.append("before 3.9 a resurrection revives all the garbage: programs without class R")
        if c["deferred"]:
            out.append("programs without class G, whose finalizer allocates")
        if c["deferred"] or c.get("method_freelist", False):
            out.append("no bound-method callbacks (weak R V 3)%s" % (
                "" if c["deferred"] else ": before 3.9 dead bound methods go to a free list, without leaving count0"))
        return out


def probe(name, exe):
    try:
        p = subprocess.run([exe, TWIN, "--caps"], capture_output=True, text=True, timeout=60)
        caps = json.loads(p.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    if p.returncode != 0 or not caps.get("supported"):
        return None
    return Interp(name, exe, caps)


def pyenv_python3(version):
    """The python3 of a pyenv version, as an absolute path (a pyenv shim
    cannot be used from a process pyenv started: its PATH leads to the
    running version)."""
    env = dict(os.environ)
    env["PYENV_VERSION"] = version
    # Drop the directories `pyenv exec` put in front of PATH for the running
    # version, or "system" would resolve to it.
    root = os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")), "versions")
    env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep)
                                  if not os.path.realpath(d).startswith(os.path.realpath(root) + os.sep))
    try:
        p = subprocess.run(["pyenv", "which", "python3"], env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = p.stdout.strip()
    return path if p.returncode == 0 and path else None


def find_interpreters(all_pythons, python):
    if not all_pythons:
        exe = shutil.which(python) if python == "python3" else pyenv_python3(python)
        i = probe(python, exe) if exe else None
        return [i] if i else []
    found = []
    seen = set()
    candidates = [("python3", shutil.which("python3"))]
    if shutil.which("pyenv"):
        p = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True)
        for v in ["system"] + p.stdout.split():
            candidates.append((v, pyenv_python3(v)))
    for name, exe in candidates:
        if not exe:
            continue
        i = probe(name, exe)
        if i is None:
            continue
        key = (i.caps["version"], i.caps["implementation"], os.path.realpath(exe))
        if any(k[0] == key[0] for k in seen):
            continue
        seen.add(key)
        found.append(i)
    return found


def run_replay(replay, prog, deferred):
    args = [replay] + (["-d"] if deferred else [])
    p = subprocess.run(args, input=prog, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def run_twin(interp, prog):
    p = subprocess.run([interp.exe, TWIN], input=prog, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def compare(replay, interp, prog):
    """None when both sides agree, else (recycle record, CPython record)."""
    rc1, out1, err1 = run_replay(replay, prog, interp.caps["deferred"])
    rc2, out2, err2 = run_twin(interp, prog)
    if rc1 != 0:
        out1 += "\n[replay exited with %d]\n%s" % (rc1, err1)
    if rc2 != 0:
        out2 += "\n[twin exited with %d]\n%s" % (rc2, err2)
    if rc1 == 0 and rc2 == 0 and out1 == out2:
        return None
    return out1, out2


def compare_modes(replay, step, prog):
    """--incremental: None when compat and incremental mode agree."""
    outs = []
    for extra in ([], ["-i", str(step)]):
        p = subprocess.run([replay, "-F"] + extra, input=prog, capture_output=True, text=True, timeout=120)
        out = p.stdout
        if p.returncode != 0:
            out += "\n[replay %s exited with %d]\n%s" % (" ".join(extra), p.returncode, p.stderr)
        outs.append((p.returncode, out))
    if outs[0][0] == 0 and outs[1][0] == 0 and outs[0][1] == outs[1][1]:
        return None
    return outs[0][1], outs[1][1]


def program_lines(prog):
    return [l for l in prog.splitlines() if l.strip() and not l.lstrip().startswith("#")]


def shrink(replay, interp, prog, budget=400, cmp=None):
    """Delta debugging over the program's lines: removes chunks, then single
    lines, as long as the two records still disagree."""
    lines = program_lines(prog)
    runs = 0
    if cmp is None:
        def cmp(p):
            return compare(replay, interp, p)

    def fails(ls):
        nonlocal runs
        runs += 1
        return cmp("\n".join(ls) + "\n") is not None

    n = 2
    while len(lines) >= 2 and runs < budget:
        chunk = max(1, len(lines) // n)
        removed = False
        start = 0
        while start < len(lines) and runs < budget:
            cand = lines[:start] + lines[start + chunk:]
            if cand and fails(cand):
                lines = cand
                n = max(n - 1, 2)
                removed = True
            else:
                start += chunk
        if not removed:
            if chunk == 1:
                break
            n = min(n * 2, len(lines))
    return "\n".join(lines) + "\n"


def first_difference(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for i in range(min(len(la), len(lb))):
        if la[i] != lb[i]:
            return i
    return min(len(la), len(lb))


def report(interp, prog, rec, cpy, title):
    print("=" * 72)
    print("DISAGREEMENT with %s: %s" % (interp.label, title))
    for n in interp.notes():
        print("  (%s)" % n)
    print("--- shortest program (%d lines) ---" % len(program_lines(prog)))
    print(prog, end="")
    print("--- recycle (replay%s) ---" % (" -d" if interp.caps["deferred"] else ""))
    print(rec, end="" if rec.endswith("\n") else "\n")
    print("--- CPython %s (twin.py) ---" % interp.caps["version"])
    print(cpy, end="" if cpy.endswith("\n") else "\n")
    print("--- diff (recycle -> CPython) ---")
    sys.stdout.writelines(difflib.unified_diff(rec.splitlines(True), cpy.splitlines(True), "recycle",
                                               "cpython", n=2))
    print("=" * 72)
    sys.stdout.flush()


def check_expected(replay):
    """Replays every regress/NAME.txt that has a NAME.expected (the record
    of CPython 3.11, stored) and compares: this needs no Python of the right
    version. Returns True on a disagreement."""
    failed = False
    if not os.path.isdir(REGRESS):
        return False
    names = sorted(fn[:-4] for fn in os.listdir(REGRESS) if fn.endswith(".txt"))
    checked = 0
    for name in names:
        exp_path = os.path.join(REGRESS, name + ".expected")
        if not os.path.exists(exp_path):
            continue
        with open(os.path.join(REGRESS, name + ".txt")) as f:
            prog = f.read()
        with open(exp_path) as f:
            expected = f.read()
        rc, out, err = run_replay(replay, prog, False)
        checked += 1
        if rc != 0 or out != expected:
            failed = True
            print("=" * 72)
            print("REGRESSION regress/%s.txt: recycle's record differs from the stored CPython record" % name)
            print(prog, end="")
            if rc != 0:
                print("[replay exited with %d]\n%s" % (rc, err))
            sys.stdout.writelines(difflib.unified_diff(out.splitlines(True), expected.splitlines(True),
                                                       "recycle", "expected (CPython 3.11)", n=2))
            print("=" * 72)
    print("regress: %d stored records checked%s" % (checked, ", DISAGREEMENTS" if failed else ", all agree"))
    sys.stdout.flush()
    return failed


def uses_legacy(prog):
    for l in program_lines(prog):
        w = l.split()
        if w[0] == "new" and len(w) == 3 and w[2] in ("6", "7", "8"):
            return True
    return False


def uses_class(prog, k):
    return any(l.split()[:1] == ["new"] and l.split()[2:3] == [str(k)] for l in program_lines(prog))


def uses_resurrect(prog):
    return uses_class(prog, 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replay", required=True, help="the replay binary of a build")
    ap.add_argument("--python", default="python3", help="python3, or a pyenv version")
    ap.add_argument("--all-pythons", action="store_true")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0,
                    help="operations per program; 0 (the default): 20 to 150, varying with the seed")
    ap.add_argument("--quick", action="store_true", help="the ctest: 300 programs, python3")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--max-failures", type=int, default=3,
                    help="stop shrinking and reporting after this many disagreements per interpreter")
    ap.add_argument("--incremental", type=int, default=0, metavar="STEP",
                    help="compare compat and incremental mode (steps of STEP units) on timeless programs")
    a = ap.parse_args()
    if a.quick:
        a.n, a.seed, a.steps = 300, 1, 60
    if a.incremental:
        return main_incremental(a)

    t_start = time.time()
    failed = check_expected(a.replay)
    interps = find_interpreters(a.all_pythons, a.python)
    if not interps:
        print("run.py: no CPython that can run twin.py (3.8+) was found: "
              "only the regression programs' stored records were checked")
        return 1 if failed else 77
    for interp in interps:
        legacy = interp.caps["legacy"]
        resurrect = interp.caps["partial_resurrection"]
        print("%s: %s" % (interp.label, "; ".join(interp.notes()) or "everything compared exactly"))
        sys.stdout.flush()
        progs = []
        if os.path.isdir(REGRESS):
            for fn in sorted(os.listdir(REGRESS)):
                if fn.endswith(".txt"):
                    with open(os.path.join(REGRESS, fn)) as f:
                        text = f.read()
                    if ((uses_legacy(text) and not legacy) or (uses_resurrect(text) and not resurrect)
                            or (uses_class(text, 9) and interp.caps["deferred"])):
                        print("  regress/%s: skipped (needs what %s lacks)" % (fn, interp.label))
                        continue
                    progs.append(("regress/" + fn, text))
        for s in range(a.seed, a.seed + a.n):
            steps = a.steps or 20 + (s * 7919) % 131
            # Bound-method callbacks (weak R V 3) only where collections are
            # not deferred: 3.12+ lists a collection's survivors in another
            # order than the replayer after one (docs/testing.md); nor
            # before 3.9, whose free list of bound methods counts them
            # differently.
            bound = not interp.caps["deferred"] and not interp.caps.get("method_freelist", False)
            progs.append(("seed %d" % s, gen.generate(s, steps, legacy, resurrect, not interp.caps["deferred"],
                                                      bound=bound)))
        failures = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            futs = [(name, prog, ex.submit(compare, a.replay, interp, prog)) for name, prog in progs]
            for name, prog, fut in futs:
                if fut.result() is not None:
                    failures.append((name, prog))
        print("  %d programs, %d disagreements%s" % (len(progs), len(failures), (": " + ", ".join(
            n for n, _ in failures[:20]) + (" ..." if len(failures) > 20 else "")) if failures else ""))
        sys.stdout.flush()
        for name, prog in failures[:a.max_failures]:
            small = shrink(a.replay, interp, prog)
            res = compare(a.replay, interp, small)
            if res is None:  # cannot happen unless the runs are not deterministic
                small, res = prog, compare(a.replay, interp, prog)
            rec, cpy = res
            report(interp, small, rec, cpy, "%s, shrunk from %d to %d lines" %
                   (name, len(program_lines(prog)), len(program_lines(small))))
        if failures:
            failed = True
    print("run.py: %s in %.1fs" % ("DISAGREEMENTS" if failed else "all records agree", time.time() - t_start))
    return 1 if failed else 0


def main_incremental(a):
    t_start = time.time()
    step = a.incremental
    progs = []
    for s in range(a.seed, a.seed + a.n):
        steps = a.steps or 300 + (s * 7919) % 1201
        progs.append(("seed %d" % s, gen.generate(s, steps, timeless=True)))

    def cmp(p):
        return compare_modes(a.replay, step, p)

    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futs = [(name, prog, ex.submit(cmp, prog)) for name, prog in progs]
        for name, prog, fut in futs:
            if fut.result() is not None:
                failures.append((name, prog))
    print("incremental (steps of %d units) against compat: %d timeless programs, %d disagreements%s" % (
        step, len(progs), len(failures), (": " + ", ".join(n for n, _ in failures[:20])) if failures else ""))
    sys.stdout.flush()
    for name, prog in failures[:a.max_failures]:
        small = shrink(a.replay, None, prog, cmp=cmp)
        res = cmp(small) or cmp(prog)
        if res is None:
            continue
        rec, inc = res
        print("=" * 72)
        print("DISAGREEMENT compat / incremental: %s, shrunk from %d to %d lines" % (
            name, len(program_lines(prog)), len(program_lines(small))))
        print(small, end="")
        sys.stdout.writelines(difflib.unified_diff(rec.splitlines(True), inc.splitlines(True), "compat",
                                                   "incremental", n=2))
        print("=" * 72)
    print("run.py: %s in %.1fs" % ("DISAGREEMENTS" if failures else "all records agree", time.time() - t_start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
