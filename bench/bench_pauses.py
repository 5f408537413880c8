"""Workload 4, Python twin of bench_pauses.c: pauses under automatic
collection with the default thresholds, recorded through gc.callbacks.

    python3 bench_pauses.py tree N [ITERATIONS]
"""
import gc
import sys
import time

from bench_common import Node, emit, now

# The thread's CPU time (time.thread_time, 3.7+): a pause less the time the
# scheduler gave to other processes; 3.6 falls back to process time.
cpu_now = getattr(time, "thread_time", time.process_time)

pauses = {0: [], 1: [], 2: []}
cpu_pauses = {0: [], 1: [], 2: []}
state = {"t0": 0.0, "c0": 0.0, "total": 0.0}


def on_collect(phase, info):
    if phase == "start":
        state["t0"] = now()
        state["c0"] = cpu_now()
        return
    d = now() - state["t0"]
    c = cpu_now() - state["c0"]
    pauses[info["generation"]].append(d)
    cpu_pauses[info["generation"]].append(c)
    state["total"] += d


def report(case, n, what, g, values):
    v = sorted(values)
    k = len(v)
    med = v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0
    emit("pauses", case, n, "gen%d_%smedian_us" % (g, what), med * 1e6)
    emit("pauses", case, n, "gen%d_%sp99_us" % (g, what), v[(99 * k + 99) // 100 - 1] * 1e6)
    emit("pauses", case, n, "gen%d_%smax_us" % (g, what), v[-1] * 1e6)


def main():
    case = sys.argv[1]
    n = int(sys.argv[2])
    iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    assert case == "tree"
    gc.callbacks.append(on_collect)
    start = now()
    nodes = [Node() for _ in range(n)]
    for i in range(n):
        x = nodes[i]
        if 2 * i + 1 < n:
            x.a = nodes[2 * i + 1]
        if 2 * i + 2 < n:
            x.b = nodes[2 * i + 2]
    root = nodes[0]
    del nodes

    for i in range(iterations):
        x = Node()
        x.a = []
        if i % 10 == 0:
            c = Node()
            d = Node()
            c.a = d
            d.a = c
            del c, d
    del x
    wall = now() - start
    gc.callbacks.remove(on_collect)

    for g in range(3):
        emit("pauses", case, n, "gen%d_count" % g, len(pauses[g]))
        if not pauses[g]:
            continue
        report(case, n, "", g, pauses[g])
        report(case, n, "cpu_", g, cpu_pauses[g])
    emit("pauses", case, n, "gc_share_pct", 100.0 * state["total"] / wall)
    emit("pauses", case, n, "wall_s", wall)
    del root


main()
