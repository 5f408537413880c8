#!/usr/bin/env python3
"""The CPython twin of difftest/replay.c.

Runs an object-graph program (difftest/README.md, "The program format") in
the running CPython with real classes, real weakref and the real gc module,
and prints after every step the record replay.c prints for recycle.

    python3 twin.py [FILE]      program from FILE or stdin
    python3 twin.py --caps      what this interpreter supports (one JSON line)

Only the standard library is used; any CPython from 3.8 on runs it.

Making CPython's counts comparable
----------------------------------
The record includes gc.get_count(), the generation of every object and what
each collection returned, so the program's objects must be the only tracked
containers CPython creates, frees or collects while a step runs, and the
interpreter's own objects must not take part in collections:

* Every instance is one tracked container: the classes have __slots__ (no
  __dict__), and a slot holds a reference, None, or an int (the label).
* Everything that exists before the first step (modules, the classes, the
  callbacks, the roots list, the parsed program, this module's bookkeeping)
  is moved to the permanent generation with gc.freeze() and is invisible to
  collections, like the C side's stack. The roots list is such an object:
  references from it are external references, as roots are in C.
* A step creates no container besides the program's own: its code only
  assigns to slots and to preallocated lists, calls gc functions, and
  creates instances and weak references (no type(x), no bound methods but
  the callback o.cb of `weak R V 3`, a program object).
  Callbacks and finalizers append ints to preallocated lists (class G's
  finalizer creates a program object).
* CPython allocates some temporaries behind our back: the argument tuple of
  a call to a type (weakref.ref(obj, cb)), the tuple PyObject_ClearWeakRefs
  builds when an object dies with two or more callback weak references, and
  before 3.11 a frame object for every Python call. Taken from a free list
  (or, for frames, the code object's cached frame) they do not touch the
  counts; a fresh one does (count0 + 1, and it may even trigger a
  collection), and a full collection empties the free lists. So after every
  step the tuple and frame free lists are restocked, and every function a
  step may call is called once before the run.
* The record is computed with automatic collection disabled, and what the
  bookkeeping did to count0 (fresh lists and tuples that went to free lists
  when released: the count only ever grows) is undone by releasing as many
  spare instances, made and frozen beforehand: freeing a container decrements
  count0 whatever generation it is in. get_freeze_count() is reported
  relative to the interpreter's baseline, minus the spares released.

CPython 3.12+ runs an automatic collection at the next eval-breaker check
rather than inside the allocation; the step calls an empty function right
after each allocation so that the collection happens inside the step
(replay -d emulates the same timing on the C side).
"""
import gc
import json
import os
import sys
import weakref

NROOTS = 12
# name, slots, finalizer, legacy finalizer: the same table as replay.c.
CLASSES = [
    ("A", 2, None, None),
    ("B", 3, None, None),
    ("F", 2, "log", None),
    ("R", 2, "resurrect", None),
    ("K", 2, "suicide", None),
    ("D", 2, "drop", None),
    ("L", 2, None, "log"),
    ("M", 2, None, "resurrect"),
    ("N", 2, "log", "log"),
    ("G", 2, "alloc", None),
]
SLOTNAMES = ("a", "b", "c")
OPS = {
    "threshold": 3, "enable": 0, "disable": 0, "new": 2, "set": 3, "get": 3,
    "mov": 2, "drop": 1, "weak": 3, "deref": 2, "collect": 1, "freeze": 0,
    "gcclear": 0, "unsurvive": 0, "saveall": 1, "idle": 1,
}
OPCODE = {name: i for i, name in enumerate(sorted(OPS))}

# Event codes: kind * EVK + label.
EVK = 1 << 32
EV_FIN, EV_DEL, EV_CB = 1, 2, 3
EVNAME = {EV_FIN: "fin:o", EV_DEL: "del:o", EV_CB: "cb:w"}


def legacy_support():
    try:
        import _testcapi
        return getattr(_testcapi, "with_tp_del", None)
    except ImportError:
        return None


def caps():
    v = sys.version_info
    return {
        "version": "%d.%d.%d" % v[:3],
        "implementation": sys.implementation.name,
        # gc.get_objects(generation) appeared in 3.8.
        "supported": sys.implementation.name == "cpython" and v >= (3, 8),
        "legacy": legacy_support() is not None,
        # 3.12+ runs automatic collections at the eval-breaker check.
        "deferred": v >= (3, 12),
        # Before 3.9 one resurrected object kept the whole garbage alive
        # (check_garbage/revive_garbage; bpo-38379 changed it).
        "partial_resurrection": v >= (3, 9),
        # Before 3.9 a dead bound method went to a free list without
        # leaving count0 (bpo-37340 removed it), so a bound-method
        # callback's method counts differently.
        "method_freelist": v < (3, 9),
    }


# ---- State shared with finalizers and callbacks (frozen before the run) ----

ROOTS = [None] * NROOTS
SURV = []
# 3.12+: automatic collections wait for the eval breaker (caps()["deferred"]).
EARLY_DEFERRED = [sys.version_info >= (3, 12)]
EV = []
WRLAB = {}          # id(weakref) -> label, set when the weakref is created
OUT = []
SPARES = []
STATE = {"base_freeze": 0}
COUNTERS = [1]      # the next object label (finalizers create objects too)
PLAIN = [None]      # class A
ARMED = [1]         # 0 while a collection may run: class G does not allocate then
STAT_KEYS = ("collections", "collected", "uncollectable")
BASE_STATS = [0] * 9


def fin_log(self):
    EV.append(EV_FIN * EVK + self.label)


def fin_resurrect(self):
    EV.append(EV_FIN * EVK + self.label)
    SURV.append(self)


def fin_suicide(self):
    EV.append(EV_FIN * EVK + self.label)
    self.a = None
    self.b = None


def fin_drop(self):
    EV.append(EV_FIN * EVK + self.label)
    ROOTS[self.label % NROOTS] = None


def fin_alloc(self):
    """Creates an A into the survivors, unless a collection may be running
    (ARMED is 0 inside every allocation and every gc.collect): a full
    collection empties CPython's free lists, and freeing free-listed
    containers decrements count0, which would take back what a finalizer
    allocated during that collection; recycle's count0 is not affected by
    its free lists. The allocation may itself run an automatic collection
    (3.8 - 3.11: right here), while this object is being deallocated."""
    EV.append(EV_FIN * EVK + self.label)
    if not ARMED[0]:
        return
    ARMED[0] = 0
    o = PLAIN[0]()
    ARMED[0] = 1
    # That allocation may have run a full collection, which emptied the free
    # lists, and the step goes on (more deaths, weakref.ref's argument
    # tuple): restock them, out of sight.
    enabled = gc.isenabled()
    gc.disable()
    settle()
    if enabled:
        gc.enable()
    o.a = None
    o.b = None
    o.label = COUNTERS[0]
    o.n = 0
    COUNTERS[0] += 1
    SURV.append(o)


def leg_log(self):
    EV.append(EV_DEL * EVK + self.label)


def leg_resurrect(self):
    EV.append(EV_DEL * EVK + self.label)
    self.n += 1
    if self.n <= 2:
        SURV.append(self)


def cb_log(w):
    EV.append(EV_CB * EVK + WRLAB[id(w)])


def method_cb(self, w):
    """weak R V 3: the referent's bound method o.cb as the callback."""
    EV.append(EV_CB * EVK + WRLAB[id(w)])


def cb_drop(w):
    label = WRLAB[id(w)]
    EV.append(EV_CB * EVK + label)
    ROOTS[label % NROOTS] = None


def tick():
    """An eval-breaker check (3.12+ runs a scheduled collection here)."""


STASH = [None]


class TpDel:
    """The __tp_del__ of the legacy classes. _testcapi's tp_del either looks
    __tp_del__ up as a special method and calls the result without arguments
    (3.8 - 3.12: binding a plain function would allocate a bound method, a
    tracked container that may trigger a collection inside the dealloc), or
    calls the class attribute with the object (3.13+). A descriptor whose
    __get__ returns a preallocated function serves the first way without
    allocating anything, __call__ the second."""
    __slots__ = ("fn", "noarg")

    def __init__(self, fn):
        self.fn = fn

        def noarg():
            obj = STASH[0]
            STASH[0] = None
            fn(obj)
        self.noarg = noarg

    def __get__(self, obj, owner=None):
        STASH[0] = obj
        return self.noarg

    def __call__(self, obj):
        self.fn(obj)


FINS = {"log": fin_log, "resurrect": fin_resurrect, "suicide": fin_suicide, "drop": fin_drop,
        "alloc": fin_alloc}
LEGS = {"log": TpDel(leg_log), "resurrect": TpDel(leg_resurrect)}


class Spare:
    __slots__ = ()


def make_classes():
    with_tp_del = legacy_support()
    out = []
    for name, nslots, fin, leg in CLASSES:
        ns = {"__slots__": SLOTNAMES[:nslots] + ("label", "n", "__weakref__"), "cb": method_cb}
        if fin:
            ns["__del__"] = FINS[fin]
        if leg:
            ns["__tp_del__"] = LEGS[leg]
        cls = type(name, (), ns)
        if leg and with_tp_del is not None:
            cls = with_tp_del(cls)
        out.append(cls)
    PLAIN[0] = out[0]
    return out


class Warm:
    __slots__ = ("a", "b", "label", "n", "__weakref__")
    cb = method_cb


def warm_up():
    """Calls once every function a step may call, so that before 3.11 each
    code object has its cached frame when the steps run (creating a frame
    object counts as a container allocation, and can trigger a collection)."""
    x = Warm()
    x.a = x.b = None
    x.label = 0
    x.n = 0
    tick()
    settle()
    for f in FINS.values():
        f(x)
    for d in LEGS.values():
        d.__get__(x, Warm)()
        d(x)
    w = weakref.ref(x)
    WRLAB[id(w)] = 0
    cb_log(w)
    cb_drop(w)
    x.cb(w)
    del EV[:], SURV[:]
    COUNTERS[0] = 1
    WRLAB.clear()
    ROOTS[:] = [None] * NROOTS


def parse(text):
    ops = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        name = words[0]
        if name not in OPS or len(words) - 1 != OPS[name]:
            raise SystemExit("twin: malformed line: %s" % line)
        args = [-1 if w == "-" else int(w) for w in words[1:]]
        args += [0] * (3 - len(args))
        ops.append((OPCODE[name], args[0], args[1], args[2], " ".join(words)))
    return ops


# ---- The record -------------------------------------------------------------

def label(x, classes):
    if x is None:
        return "-"
    if type(x) in classes:
        return "o%d" % x.label
    if type(x) is weakref.ref:
        lab = WRLAB.get(id(x))
        return "w%d" % lab if lab is not None else "?weakref"
    return "?" + type(x).__name__


# Sizes of the tuples a step may take from the free lists: argument tuples
# (1-3 items) and PyObject_ClearWeakRefs's (2 per callback weakref).
RESTOCK = [(1, 4), (2, 4), (3, 4), (4, 8), (6, 8), (8, 8), (10, 8), (12, 8), (14, 8), (16, 8), (18, 8), (20, 8)]
NONES = {size: [None] * size for size, _ in RESTOCK}


def deep(n):
    if n:
        deep(n - 1)


def restock():
    # Before 3.11 every call of a Python function needs a frame object (a
    # tracked container): the code object's cached "zombie" frame, or one
    # from the frame free list, which full collections empty. Nested calls
    # of the same finalizer or callback take frames from that list.
    deep(16)
    keep = []
    for size, count in RESTOCK:
        src = NONES[size]
        j = 0
        while j < count:
            keep.append(tuple(src))
            j += 1
    keep = None


def record(step, text, ret, classes, c0, c1, c2, gens):
    """Adds the record of a step to OUT. The counts and the generations were
    read by run() as soon as the step ended. No comprehensions here: in 3.11
    they are functions with closures (cells, tuples), which would not
    matter, but plain loops keep the bookkeeping obvious."""
    lines = ["@%d %s" % (step, text)]
    ev = "ev"
    for e in EV:
        ev += " %s%d" % (EVNAME[e // EVK], e % EVK)
    lines.append(ev)
    del EV[:]
    if ret is not None:
        lines.append("ret %d" % ret)
    g = 0
    for objs in gens:
        line = "g%d" % g
        for x in objs:
            line += " " + label(x, classes)
        lines.append(line)
        g += 1
    gens = objs = x = None
    lines.append("frozen %d" % (gc.get_freeze_count() - STATE["base_freeze"]))
    line = "garbage"
    for x in gc.garbage:
        line += " " + label(x, classes)
    lines.append(line)
    line = "surv"
    for x in SURV:
        line += " " + label(x, classes)
    lines.append(line)
    line = "roots"
    for r in range(NROOTS):
        x = ROOTS[r]
        if x is None:
            continue
        line += " %d=%s" % (r, label(x, classes))
        if type(x) is weakref.ref:
            line += ">" + label(x(), classes)
    x = None
    lines.append(line)
    lines.append("count %d %d %d" % (c0, c1, c2))
    line = "stats"
    j = 0
    for st in gc.get_stats():
        line += " %d/%d/%d" % (st["collections"] - BASE_STATS[j], st["collected"] - BASE_STATS[j + 1],
                               st["uncollectable"] - BASE_STATS[j + 2])
        j += 3
    lines.append(line)
    st = None
    OUT.append("\n".join(lines))
    lines = None
    restock()
    compensate(c0)


def settle():
    """Restocks the free lists in the middle of a step (automatic collection
    off), leaving count0 as it was."""
    count0 = gc.get_count()[0]
    restock()
    compensate(count0)


def compensate(count0):
    """Brings count0 back to its value before the bookkeeping."""
    drift = gc.get_count()[0] - count0
    if drift < 0:
        OUT.append("twin: count0 fell by %d during the bookkeeping" % -drift)
    while drift > 0:
        if not SPARES:
            raise SystemExit("twin: out of spare objects")
        SPARES.pop()
        STATE["base_freeze"] -= 1
        drift -= 1


# ---- The run ------------------------------------------------------------------

def run(ops, classes):
    """Runs the program. Everything a step touches exists already: the step
    itself allocates only the program's instances and weak references. No
    type(x) either: before 3.10 that call builds an argument tuple, a fresh
    one (count0 + 1) when a full collection has just emptied the free lists;
    x.__class__ allocates nothing."""
    OP = OPCODE
    NEW, SET, GET, MOV, DROP, WEAK, DEREF = (OP["new"], OP["set"], OP["get"], OP["mov"],
                                             OP["drop"], OP["weak"], OP["deref"])
    COLLECT, FREEZE, THRESHOLD, ENABLE, DISABLE, GCCLEAR, UNSURV, SAVEALL = (
        OP["collect"], OP["freeze"], OP["threshold"], OP["enable"], OP["disable"],
        OP["gcclear"], OP["unsurvive"], OP["saveall"])
    IDLE = OP["idle"]
    gc_set_debug = gc.set_debug
    DEBUG_SAVEALL = gc.DEBUG_SAVEALL
    nslots = {cls: n for cls, (_, n, _, _) in zip(classes, CLASSES)}
    classlist = list(classes)
    ncls = len(classlist)
    slotnames = SLOTNAMES
    roots = ROOTS
    surv = SURV
    garbage = gc.garbage
    wrlab = WRLAB
    ref = weakref.ref
    getrefcount = sys.getrefcount
    gc_enable, gc_disable, gc_collect = gc.enable, gc.disable, gc.collect
    gc_freeze, gc_set_threshold = gc.freeze, gc.set_threshold
    gc_get_count, gc_get_objects = gc.get_count, gc.get_objects
    classset = frozenset(classes)
    counters = COUNTERS
    armed = ARMED
    next_wr = 1
    auto = True
    n = len(ops)
    i = 0
    # Everything above exists now; freeze it with the rest of the heap.
    gc.collect()
    gc.freeze()
    # A full collection of the empty heap: the 25 % rule's long_lived_total
    # (the survivors of the last full collection) becomes 0, as in a new
    # recycle runtime, and the counts are reset.
    gc.collect()
    j = 0
    for st in gc.get_stats():
        for key in STAT_KEYS:
            BASE_STATS[j] = st[key]
            j += 1
    st = None
    STATE["base_freeze"] = gc.get_freeze_count()
    gc.get_count()
    restock()
    compensate(0)
    while i < n:
        op = ops[i]
        code = op[0]
        a = op[1]
        b = op[2]
        c = op[3]
        ret = None
        if auto:
            gc_enable()
        if code == NEW:
            if 0 <= a < NROOTS and 0 <= b < ncls:
                roots[a] = None
                armed[0] = 0
                o = classlist[b]()
                tick()
                armed[0] = 1
                o.a = None
                o.b = None
                if nslots[o.__class__] == 3:
                    o.c = None
                o.label = counters[0]
                o.n = 0
                counters[0] += 1
                roots[a] = o
                o = None
        elif code == SET:
            if 0 <= a < NROOTS and c < NROOTS:
                o = roots[a]
                if o.__class__ in classset and 0 <= b < nslots[o.__class__]:
                    v = roots[c] if c >= 0 else None
                    setattr(o, slotnames[b], v)
                    v = None
                o = None
        elif code == GET:
            if 0 <= a < NROOTS and 0 <= b < NROOTS:
                o = roots[b]
                if o.__class__ in classset and 0 <= c < nslots[o.__class__]:
                    x = getattr(o, slotnames[c])
                    roots[a] = x
                    x = None
                o = None
        elif code == MOV:
            if 0 <= a < NROOTS and 0 <= b < NROOTS:
                x = roots[b]
                roots[a] = x
                x = None
        elif code == DROP:
            if 0 <= a < NROOTS:
                roots[a] = None
        elif code == WEAK:
            if 0 <= a < NROOTS and 0 <= b < NROOTS and 0 <= c <= 3:
                o = roots[b]
                if o.__class__ in classset:
                    roots[a] = None
                    armed[0] = 0
                    if c == 0:
                        w = ref(o)
                    elif c == 1:
                        w = ref(o, cb_log)
                    elif c == 2:
                        w = ref(o, cb_drop)
                    else:
                        # Evaluating o.cb allocates the method object, which
                        # up to 3.11 may run a full collection that empties
                        # the tuple free list before ref's argument tuple is
                        # taken; a C program has no argument tuple: restock
                        # out of sight, as below. (3.12+ defers the
                        # collection to the next eval-breaker check, after
                        # the call: no Python call may come in between.)
                        m = o.cb
                        if not EARLY_DEFERRED[0]:
                            gc_disable()
                            settle()
                            if auto:
                                gc_enable()
                        w = ref(o, m)
                        m = None
                    if getrefcount(w) == 2:
                        wrlab[id(w)] = next_wr
                        next_wr += 1
                    tick()
                    armed[0] = 1
                    roots[a] = w
                    w = None
                    if getrefcount(o) == 2:
                        # A finalizer or callback run by an automatic
                        # collection just now dropped the target's root: it
                        # dies below, perhaps with the free lists emptied by
                        # that collection. Restock them first, out of sight.
                        gc_disable()
                        settle()
                        if auto:
                            gc_enable()
                o = None
        elif code == DEREF:
            if 0 <= a < NROOTS and 0 <= b < NROOTS:
                w = roots[b]
                if w.__class__ is ref:
                    x = w()
                    roots[a] = x
                    x = None
                w = None
        elif code == COLLECT:
            if not 0 <= a <= 2:
                raise SystemExit("twin: bad generation")
            armed[0] = 0
            ret = gc_collect(a)
            armed[0] = 1
        elif code == FREEZE:
            gc_freeze()
        elif code == THRESHOLD:
            gc_set_threshold(a, b, c)
        elif code == ENABLE:
            auto = True
            gc_enable()
        elif code == DISABLE:
            auto = False
            gc_disable()
        elif code == SAVEALL:
            gc_set_debug(DEBUG_SAVEALL if a else 0)
        elif code == IDLE:
            pass  # rcy_gc_incr_step: no such call in CPython, nothing in compat mode
        elif code == GCCLEAR:
            # gc.garbage.clear(), which releases the entries last first;
            # spelled out so that entries appended by the finalizers it
            # runs stay, as rcy_gc_garbage_clear keeps them.
            k = len(garbage)
            j = k
            while j > 0:
                j -= 1
                garbage[j] = None
            del garbage[:k]
        elif code == UNSURV:
            k = len(surv)
            j = 0
            while j < k:
                surv[j] = None
                j += 1
            del surv[:k]
        tick()
        gc_disable()
        # The state the step left, read before anything else is created:
        # the counts, then the generations (each result list is young and
        # not in the older lists; get_objects leaves its own list out).
        # Inline, not in record(): before 3.11 a call creates a frame, a
        # tracked container.
        c0, c1, c2 = gc_get_count()
        g0 = gc_get_objects(0)
        g1 = gc_get_objects(1)
        g2 = gc_get_objects(2)
        i += 1
        record(i, op[4], ret, classset, c0, c1, c2, (g0, g1, g2))
        g0 = g1 = g2 = None


def main(argv):
    if len(argv) > 1 and argv[1] == "--caps":
        print(json.dumps(caps(), sort_keys=True))
        return 0
    c = caps()
    if not c["supported"]:
        print("twin: unsupported interpreter %s" % c["version"], file=sys.stderr)
        return 2
    if len(argv) > 1 and argv[1] != "-":
        with open(argv[1]) as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    gc.disable()
    ops = parse(text)
    classes = make_classes()
    # Both sides start from CPython's classic defaults (3.13 has 2000).
    gc.set_threshold(700, 10, 10)
    SPARES.extend(Spare() for _ in range(100 * len(ops) + 1000))
    warm_up()
    OUT.append("")
    del OUT[:]
    run(ops, classes)
    sys.stdout.write("".join(s + "\n" for s in OUT))
    sys.stdout.flush()
    # The heap is garbage from here on: leave without tearing it down
    # (finalizers would run at shutdown and print nothing useful).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
