"""Twin of bench_instance.c: memory per instance of a class with two
attributes, and the time of an attribute store and load.

    python3 bench_instance.py CASE N [REPS]

CASE memory: USS growth per instance (o = Point(); o.x = 1; o.y = 2);
setattr: `o.x = v`; getattr: `v = o.x`, N operations over 1,000 instances;
setattr_str / getattr_str: the builtins setattr(o, name, v) and
getattr(o, name) with the name in a variable (the API shape of
rcy_setattr_str); getattr_ref: `o.x` again (the twin of rcy_getattr_ref
with its rcy_decref: the expression statement takes a new reference and
drops it); setattr_mortal: `o.y = m`, m a mortal int (1000000). Times are thread CPU time (time.thread_time), the median
of REPS loops in ns per operation; the time of the same loop without the
attribute operation is reported as the case "loop" and subtracted from the
others (the figure is the operation, not the interpreter's loop), as
churn.py does.
"""
import gc
import time

from bench_common import args, emit, median, uss

M = 1000
clock = time.thread_time


class Point(object):
    pass


def loop(objs, passes, v):
    for _ in range(passes):
        for o in objs:
            pass


def setattr_(objs, passes, v):
    for _ in range(passes):
        for o in objs:
            o.x = v


def getattr_(objs, passes, v):
    for _ in range(passes):
        for o in objs:
            o.x


def setattr_mortal(objs, passes, v, m=int("1000000")):
    for _ in range(passes):
        for o in objs:
            o.y = m


def setattr_str(objs, passes, v, name="x", setattr=setattr):
    for _ in range(passes):
        for o in objs:
            setattr(o, name, v)


def getattr_str(objs, passes, v, name="x", getattr=getattr):
    for _ in range(passes):
        for o in objs:
            getattr(o, name)


CASES = [("setattr", setattr_), ("setattr_str", setattr_str), ("getattr", getattr_), ("getattr_str", getattr_str),
         ("getattr_ref", getattr_), ("setattr_mortal", setattr_mortal)]


def timed(fn, objs, passes, v, reps):
    fn(objs, passes, v)  # warm up (and let 3.11+ specialise)
    t = []
    for _ in range(reps):
        t0 = clock()
        fn(objs, passes, v)
        t.append((clock() - t0) * 1e9 / (passes * M))
    return median(t)


def main():
    case, n, reps = args(5)
    gc.disable()
    if case == "memory":
        holder = [None] * n
        before = uss()
        for i in range(n):
            o = Point()
            o.x = 1
            o.y = 2
            holder[i] = o
        after = uss()
        emit("instance", "memory", n, "bytes_per_obj", (after - before) / n)
        return
    n = max(n, M)
    passes = n // M
    objs = []
    for i in range(M):
        o = Point()
        o.x = 7
        o.y = 8
        objs.append(o)
    base = timed(loop, objs, passes, 7, reps)
    emit("instance", "loop", n, "ns_per_op", base)
    for name, fn in CASES:
        if case in ("all", name):
            emit("instance", name, n, "ns_per_op", timed(fn, objs, passes, 7, reps) - base)


main()
