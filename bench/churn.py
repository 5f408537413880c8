"""Twin of churn.c: create and drop N objects of one kind, one at a time,
and report the time per object (the median of REPS timed loops).

The time of an empty loop of the same length is subtracted, so that the
figure is the cost of the object (creation and deallocation), not of the
interpreter's loop. Timed on the thread's CPU time (ns_per_object) and on
wall-clock time (wall_ns_per_object), as churn.c.

Usage: python3 churn.py CASE N [REPS]   (CASE: tuple, list, dict, instance or all)
"""
import json
import sys
import time

now = time.perf_counter
cpu = getattr(time, "thread_time", time.process_time)


class C(object):
    pass


def churn_empty(n, x, y):
    for _ in range(n):
        pass


def churn_tuple(n, x, y):
    for _ in range(n):
        t = (x, y)  # noqa: F841


def churn_list(n, x, y):
    for _ in range(n):
        l = [x, y]  # noqa: F841, E741


def churn_dict(n, x, y):
    for _ in range(n):
        d = {'a': x}  # noqa: F841


def churn_instance(n, x, y):
    cls = C
    for _ in range(n):
        o = cls()  # noqa: F841


CASES = [("tuple", churn_tuple), ("list", churn_list), ("dict", churn_dict),
         ("instance", churn_instance)]


def timed(fn, n, x, y):
    """(CPU seconds, wall seconds) of fn(n, x, y)."""
    c0, w0 = cpu(), now()
    fn(n, x, y)
    return cpu() - c0, now() - w0


def median(values):
    v = sorted(values)
    k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: churn.py CASE N [REPS]\n")
        sys.exit(2)
    case, n = sys.argv[1], int(sys.argv[2])
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    x, y = 1000 + len(sys.argv), 2000 + len(sys.argv)  # not constants: built at run time
    matched = False
    for name, fn in CASES:
        if case not in ("all", name):
            continue
        matched = True
        fn(n // 10 + 1, x, y)  # warm up
        ns, wns = [], []
        for _ in range(reps):
            lc, lw = timed(churn_empty, n, x, y)
            c, w = timed(fn, n, x, y)
            ns.append(max(0.0, c - lc) * 1e9 / n)
            wns.append(max(0.0, w - lw) * 1e9 / n)
        for metric, v in (("ns_per_object", ns), ("wall_ns_per_object", wns)):
            print(json.dumps({"bench": "churn", "case": name, "n": n, "impl": "python",
                              "metric": metric, "value": median(v)}))
        sys.stdout.flush()
    if not matched:
        sys.stderr.write("unknown case (tuple, list, dict, instance or all)\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
