"""Workload 1, Python twin of bench_fullgc.c: full collection of a live heap.

    python3 bench_fullgc.py CASE N [REPS]     CASE: tree, listtree, graph
"""
import gc

from bench_common import Node, Timer, args, emit, emit_times, median, rss, uss


def build_tree(n):
    nodes = [Node() for _ in range(n)]
    for i in range(n):
        x = nodes[i]
        if 2 * i + 1 < n:
            x.a = nodes[2 * i + 1]
        if 2 * i + 2 < n:
            x.b = nodes[2 * i + 2]
    return nodes[0]


def build_listtree(n):
    nodes = [[] for _ in range(n)]
    for i in range(n):
        x = nodes[i]
        if 2 * i + 1 < n:
            x.append(nodes[2 * i + 1])
        if 2 * i + 2 < n:
            x.append(nodes[2 * i + 2])
    return nodes[0]


def build_graph(n):
    holder = [Node() for _ in range(n)]
    # Rng.below, inlined (setup is not timed, but it is slow in Python).
    x = 1
    mul, inc, mask = 6364136223846793005, 1442695040888963407, (1 << 64) - 1
    for i in range(n):
        node = holder[i]
        x = (x * mul + inc) & mask
        node.a = holder[(x >> 33) % n]
        x = (x * mul + inc) & mask
        node.b = holder[(x >> 33) % n]
    return holder


def main():
    case, n, reps = args(5)
    gc.disable()
    builders = {"tree": build_tree, "listtree": build_listtree, "graph": build_graph}
    keep = builders[case](n)
    gc.collect()
    tracked = len(gc.get_objects())
    ns, ms, wns, wms = [], [], [], []
    for _ in range(reps):
        t = Timer()
        found = gc.collect()
        c, w = t.stop()
        assert found == 0, "a live heap had garbage"
        ns.append(c * 1e9 / tracked)
        ms.append(c * 1e3)
        wns.append(w * 1e9 / tracked)
        wms.append(w * 1e3)
    emit_times("fullgc", case, n, "ns_per_obj", median(ns), median(wns))
    emit_times("fullgc", case, n, "ms_per_collect", median(ms), median(wms))
    emit("fullgc", case, n, "tracked", tracked)
    emit("fullgc", case, n, "uss_mb", uss() / 1048576.0)
    emit("fullgc", case, n, "rss_mb", rss() / 1048576.0)
    del keep


main()
