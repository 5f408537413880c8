"""Workload 4, Python twin of bench_pauses.c: pauses of automatic collection
(default thresholds) in the steady state, recorded through gc.callbacks,
which are registered only once the resident tree is built (automatic
collection off), collected into the oldest generation (and collection back
on) and the ring filled.

    python3 bench_pauses.py ring|buffers|bigcycle N [ITERATIONS]

Case buffers: every tenth object (those that die in a cycle) also holds a
bytearray(4096), the buffer bench_pauses.c charges as external bytes.
Case bigcycle: the resident heap is one cycle of N objects, dropped when the
steady state starts; ITERATIONS default to 2N (at least 2,000,000), as in
bench_pauses.c, and dropped_freed says whether a collection freed it.
"""
import gc
import sys

from bench_common import Node, Timer, cpu, emit, emit_dist, now, rss


def peak_rss():
    """Peak resident set size in bytes (VmHWM)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(int(line.split()[1]) * 1024)
    except OSError:
        pass
    return 0.0

RING = 20000

pauses = {0: [], 1: [], 2: []}
wall_pauses = {0: [], 1: [], 2: []}
state = {"c0": 0.0, "w0": 0.0, "cpu": 0.0, "wall": 0.0, "big": 0, "freed": 0}


def on_collect(phase, info):
    if phase == "start":
        state["c0"] = cpu()
        state["w0"] = now()
        return
    c = cpu() - state["c0"]
    w = now() - state["w0"]
    pauses[info["generation"]].append(c)
    if info["generation"] == 2 and info["collected"] >= state["big"] > 0:
        state["freed"] = 1
    wall_pauses[info["generation"]].append(w)
    state["cpu"] += c
    state["wall"] += w


def report(case, n, prefix, g, values):
    v = sorted(values)
    k = len(v)
    med = v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0
    emit("pauses", case, n, "%sgen%d_median_us" % (prefix, g), med * 1e6)
    emit("pauses", case, n, "%sgen%d_p99_us" % (prefix, g), v[(99 * k + 99) // 100 - 1] * 1e6)
    emit("pauses", case, n, "%sgen%d_max_us" % (prefix, g), v[-1] * 1e6)


class BufNode(object):
    """bench_pauses.c's BufNode: two slots and a buffer."""
    __slots__ = ('a', 'b', 'buf')

    def __init__(self, i):
        self.a = None
        self.b = None
        self.buf = bytearray([i & 0x7f]) * 4096


def mutate(ring, start, stop, buffers=False):
    # The same objects as bench_pauses.c's mutate(), in the same order.
    for i in range(start, stop):
        x = BufNode(i) if buffers and i % 10 == 0 else Node()
        if i % 4 == 0:
            x.b = {'prev': ring[(i + RING - 1) % RING]}
        if i % 10 == 0:
            x.a = x
        ring[i % RING] = x
    x = None


def main():
    case = sys.argv[1]
    n = int(sys.argv[2])
    # (bigcycle: 2n, at least 2,000,000, as bench_pauses.c: the cycle freed within the run)
    least = 2 * n if sys.argv[1] == "bigcycle" else n
    iterations = int(sys.argv[3]) if len(sys.argv) > 3 else max(least, 2000000 if sys.argv[1] == "bigcycle" else 1000000)
    assert case in ("ring", "buffers", "bigcycle")
    buffers = case == "buffers"
    ring = [0] * RING
    gc.disable()
    nodes = [Node() for _ in range(n)]
    for i in range(n):
        x = nodes[i]
        if case == "bigcycle":
            x.a = nodes[(i + 1) % n]  # one cycle of n objects, dropped below
            continue
        if 2 * i + 1 < n:
            x.a = nodes[2 * i + 1]
        if 2 * i + 2 < n:
            x.b = nodes[2 * i + 2]
    root = nodes[0]
    del nodes, x
    gc.collect()
    gc.enable()
    mutate(ring, 0, RING, buffers)

    gc.callbacks.append(on_collect)
    if case == "bigcycle":
        state["big"] = n
        root = None
    t = Timer()
    mutate(ring, RING, RING + iterations, buffers)
    run_cpu, run_wall = t.stop()
    gc.callbacks.remove(on_collect)

    for g in range(3):
        emit("pauses", case, n, "gen%d_count" % g, len(pauses[g]))
        if not pauses[g]:
            continue
        emit_dist("pauses", case, n, "gen%d_us" % g, [v * 1e6 for v in pauses[g]])
        report(case, n, "", g, pauses[g])
        report(case, n, "wall_", g, wall_pauses[g])
    allp = sorted(pauses[0] + pauses[1] + pauses[2])
    if allp:
        emit("pauses", case, n, "auto_p99_us", allp[(99 * len(allp) + 99) // 100 - 1] * 1e6)
        emit("pauses", case, n, "auto_max_us", allp[-1] * 1e6)
    emit("pauses", case, n, "gc_cpu_s", state["cpu"])
    if case == "bigcycle":
        emit("pauses", case, n, "dropped_freed", state["freed"])
    emit("pauses", case, n, "peak_rss_mb", peak_rss() / 1048576.0)
    emit("pauses", case, n, "gc_share_pct", 100.0 * state["cpu"] / run_cpu)
    emit("pauses", case, n, "wall_gc_share_pct", 100.0 * state["wall"] / run_wall)
    emit("pauses", case, n, "mutator_s", run_cpu)
    emit("pauses", case, n, "iterations", iterations)
    emit("pauses", case, n, "rss_mb", rss() / 1048576.0)
    del root, ring


main()
