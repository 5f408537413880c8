"""Shared helpers of the Python twins of the benchmark programs (stdlib only,
Python 3.6+). Each twin prints the same JSON lines as its C program:
{"bench": ..., "case": ..., "n": ..., "impl": "python", "metric": ..., "value": ...}
A timed metric is measured on the thread's CPU time (time.thread_time, the
twin of CLOCK_THREAD_CPUTIME_ID; 3.6 falls back to process time) and beside
it on wall-clock time (the same name prefixed "wall_"), as bench.h does.
"""
import json
import sys
import time

now = time.perf_counter
cpu = getattr(time, "thread_time", time.process_time)


class Timer(object):
    """Both clocks: t = Timer(); ...; t.stop() -> (cpu seconds, wall seconds)."""

    def __init__(self):
        self.c = cpu()
        self.w = now()

    def stop(self):
        return cpu() - self.c, now() - self.w

MASK = (1 << 64) - 1


class Node(object):
    """The 2-slot container: one tracked object, like bench.h's bnode_t."""
    __slots__ = ('a', 'b')

    def __init__(self):
        self.a = None
        self.b = None


class Rng(object):
    """The LCG of bench.h: x = x * A + C (mod 2**64), index = (x >> 33) % n."""

    def __init__(self, seed=1):
        self.x = seed

    def below(self, n):
        self.x = (self.x * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.x >> 33) % n


def emit(bench, case, n, metric, value):
    sys.stdout.write(json.dumps({"bench": bench, "case": case, "n": n, "impl": "python",
                                 "metric": metric, "value": value}) + "\n")
    sys.stdout.flush()


def emit_times(bench, case, n, metric, cpu_value, wall_value):
    emit(bench, case, n, metric, cpu_value)
    emit(bench, case, n, "wall_" + metric, wall_value)


def emit_dist(bench, case, n, dist, values):
    sys.stdout.write(json.dumps({"bench": bench, "case": case, "n": n, "impl": "python", "dist": dist,
                                 "values": [float("%.4g" % v) for v in values]}) + "\n")
    sys.stdout.flush()


def uss():
    """Unique set size in bytes (Private_Clean + Private_Dirty), as psutil."""
    total = 0
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Clean:") or line.startswith("Private_Dirty:"):
                    total += int(line.split()[1]) * 1024
    except OSError:
        return 0.0
    return float(total)


def rss():
    """Resident set size in bytes (VmRSS)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return float(int(line.split()[1]) * 1024)
    except OSError:
        pass
    return 0.0


def median(values):
    v = sorted(values)
    k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0


def args(default_reps):
    if len(sys.argv) < 3:
        sys.stderr.write("usage: %s CASE N [REPS]\n" % sys.argv[0])
        sys.exit(2)
    case = sys.argv[1]
    n = int(sys.argv[2])
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else default_reps
    return case, n, reps
