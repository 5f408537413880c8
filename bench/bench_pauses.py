"""Workload 4, Python twin of bench_pauses.c: pauses under automatic
collection with the default thresholds, recorded through gc.callbacks.

    python3 bench_pauses.py tree N [ITERATIONS]
"""
import gc
import math
import sys

from bench_common import Node, emit, now

pauses = {0: [], 1: [], 2: []}
state = {"t0": 0.0, "total": 0.0}


def on_collect(phase, info):
    if phase == "start":
        state["t0"] = now()
        return
    d = now() - state["t0"]
    pauses[info["generation"]].append(d)
    state["total"] += d


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
        v = sorted(pauses[g])
        k = len(v)
        emit("pauses", case, n, "gen%d_count" % g, k)
        if k == 0:
            continue
        med = v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0
        emit("pauses", case, n, "gen%d_median_us" % g, med * 1e6)
        emit("pauses", case, n, "gen%d_p99_us" % g, v[int(math.ceil(0.99 * k)) - 1] * 1e6)
        emit("pauses", case, n, "gen%d_max_us" % g, v[-1] * 1e6)
    emit("pauses", case, n, "gc_share_pct", 100.0 * state["total"] / wall)
    emit("pauses", case, n, "wall_s", wall)
    del root


main()
