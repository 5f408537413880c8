/*
 * The accountant of the incremental old generation (docs/design.md,
 * "Incremental mode"): how much old-generation work each step may do.
 *
 * A pure unit (no runtime, no allocation) so that its rules are tested on
 * their own (tests/test_pacing.c):
 *
 *   - work is one unit per object visited plus one per edge traversed,
 *     charged by the collector where it happens (rcyi_pacer_charge), once;
 *   - credit is earned by promotions into the old generation (k units per
 *     object, k set at the start of a pass from the work the pass is
 *     expected to need and the promotions it may take: rcyi_pacer_begin)
 *     and by external bytes charged to containers (the same k per object's
 *     worth of bytes), computed from running totals so that rounding never
 *     accumulates (no drift);
 *   - a step may spend at most one step's budget, and the debt it leaves
 *     (the work of the object it was in when the budget ran out) is capped
 *     at one step: whatever is below is forgiven and counted;
 *   - banked credit is capped at RCYI_PACER_BANK steps: beyond it the pass
 *     is lagging behind its pace, the excess is counted as forfeited, and
 *     the backstop (rcyi_sched_backstop, below) is what bounds memory then.
 *
 * Every unit is accounted for: balance == earned - charged - forfeited +
 * forgiven at all times (rcyi_pacer_consistent).
 */
#ifndef RCY_PACING_H
#define RCY_PACING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define RCYI_PACER_FUNC __attribute__((visibility("hidden")))
#else
#define RCYI_PACER_FUNC
#endif

#define RCYI_PACER_FP 16   /* fixed-point bits of k */
#define RCYI_PACER_BANK 32 /* steps' worth of credit that may be banked */

typedef struct rcyi_pacer_s {
    /* Configuration. */
    int64_t step_max;       /* budget of one step, in work units (> 0) */
    int64_t trickle;        /* credit granted at every young collection of a pass */
    uint64_t bytes_per_obj; /* external bytes worth one object (> 0) */

    /* The pass: k and the running totals its credit is computed from. */
    uint64_t k_fp;          /* credit per promoted object, RCYI_PACER_FP fixed point */
    uint64_t promoted;      /* objects promoted during the pass */
    uint64_t bytes;         /* external bytes charged during the pass */
    uint64_t ticks;         /* young collections during the pass */
    uint64_t credited;      /* credit granted so far this pass (exact: from the totals) */
    uint64_t pass_work;     /* work charged this pass */

    /* The ledger, over the pacer's life. */
    int64_t balance;        /* credit not yet spent; >= -step_max, <= BANK * step_max */
    uint64_t earned, charged, forfeited, forgiven;
    uint64_t steps;         /* steps begun */

    /* Within a step. */
    int64_t step_left;      /* budget left in the current step */
    bool in_step;
} rcyi_pacer_t;

/* A pacer with the given step budget (>= 1), trickle (>= 0) and object size
   for external bytes (>= 1). */
RCYI_PACER_FUNC void rcyi_pacer_init(rcyi_pacer_t *p, int64_t step_max, int64_t trickle, uint64_t bytes_per_obj);

/* Starts a pass expected to cost `work` units, which should be done before
   `promotions` more objects are promoted (>= 1): k = work / promotions, at
   least 1 unit per object. Credit left from the last pass stays (within the
   bank cap); debt too. */
RCYI_PACER_FUNC void rcyi_pacer_begin(rcyi_pacer_t *p, uint64_t work, uint64_t promotions);

/* Credit: n objects promoted into the old generation / `bytes` external
   bytes charged / one young collection happened, during a pass. */
RCYI_PACER_FUNC void rcyi_pacer_promoted(rcyi_pacer_t *p, uint64_t n);
RCYI_PACER_FUNC void rcyi_pacer_bytes(rcyi_pacer_t *p, uint64_t bytes);
RCYI_PACER_FUNC void rcyi_pacer_tick(rcyi_pacer_t *p);

/* Starts a step when there is credit: returns false (no step) when the
   balance is <= 0. The step may then charge up to its budget,
   min(balance, step_max). */
RCYI_PACER_FUNC bool rcyi_pacer_step_begin(rcyi_pacer_t *p);
/* Starts a step of `budget` units (at least 1) whatever the balance: a
   step the program's idle time pays for (rcy_gc_incr_step), not credit.
   Its work is charged and its debt capped at one step when it ends, as
   any step's: it lowers the credit of the steps that follow by at most
   one step's budget, and what it did beyond that is forgiven (counted),
   so that the pass's pace afterwards is the schedule's again. False (no
   step) while a step runs. */
RCYI_PACER_FUNC bool rcyi_pacer_idle_begin(rcyi_pacer_t *p, int64_t budget);
/* Charges `units` of work done (within a step, or outside one for work a
   synchronous finish does: then it is counted but not limited). The
   collector charges every object and edge: the common case is inline. */
RCYI_PACER_FUNC void rcyi_pacer_charge_slow(rcyi_pacer_t *p, uint64_t units);
static inline void rcyi_pacer_charge(rcyi_pacer_t *p, uint64_t units)
{
    /* Outside a step (a synchronous finish) the debt is capped at once:
       inline too while the balance stays above one step's debt. */
    if (units <= 65536 && p->balance > -((int64_t)1 << 60) &&
        (p->in_step || p->balance - (int64_t)units >= -p->step_max)) {
        p->charged += units;
        p->pass_work += units;
        p->balance -= (int64_t)units;
        if (p->in_step)
            p->step_left -= (int64_t)units;
        return;
    }
    rcyi_pacer_charge_slow(p, units);
}
/* Whether the current step's budget is spent. */
static inline bool rcyi_pacer_exhausted(const rcyi_pacer_t *p) { return p->in_step && p->step_left <= 0; }
/* Ends the current step's budget now (the step's time is spent): whatever
   credit it did not spend stays in the balance for the next step. */
static inline void rcyi_pacer_step_stop(rcyi_pacer_t *p)
{
    if (p->in_step)
        p->step_left = 0;
}
/* Ends the step: caps the debt at one step. */
RCYI_PACER_FUNC void rcyi_pacer_step_end(rcyi_pacer_t *p);

/* Ends a pass (its totals start again at zero with the next). */
RCYI_PACER_FUNC void rcyi_pacer_end(rcyi_pacer_t *p);

/* The ledger identity (balance == earned - charged - forfeited + forgiven)
   and the bounds of the balance. */
RCYI_PACER_FUNC bool rcyi_pacer_consistent(const rcyi_pacer_t *p);

/* ---- The schedule of passes --------------------------------------------

   When a pass starts and when the backstop finishes one, decided from a
   few numbers the collector gathers at every young collection (pure, so
   that the rules are tested on their own, tests/test_pacing.c):

   - a pass starts when compat mode would run its full collection (the
     generation-2 count past its threshold and the 25 % rule on
     promotions: RCYI_START_COMPAT);
   - or earlier, when the backstop would fire before a pass could end:
     the tracked heap's growth since the last pass ended, extrapolated at
     its rate over the length of a pass (5/4 of the last one's, in young
     collections), would reach the allowed growth, and the count would be
     past its threshold by then (RCYI_START_GROWTH; the rate is measured
     over two generation-1 collections at least);
   - or when the external bytes outstanding grew, or at their rate would
     grow by the end of a recent pass (5/4 of the last one's length), by 1/8 of
     the heap's bytes (tracked and external), counted from what the last
     pass of either kind left: the external bytes at its start less those
     it freed (so that what was charged during a pass counts as growth,
     since the garbage made then waits for the next one). Such a pass is
     a recent one (RCYI_START_RECENT): it examines only the objects
     promoted since the last pass began (and those the last recent pass
     kept), where a program's external garbage is (objects holding buffers
     die young or soon after their promotion), at the cost of those
     objects alone;
   - a full pass when what the recent passes leave (the lower of their
     last two floors) grew, since the last full pass, by 1/4 of the heap's
     bytes (RCYI_START_BYTES): the garbage holding the bytes is older (or
     the bytes are live, and the full pass's floor counts them);
   - which kind of pass (rcyi_sched_recent): one started on external
     bytes is recent (above); one started by compat mode's rule is recent
     too, while fewer than RCYI_SCHED_RECENT_MAX recent passes ran since
     the oldest generation was last examined whole (a full pass or a full
     collection) and the tracked heap grew since by at most half the
     growth the backstop allows (the recent passes keep it down: what
     dies is mostly young); any other is full. Garbage among the mature
     objects so waits at most RCYI_SCHED_RECENT_MAX + 1 passes while the
     heap does not grow, and as soon as it grows (the growth rule, the
     backstop, which always measures from the last full pass's live size)
     the passes are full;
   - the backstop: the tracked heap outgrew the last pass's live size by
     1/4 (RCYI_SCHED_GROWTH_NUM/DEN) plus the young generations' size,
     once compat mode would have collected too (the count past its
     threshold: tracked growth beyond 1/4 implies the 25 % rule, since
     every object of the old generation was promoted); or the external
     bytes outstanding grew, over what the last pass or the last full pass
     left (the lower), by the heap's
     bytes or by what compat mode would let accumulate, whichever is more
     (rcyi_sched_bytes_allowed: the garbage a pass that is running makes
     waits for the next, so while a full pass runs they grow at the
     program's rate; compat mode lets them grow over its whole window of a
     quarter of the survivors in promotions, at the rate the last recent
     pass measured by what it freed). */

#define RCYI_SCHED_GROWTH_NUM 1 /* the growth allowed: 1/4 of the live size (compat's 25 % rule) */
#define RCYI_SCHED_GROWTH_DEN 4
#define RCYI_SCHED_RECENT_MAX 2 /* recent passes at most between two examinations of the whole old generation */

typedef struct rcyi_sched_s {
    /* Compat mode's rule for a full collection. */
    int64_t count, threshold; /* generation 2's count and threshold */
    uint64_t pending, total;  /* promotions since the last collection of the oldest generation, its survivors */
    /* The tracked heap. */
    uint64_t live_last;  /* the old generation's live size after the last pass (or full collection) */
    uint64_t grown;      /* tracked objects more than when it ended (0 when fewer) */
    uint64_t slack;      /* the young generations' size, in objects */
    uint64_t ticks;      /* young collections from its end to when `grown` was measured */
    uint64_t pass_ticks; /* young collections a pass is expected to take */
    uint64_t gen1_every; /* young collections per generation-1 collection (threshold1 + 1, >= 1) */
    /* External bytes. */
    uint64_t ext_now;       /* charged now */
    uint64_t ext_floor;     /* what the last pass (of either kind, or full collection) left: the bytes at its
                               start less those it freed */
    uint64_t floor_ticks;   /* young collections since that pass started */
    uint64_t ext_full;      /* ... what the last full pass (or full collection) left */
    uint64_t ext_settled;   /* the lower of the last two floors (one pass's also counts the garbage made
                               during it, which the next frees) */
    uint64_t bytes_per_obj; /* the heap's bytes per object (> 0) */
    uint64_t ext_per_promotion_fp; /* external bytes the last recent pass freed per object promoted in the
                                      window it examined, 8 fixed-point bits (0: none yet) */
    uint64_t recent_ticks;  /* young collections a recent pass is expected to take */
    /* The kind of pass. */
    uint64_t recent_in_row; /* recent passes completed since the last full pass or full collection */
} rcyi_sched_t;

enum { RCYI_START_NO = 0, RCYI_START_COMPAT, RCYI_START_GROWTH, RCYI_START_BYTES, RCYI_START_RECENT };


/* The growth of the external bytes the backstop allows. */
RCYI_PACER_FUNC uint64_t rcyi_sched_bytes_allowed(const rcyi_sched_t *s);
/* The growth of the tracked heap the backstop allows, in objects. */
RCYI_PACER_FUNC uint64_t rcyi_sched_allowed(const rcyi_sched_t *s);
/* Whether a pass should start now (RCYI_START_NO: not yet), and why. */
RCYI_PACER_FUNC int rcyi_sched_start(const rcyi_sched_t *s);
/* Whether a pass that starts now for `why` (rcyi_sched_start's answer)
   is a recent one: always for RCYI_START_RECENT; for RCYI_START_COMPAT
   while recent_in_row < RCYI_SCHED_RECENT_MAX and grown is at most half of
   rcyi_sched_allowed; never otherwise. */
RCYI_PACER_FUNC bool rcyi_sched_recent(const rcyi_sched_t *s, int why);
/* Whether the backstop must finish the pass now. */
RCYI_PACER_FUNC bool rcyi_sched_backstop(const rcyi_sched_t *s);

#endif /* RCY_PACING_H */
