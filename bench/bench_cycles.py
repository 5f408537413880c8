"""Workload 2, Python twin of bench_cycles.c: collection of cyclic garbage.

    python3 bench_cycles.py CASE N [REPS]     CASE: pair, ring10
"""
import gc

from bench_common import Node, Timer, args, emit, emit_times, median, uss


def make_garbage(case, n):
    ring = 2 if case == "pair" else 10
    for _ in range(n // ring):
        first = Node()
        prev = first
        for _ in range(ring - 1):
            x = Node()
            prev.a = x
            prev = x
        prev.a = first


def main():
    case, n, reps = args(5)
    assert case in ("pair", "ring10")
    gc.disable()
    gc.collect()
    ns, wns = [], []
    mem = 0.0
    for _ in range(reps):
        make_garbage(case, n)
        mem = uss()
        t = Timer()
        found = gc.collect()
        c, w = t.stop()
        assert found > 0
        ns.append(c * 1e9 / found)
        wns.append(w * 1e9 / found)
    emit_times("cycles", case, n, "ns_per_freed", median(ns), median(wns))
    emit("cycles", case, n, "uss_mb", mem / 1048576.0)


main()
