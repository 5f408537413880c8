"""Workload 3, Python twin of bench_pyperf.c: pyperformance's gc_collect and
gc_traversal parameters (100 cycles of 21 nodes; 1,000 levels of lists),
timed the same way (one full collection per repetition).

    python3 bench_pyperf.py gc_collect 2100 [REPS]
    python3 bench_pyperf.py gc_traversal 1000 [REPS]
"""
import gc

from bench_common import Timer, args, emit_times, median

CYCLES = 100
LINKS = 20
N_LEVELS = 1000


class Node(object):
    # A plain class, as in pyperformance (one tracked object per instance).
    def __init__(self):
        self.next = None
        self.prev = None


def link_next(cur, nxt):
    cur.next = nxt
    nxt.prev = cur


def create_gc_cycles():
    cycles = []
    for _ in range(CYCLES):
        first = Node()
        cycles.append(first)
        cur = first
        for _ in range(LINKS):
            nxt = Node()
            link_next(cur, nxt)
            cur = nxt
        link_next(cur, first)
    return cycles


def create_recursive_containers():
    current = []
    for k in range(N_LEVELS):
        nxt = []
        for _ in range(k):
            nxt.append(current)
        current = nxt
    return current


def main():
    case, n, reps = args(20)
    us, wus = [], []
    if case == "gc_collect":
        for _ in range(reps):
            gc.collect()
            all_cycles = create_gc_cycles()
            del all_cycles
            t = Timer()
            found = gc.collect()
            c, w = t.stop()
            us.append(c * 1e6)
            wus.append(w * 1e6)
            assert found >= CYCLES * (LINKS + 1)
    elif case == "gc_traversal":
        keep = create_recursive_containers()
        for _ in range(reps):
            gc.collect()
            t = Timer()
            found = gc.collect()
            c, w = t.stop()
            us.append(c * 1e6)
            wus.append(w * 1e6)
            assert found == 0
        del keep
    else:
        raise SystemExit("unknown case")
    emit_times("pyperf", case, n, "us_per_collect", median(us), median(wus))


main()
