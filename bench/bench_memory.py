"""Workload 6, Python twin of bench_memory.c: USS growth per object.

    python3 bench_memory.py CASE N     CASE: node, list, dict
"""
import gc

from bench_common import Node, args, emit, uss


def main():
    case, n, _ = args(1)
    gc.disable()
    holder = [None] * n
    make = {"node": Node, "list": list, "dict": dict}[case]
    before = uss()
    for i in range(n):
        holder[i] = make()
    after = uss()
    emit("memory", case, n, "bytes_per_obj", (after - before) / n)


main()
