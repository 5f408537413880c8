#!/usr/bin/env python3
"""Random object-graph programs for the differential tests.

    python3 gen.py SEED [--steps N] [--no-legacy] [--no-resurrect]

prints one program (difftest/README.md, "The program format"). The same seed
and options always give the same program, on any Python version.

The generator keeps a rough model of the program (what each root and slot
holds, ignoring deaths) to make the programs dense: most operations touch
objects that exist, cycles form often, and collections find garbage. Small
thresholds make automatic collections and promotions frequent.

Options remove what an interpreter cannot compare: --no-legacy drops the
classes with legacy finalizers (L, M, N: they need _testcapi.with_tp_del),
--no-resurrect drops class R, whose finalizer resurrects objects found in a
collection (before 3.9 one resurrection kept all the garbage alive),
--no-alloc drops class G, whose finalizer allocates (3.12+ would run the
collection that allocation may trigger at some later eval-breaker check).

--timeless makes the programs whose outcome cannot depend on when automatic
collections run, which run.py --incremental runs in compat and incremental
mode and compares after a final full collection: no deref, no weak-reference
callbacks, no freeze, saveall, gcclear or unsurvive, no explicit full
collection but the last, and only the classes A, B and F (F's finalizer only
logs). Every other class makes the outcome depend on *when* a collection
finds its garbage, in CPython's generational collector too: which objects a
legacy cycle keeps in garbage is what it reaches when found (L, M, N);
whether a resurrected object's weak references survive, and whether the
young objects it reaches were finalized, depends on whether it died by
reference counting or in a collection, and with it which collection (R, and
K, whose clearing decides that for others); D, G and callbacks change the
program's state from finalizers.
"""
import argparse
import random

NROOTS = 12
# Must match CLASSES in twin.py and replay.c: name, slots.
CLASSES = [("A", 2), ("B", 3), ("F", 2), ("R", 2), ("K", 2), ("D", 2), ("L", 2), ("M", 2), ("N", 2),
           ("G", 2)]
LEGACY = {"L", "M", "N"}
RESURRECTING = {"R"}
ALLOCATING = {"G"}
# At most this many weak references with callbacks per program: an object
# dying by reference counting with k of them makes CPython build a tuple of
# 2k items, which must come from a free list (twin.py restocks up to 20).
MAX_CALLBACK_WEAKREFS = 10


TIMED = {"R", "K", "D", "L", "M", "N", "G"}
TIMED_OPS = {"deref", "freeze", "saveall", "gcclear", "unsurvive"}


def generate(seed, steps=60, legacy=True, resurrect=True, alloc=True, bound=True, timeless=False):
    rnd = random.Random(seed)
    kinds = [i for i, (name, _) in enumerate(CLASSES)
             if (legacy or name not in LEGACY) and (resurrect or name not in RESURRECTING)
             and (alloc or name not in ALLOCATING) and not (timeless and name in TIMED)]
    # Each program favours a few classes, so that some are all plain and
    # some are full of finalizers.
    class_weights = [rnd.choice((0, 1, 1, 3, 6)) for _ in kinds]
    if not any(class_weights):
        class_weights[0] = 1
    ops = [
        ("new", 22), ("set", 32), ("get", 6), ("mov", 3), ("drop", 10), ("weak", 10),
        ("deref", 3), ("collect", 10), ("threshold", 1.5), ("toggle", 1.5), ("freeze", 0.2),
        ("gcclear", 2), ("unsurvive", 2), ("cycle", 5), ("saveall", 0.4), ("idle", 3),
    ]
    if timeless:
        ops = [(o, w) for o, w in ops if o not in TIMED_OPS]
    names = [o for o, _ in ops]
    weights = [w for _, w in ops]
    roots = [None] * NROOTS      # model: object id, ("w", id) or None
    slots = {}                   # model: object id -> list of values
    nslots = {}
    callback_weakrefs = 0
    next_id = 0
    lines = ["# gen.py seed=%d steps=%d legacy=%d resurrect=%d alloc=%d%s" % (
        seed, steps, legacy, resurrect, alloc, " timeless" if timeless else "")]
    t0 = rnd.choice((0, 2, 3, 5, 8, 12, 20))
    lines.append("threshold %d %d %d" % (t0, rnd.randint(0, 4), rnd.randint(0, 4)))
    enabled = True
    saveall = False

    def full_root():
        cands = [r for r in range(NROOTS) if isinstance(roots[r], int)]
        return rnd.choice(cands) if cands else rnd.randrange(NROOTS)

    while len(lines) < steps + 2:
        op = rnd.choices(names, weights)[0]
        if op == "cycle":
            # A ring of 1-4 new objects in random roots, perhaps watched by
            # weak references, then (mostly) all its roots dropped.
            size = rnd.randint(1, 4)
            rs = rnd.sample(range(NROOTS), size)
            for r in rs:
                k = rnd.choices(kinds, class_weights)[0]
                lines.append("new %d %d" % (r, k))
                roots[r] = next_id
                nslots[next_id] = CLASSES[k][1]
                slots[next_id] = [None] * CLASSES[k][1]
                next_id += 1
            for i, r in enumerate(rs):
                nxt = rs[(i + 1) % size]
                s = rnd.randrange(nslots[roots[r]])
                lines.append("set %d %d %d" % (r, s, nxt))
                slots[roots[r]][s] = roots[nxt]
            if rnd.random() < 0.6:
                v = rnd.choice(rs)
                free = [r for r in range(NROOTS) if r not in rs]
                r = rnd.choice(free) if free else v
                c = rnd.choice((1, 2, 3) if bound else (1, 2)) if callback_weakrefs < MAX_CALLBACK_WEAKREFS and not timeless else 0
                callback_weakrefs += c != 0
                lines.append("weak %d %d %d" % (r, v, c))
                roots[r] = ("w", roots[v]) if r != v else None
            for r in rs:
                if rnd.random() < 0.85:
                    lines.append("drop %d" % r)
                    roots[r] = None
        elif op == "new":
            r = rnd.randrange(NROOTS)
            k = rnd.choices(kinds, class_weights)[0]
            lines.append("new %d %d" % (r, k))
            roots[r] = next_id
            nslots[next_id] = CLASSES[k][1]
            slots[next_id] = [None] * CLASSES[k][1]
            next_id += 1
        elif op == "set":
            r = full_root()
            v = full_root() if rnd.random() < 0.9 else -1
            obj = roots[r]
            s = rnd.randrange(nslots[obj]) if isinstance(obj, int) else rnd.randrange(2)
            lines.append("set %d %d %s" % (r, s, v if v >= 0 else "-"))
            if isinstance(obj, int):
                slots[obj][s] = roots[v] if v >= 0 else None
        elif op == "get":
            v = full_root()
            r = rnd.randrange(NROOTS)
            obj = roots[v]
            s = rnd.randrange(nslots[obj]) if isinstance(obj, int) else 0
            lines.append("get %d %d %d" % (r, v, s))
            if isinstance(obj, int):
                roots[r] = slots[obj][s]
        elif op == "mov":
            r, v = rnd.randrange(NROOTS), rnd.randrange(NROOTS)
            lines.append("mov %d %d" % (r, v))
            roots[r] = roots[v]
        elif op == "drop":
            r = rnd.randrange(NROOTS)
            lines.append("drop %d" % r)
            roots[r] = None
        elif op == "weak":
            v = full_root()
            r = rnd.randrange(NROOTS)
            c = rnd.choices((0, 1, 2, 3), (3, 5, 2, 2 if bound else 0))[0]
            if c and (callback_weakrefs >= MAX_CALLBACK_WEAKREFS or timeless):
                c = 0
            if c:
                callback_weakrefs += 1
            lines.append("weak %d %d %d" % (r, v, c))
            if r != v and isinstance(roots[v], int):
                roots[r] = ("w", roots[v])
            else:
                roots[r] = None
        elif op == "deref":
            cands = [r for r in range(NROOTS) if isinstance(roots[r], tuple)]
            v = rnd.choice(cands) if cands else rnd.randrange(NROOTS)
            r = rnd.randrange(NROOTS)
            lines.append("deref %d %d" % (r, v))
            roots[r] = roots[v][1] if isinstance(roots[v], tuple) else None
        elif op == "collect":
            # (Timeless programs are for incremental mode, whose passes an
            # explicit full collection gives up: fewer of those.)
            lines.append("collect %d" % rnd.choices((0, 1, 2), (4, 3, 0 if timeless else 3))[0])
        elif op == "threshold":
            lines.append("threshold %d %d %d" % (rnd.choice((0, 1, 2, 3, 5, 8, 12, 20)),
                                                 rnd.randint(0, 4), rnd.randint(0, 4)))
        elif op == "toggle":
            enabled = not enabled
            lines.append("enable" if enabled else "disable")
        elif op == "freeze":
            lines.append("freeze")
        elif op == "saveall":
            saveall = not saveall
            lines.append("saveall %d" % saveall)
        elif op == "gcclear":
            lines.append("gcclear")
        elif op == "unsurvive":
            lines.append("unsurvive")
        elif op == "idle":
            # Idle time for incremental mode's pass (0: to its end).
            lines.append("idle %d" % rnd.choice((0, 1, 5, 20, 100)))
    # Leave something to collect at the end.
    for r in range(NROOTS):
        if rnd.random() < 0.5:
            lines.append("drop %d" % r)
    lines.append("collect 2")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seed", type=int)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--no-legacy", action="store_true")
    ap.add_argument("--no-resurrect", action="store_true")
    ap.add_argument("--no-alloc", action="store_true")
    ap.add_argument("--timeless", action="store_true")
    a = ap.parse_args()
    print(generate(a.seed, a.steps, not a.no_legacy, not a.no_resurrect, not a.no_alloc, timeless=a.timeless), end="")


if __name__ == "__main__":
    main()
