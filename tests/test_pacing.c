/*
 * The accountant of the incremental old generation (src/pacing.c) on its
 * own: credit from promotions and bytes without drift, work charged once,
 * debt capped at one step, the bank cap; and the schedule of passes (when
 * one starts, when the backstop finishes one).
 * (An internal unit: this test includes src/pacing.h; it creates no
 * runtime, so it has no live objects to end with.)
 */
#include "harness.h"

#include "../src/pacing.h"

#include <stdint.h>

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

TEST(test_no_credit_outside_a_pass)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 1000, 10, 64);
    rcyi_pacer_promoted(&p, 500);
    rcyi_pacer_bytes(&p, 1 << 20);
    rcyi_pacer_tick(&p);
    CHECK_EQ(p.balance, 0);
    CHECK_EQ(p.earned, 0);
    CHECK(!rcyi_pacer_step_begin(&p));
    CHECK(rcyi_pacer_consistent(&p));
}

/* k = work / promotions: a pass of 8,000 units paced over 1,000 promotions
   earns 8 per promoted object, and exactly 8,000 over the 1,000 however
   they are split. */
TEST(test_credit_from_promotions_has_no_drift)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 1 << 30, 0, 64);
    rcyi_pacer_begin(&p, 8000, 1000);
    for (int i = 0; i < 1000; i++)
        rcyi_pacer_promoted(&p, 1);
    CHECK_EQ(p.earned, 8000);
    CHECK_EQ(p.balance, 8000);

    /* A k that does not divide evenly: 1,000 units over 3 promotions is
       334 each (rounded up once, at begin); split any way, the credit is
       the same as in one call. */
    rcyi_pacer_t a, b;
    rcyi_pacer_init(&a, 1 << 30, 0, 64);
    rcyi_pacer_init(&b, 1 << 30, 0, 64);
    rcyi_pacer_begin(&a, 1000, 3);
    rcyi_pacer_begin(&b, 1000, 3);
    uint64_t total = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t n = rnd() % 7;
        rcyi_pacer_promoted(&a, n);
        total += n;
    }
    rcyi_pacer_promoted(&b, total);
    CHECK_EQ(a.earned, b.earned);
    CHECK_EQ(a.earned, (total * ((1000ull << RCYI_PACER_FP) + 2) / 3) >> RCYI_PACER_FP);
    CHECK(rcyi_pacer_consistent(&a));
    CHECK(rcyi_pacer_consistent(&b));
}

/* Bytes: bytes_per_obj bytes are worth one promoted object, and fractions
   of it add up exactly across calls. */
TEST(test_credit_from_bytes_has_no_drift)
{
    rcyi_pacer_t p, q;
    rcyi_pacer_init(&p, 1 << 30, 0, 100);
    rcyi_pacer_init(&q, 1 << 30, 0, 100);
    rcyi_pacer_begin(&p, 5000, 1000); /* k = 5 */
    rcyi_pacer_begin(&q, 5000, 1000);
    for (int i = 0; i < 100000; i++)
        rcyi_pacer_bytes(&p, 7); /* 700,000 bytes = 7,000 objects' worth */
    rcyi_pacer_bytes(&q, 700000);
    CHECK_EQ(p.earned, 35000);
    CHECK_EQ(q.earned, 35000);
    CHECK(rcyi_pacer_consistent(&p));
}

TEST(test_trickle)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 1000, 16, 64);
    rcyi_pacer_begin(&p, 1000000, 1000);
    for (int i = 0; i < 10; i++)
        rcyi_pacer_tick(&p);
    CHECK_EQ(p.earned, 160);
    CHECK(rcyi_pacer_consistent(&p));
}

/* A step's budget is min(balance, step_max); the work of the object in
   which it ran out leaves a debt, capped at one step: the rest is forgiven
   and counted. */
TEST(test_step_budget_and_debt_cap)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 100, 0, 64);
    rcyi_pacer_begin(&p, 1000, 10); /* k = 100 */
    rcyi_pacer_promoted(&p, 3);     /* 300 */
    CHECK(rcyi_pacer_step_begin(&p));
    CHECK_EQ(p.step_left, 100);
    CHECK(!rcyi_pacer_step_begin(&p)); /* steps do not nest */
    rcyi_pacer_charge(&p, 60);
    CHECK(!rcyi_pacer_exhausted(&p));
    rcyi_pacer_charge(&p, 60);
    CHECK(rcyi_pacer_exhausted(&p));
    rcyi_pacer_step_end(&p);
    CHECK_EQ(p.balance, 180);
    CHECK(rcyi_pacer_consistent(&p));

    /* One object with a million edges: charged whole, the debt beyond one
       step forgiven. */
    CHECK(rcyi_pacer_step_begin(&p));
    CHECK_EQ(p.step_left, 100);
    rcyi_pacer_charge(&p, 1000000);
    CHECK(rcyi_pacer_exhausted(&p));
    rcyi_pacer_step_end(&p);
    CHECK_EQ(p.balance, -100);
    CHECK_EQ(p.forgiven, 1000000 - 180 - 100);
    CHECK_EQ(p.charged, 1000120);
    CHECK(rcyi_pacer_consistent(&p));
    CHECK(!rcyi_pacer_step_begin(&p)); /* in debt: no step */
    /* The debt is paid by credit before the next step. */
    rcyi_pacer_promoted(&p, 1);
    CHECK_EQ(p.balance, 0);
    CHECK(!rcyi_pacer_step_begin(&p));
    rcyi_pacer_promoted(&p, 1);
    CHECK(rcyi_pacer_step_begin(&p));
    rcyi_pacer_step_end(&p);
    CHECK(rcyi_pacer_consistent(&p));
}

/* An idle step's budget is the caller's, not the balance's: it runs in
   debt, its work is charged once, and when it ends the debt is capped at
   one step as any step's (the rest forgiven and counted), so that credit
   pays one step back before the next paced step. */
TEST(test_idle_step)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 100, 0, 64);
    rcyi_pacer_begin(&p, 1000, 10); /* k = 100 */
    CHECK(!rcyi_pacer_step_begin(&p)); /* no credit: no paced step */
    CHECK(rcyi_pacer_idle_begin(&p, 5000));
    CHECK_EQ(p.step_left, 5000);
    CHECK(!rcyi_pacer_idle_begin(&p, 10)); /* steps do not nest */
    CHECK(!rcyi_pacer_step_begin(&p));
    for (int i = 0; i < 49; i++)
        rcyi_pacer_charge(&p, 100);
    CHECK(!rcyi_pacer_exhausted(&p));
    rcyi_pacer_charge(&p, 100);
    CHECK(rcyi_pacer_exhausted(&p));
    CHECK_EQ(p.balance, -5000); /* in debt while it runs */
    rcyi_pacer_step_end(&p);
    CHECK_EQ(p.balance, -100);
    CHECK_EQ(p.charged, 5000);
    CHECK_EQ(p.forgiven, 4900);
    CHECK_EQ(p.pass_work, 5000);
    CHECK_EQ(p.steps, 1);
    CHECK(rcyi_pacer_consistent(&p));
    /* One promotion pays the step's debt back, the next earns a step. */
    rcyi_pacer_promoted(&p, 1);
    CHECK_EQ(p.balance, 0);
    CHECK(!rcyi_pacer_step_begin(&p));
    rcyi_pacer_promoted(&p, 1);
    CHECK(rcyi_pacer_step_begin(&p));
    CHECK_EQ(p.step_left, 100);
    rcyi_pacer_step_end(&p);
    /* With credit banked, an idle step spends it first: no debt forgiven. */
    rcyi_pacer_promoted(&p, 10); /* 1,000 more */
    CHECK(rcyi_pacer_idle_begin(&p, 0)); /* a budget below 1 is 1 */
    CHECK_EQ(p.step_left, 1);
    rcyi_pacer_charge(&p, 300);
    rcyi_pacer_step_end(&p);
    CHECK_EQ(p.balance, 800);
    CHECK_EQ(p.forgiven, 4900);
    CHECK(rcyi_pacer_consistent(&p));
}

/* Credit beyond RCYI_PACER_BANK steps is forfeited and counted. */
/* A step stopped before its budget is spent (its time is up:
   rcyi_pacer_step_stop) is exhausted at once and keeps the credit it did
   not spend for the next step; the ledger balances. */
TEST(test_step_stop_keeps_credit)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 1000, 0, 64);
    rcyi_pacer_begin(&p, 5000, 1000);
    rcyi_pacer_promoted(&p, 1000); /* 5,000 units of credit */
    CHECK(rcyi_pacer_step_begin(&p));
    CHECK_EQ(p.step_left, 1000);
    rcyi_pacer_charge(&p, 300);
    CHECK(!rcyi_pacer_exhausted(&p));
    rcyi_pacer_step_stop(&p);
    CHECK(rcyi_pacer_exhausted(&p));
    rcyi_pacer_step_end(&p);
    CHECK_EQ(p.balance, 4700);
    CHECK_EQ(p.forgiven, 0);
    CHECK(rcyi_pacer_consistent(&p));
    /* The next step has a whole budget again. */
    CHECK(rcyi_pacer_step_begin(&p));
    CHECK_EQ(p.step_left, 1000);
    rcyi_pacer_step_end(&p);
    /* Outside a step it does nothing. */
    rcyi_pacer_step_stop(&p);
    CHECK(!rcyi_pacer_exhausted(&p));
    CHECK(rcyi_pacer_consistent(&p));
}

TEST(test_bank_cap)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 10, 0, 64);
    rcyi_pacer_begin(&p, 1000, 1); /* k = 1000 */
    rcyi_pacer_promoted(&p, 1);
    CHECK_EQ(p.balance, 10 * RCYI_PACER_BANK);
    CHECK_EQ(p.forfeited, 1000 - 10 * RCYI_PACER_BANK);
    CHECK(rcyi_pacer_consistent(&p));
}

/* Work charged outside a step (a synchronous finish) is counted, and the
   debt it leaves is capped at once. */
TEST(test_charge_outside_a_step)
{
    rcyi_pacer_t p;
    rcyi_pacer_init(&p, 50, 0, 64);
    rcyi_pacer_charge(&p, 10);
    CHECK_EQ(p.balance, -10);
    rcyi_pacer_charge(&p, 1000);
    CHECK_EQ(p.balance, -50);
    CHECK_EQ(p.charged, 1010);
    CHECK_EQ(p.forgiven, 960);
    CHECK(rcyi_pacer_consistent(&p));
}

/* Random sequences of every operation keep the ledger identity and the
   bounds; the work charged is exactly the sum of the charges (nothing
   counted twice, nothing lost), and the credit exactly k times the
   promotions over the passes. */
TEST(test_random_ledger)
{
    for (int round = 0; round < 200; round++) {
        rcyi_pacer_t p;
        int64_t step = 1 + (int64_t)(rnd() % 5000);
        rcyi_pacer_init(&p, step, (int64_t)(rnd() % 50), 1 + rnd() % 256);
        uint64_t charged = 0, expected_credit = 0, promoted = 0, work = 0, proms = 0;
        bool in_pass = false;
        for (int op = 0; op < 2000; op++) {
            switch (rnd() % 8) {
            case 0:
                if (in_pass)
                    expected_credit += (promoted * p.k_fp) >> RCYI_PACER_FP;
                work = rnd() % 10000000;
                proms = 1 + rnd() % 100000;
                rcyi_pacer_begin(&p, work, proms);
                promoted = 0;
                in_pass = true;
                break;
            case 1:
            case 2: {
                uint64_t n = rnd() % 3000;
                rcyi_pacer_promoted(&p, n);
                if (in_pass)
                    promoted += n;
                break;
            }
            case 3:
                if (rcyi_pacer_step_begin(&p)) {
                    int64_t budget = p.step_left;
                    CHECK(budget >= 1 && budget <= step);
                    while (!rcyi_pacer_exhausted(&p)) {
                        uint64_t u = 1 + rnd() % 40;
                        rcyi_pacer_charge(&p, u);
                        charged += u;
                    }
                    rcyi_pacer_step_end(&p);
                }
                break;
            case 4: {
                uint64_t u = rnd() % 100;
                rcyi_pacer_charge(&p, u);
                charged += u;
                break;
            }
            case 5:
                if (in_pass)
                    expected_credit += (promoted * p.k_fp) >> RCYI_PACER_FP;
                rcyi_pacer_end(&p);
                promoted = 0;
                in_pass = false;
                break;
            default:
                break;
            }
            if (!rcyi_pacer_consistent(&p)) {
                CHECK(rcyi_pacer_consistent(&p));
                return;
            }
        }
        if (in_pass)
            expected_credit += (promoted * p.k_fp) >> RCYI_PACER_FP;
        CHECK_EQ(p.charged, charged);
        CHECK_EQ(p.earned, expected_credit);
    }
}

/* The schedule's numbers of a heap of 1,000,000 live old objects after
   the last pass, young generations of 7,700, 64 bytes an object. */
static rcyi_sched_t sched_base(void)
{
    rcyi_sched_t s = {0};
    s.count = 5;
    s.threshold = 10;
    s.total = 1000000;
    s.live_last = 1000000;
    s.slack = 7700;
    s.ticks = 100;
    s.pass_ticks = 100;
    s.gen1_every = 11;
    s.bytes_per_obj = 64;
    return s;
}

/* A pass starts when compat mode would collect: the count past its
   threshold and the 25 % rule on promotions, both. */
TEST(test_start_as_compat_mode_collects)
{
    rcyi_sched_t s = sched_base();
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    s.pending = 250000; /* the 25 % rule met, the count not */
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    s.count = 11;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_COMPAT);
    s.pending = 249999; /* the count past, the 25 % rule not */
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* Promotions alone never fire the backstop: it is the tracked heap's
       growth (most promoted objects may have died since). */
    s.pending = 10000000;
    CHECK(!rcyi_sched_backstop(&s));
}

/* Earlier when the tracked heap's growth, at its rate so far, would reach
   the backstop (257,700: a quarter of the live size and the slack)
   within 5/4 of a pass. */
TEST(test_start_on_extrapolated_growth)
{
    rcyi_sched_t s = sched_base();
    CHECK_EQ(rcyi_sched_allowed(&s), 257700);
    /* 1,000 a young collection over 100: 100,000 + 125 * 1,000 < 257,700. */
    s.grown = 100000;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* ... a pass of 126: 100,000 + 157.5 * 1,000 < 257,700 still. */
    s.pass_ticks = 126;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* ... of 127: 100,000 + 158.75 * 1,000 >= 257,700. */
    s.pass_ticks = 127;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_GROWTH);
    /* Half the rate: not yet. */
    s.ticks = 200;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* Growth past the limit starts one at once, whatever the rate; the
       backstop waits for compat mode's count. */
    s.grown = 257701;
    s.ticks = 1000000;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_GROWTH);
    CHECK(!rcyi_sched_backstop(&s));
    s.count = 11;
    CHECK(rcyi_sched_backstop(&s));
    s.grown = 257700;
    CHECK(!rcyi_sched_backstop(&s));
    /* Short passes: the backstop cannot fire before the count passes its
       threshold, so a pass that ends within the next generation-1
       collections need not start yet. */
    s.count = 5;
    s.pass_ticks = 10;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    s.count = 9;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_GROWTH);
    /* No growth (the heap shrank): nothing. */
    s.grown = 0;
    s.ticks = 0;
    s.count = 5;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* Saturation instead of overflow. */
    s.live_last = UINT64_MAX;
    s.slack = UINT64_MAX;
    s.grown = UINT64_MAX;
    s.ticks = 1;
    CHECK(!rcyi_sched_backstop(&s));
}

/* External bytes: a pass starts when the bytes outstanding grew over what
   the last pass left (the floor) by an eighth of the heap's bytes (its
   objects' and the floor: 64,001,000 here) and 64 KiB, or would at their
   rate since that pass started within 5/4 of the pass to start: a recent
   one (over the objects promoted since the last pass began). */
TEST(test_external_bytes_start_a_recent_pass)
{
    rcyi_sched_t s = sched_base();
    s.ext_floor = s.ext_full = 1000;
    s.recent_ticks = 100;
    s.ext_now = 1000 + 64001000 / 8 + 65536;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    s.ext_now++;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_RECENT);
    /* 4,000,000 over 100 young collections: 9,000,000 by the end of a
       recent pass (125 more), past 8,065,661. */
    s.ext_now = 1000 + 4000000;
    s.floor_ticks = 100;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_RECENT);
    s.floor_ticks = 200; /* at half the rate: 6,500,000 */
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* A recent pass of 10 young collections: 4,500,000, not yet (a full
       pass's length, pass_ticks, does not count). */
    s.floor_ticks = 100;
    s.recent_ticks = 10;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* Compat mode's rule comes first. */
    s.count = 11;
    s.pending = 250000;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_COMPAT);
    s.count = 5;
    s.pending = 0;
    /* Released bytes (below the floor): nothing. */
    s.ext_now = 10;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    CHECK(!rcyi_sched_backstop(&s));
}

/* The kind of pass: on external bytes, recent; on compat mode's rule,
   recent while fewer than RCYI_SCHED_RECENT_MAX recent passes ran since
   the whole old generation was examined and the heap grew by at most half
   the backstop's allowance (257,700 here: 128,850); otherwise full. */
TEST(test_recent_or_full_pass)
{
    rcyi_sched_t s = sched_base();
    CHECK(rcyi_sched_recent(&s, RCYI_START_COMPAT));
    CHECK(rcyi_sched_recent(&s, RCYI_START_RECENT));
    CHECK(!rcyi_sched_recent(&s, RCYI_START_GROWTH));
    CHECK(!rcyi_sched_recent(&s, RCYI_START_BYTES));
    s.recent_in_row = RCYI_SCHED_RECENT_MAX - 1;
    CHECK(rcyi_sched_recent(&s, RCYI_START_COMPAT));
    s.recent_in_row = RCYI_SCHED_RECENT_MAX;
    CHECK(!rcyi_sched_recent(&s, RCYI_START_COMPAT));
    CHECK(rcyi_sched_recent(&s, RCYI_START_RECENT)); /* bytes: their own rules (the floors) */
    s.recent_in_row = 0;
    s.grown = 128850;
    CHECK(rcyi_sched_recent(&s, RCYI_START_COMPAT));
    s.grown = 128851;
    CHECK(!rcyi_sched_recent(&s, RCYI_START_COMPAT));
    /* (Growth that far also starts passes early: RCYI_START_GROWTH, full.) */
    CHECK(!rcyi_sched_recent(&s, RCYI_START_NO));
}

/* What the recent passes leave (the lower of their last two floors: one
   pass's counts the garbage made during it) grew over what the last full
   pass left by a quarter of the heap's bytes: older garbage, or live
   bytes: a full pass, whatever the bytes outstanding now. */
TEST(test_external_bytes_floor_rise_starts_a_full_pass)
{
    rcyi_sched_t s = sched_base();
    s.ext_full = 0;
    s.recent_ticks = 10;
    /* Heap bytes 64,000,000 + floor (20,000,000): 21,000,000 + 65,536. */
    s.ext_floor = s.ext_now = 20000000;
    s.ext_settled = 21065536;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    s.ext_settled++;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_BYTES);
    s.ext_full = 1;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
    /* One floor alone that high: not yet (the settled one is lower). */
    s.ext_full = 0;
    s.ext_floor = s.ext_now = 30000000;
    s.ext_settled = 1000;
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_NO);
}

/* The backstop: the bytes outstanding over the lower floor grew by the
   heap's bytes and the slack's worth (64,001,000 + 492,800), or by what
   compat mode would let accumulate if more: the bytes per promotion the
   last recent pass freed, over a quarter of the old generation in
   promotions (250,000 here); whatever the count. */
TEST(test_external_bytes_backstop)
{
    rcyi_sched_t s = sched_base();
    s.ext_floor = s.ext_full = 1000;
    CHECK_EQ(rcyi_sched_bytes_allowed(&s), 64001000 + 492800);
    s.ext_now = 1000 + 64001000 + 492800;
    CHECK(!rcyi_sched_backstop(&s));
    s.ext_now++;
    CHECK(rcyi_sched_backstop(&s));
    /* (A recent pass starts, and the backstop then finishes it at once.) */
    CHECK_EQ(rcyi_sched_start(&s), RCYI_START_RECENT);
    /* From the lower floor: recent passes left more than the full pass
       (the heap's bytes count the last pass's floor: 66,000,000). */
    s.ext_floor = 2000000;
    s.ext_now = 1000 + 66000000 + 492800;
    CHECK(!rcyi_sched_backstop(&s));
    s.ext_now++;
    CHECK(rcyi_sched_backstop(&s));
    s.ext_full = 2000000;
    CHECK(!rcyi_sched_backstop(&s));
    /* 300 bytes freed per promotion: compat mode would let 75,000,000
       accumulate, more than the heap's bytes. */
    s.ext_floor = s.ext_full = 1000;
    s.ext_per_promotion_fp = 300 << 8;
    CHECK_EQ(rcyi_sched_bytes_allowed(&s), 75000000 + 492800);
    s.ext_now = 1000 + 75000000 + 492800;
    CHECK(!rcyi_sched_backstop(&s));
    s.ext_now++;
    CHECK(rcyi_sched_backstop(&s));
    /* ... 200 bytes: 50,000,000, less than the heap's: the heap's. */
    s.ext_per_promotion_fp = 200 << 8;
    CHECK_EQ(rcyi_sched_bytes_allowed(&s), 64001000 + 492800);
    /* Saturation instead of overflow. */
    s.ext_per_promotion_fp = UINT64_MAX;
    s.total = UINT64_MAX;
    CHECK_EQ(rcyi_sched_bytes_allowed(&s), UINT64_MAX);
    CHECK(!rcyi_sched_backstop(&s));
}

int main(void)
{
    RUN(test_no_credit_outside_a_pass);
    RUN(test_credit_from_promotions_has_no_drift);
    RUN(test_credit_from_bytes_has_no_drift);
    RUN(test_trickle);
    RUN(test_step_budget_and_debt_cap);
    RUN(test_idle_step);
    RUN(test_bank_cap);
    RUN(test_step_stop_keeps_credit);
    RUN(test_charge_outside_a_step);
    RUN(test_random_ledger);
    RUN(test_start_as_compat_mode_collects);
    RUN(test_start_on_extrapolated_growth);
    RUN(test_external_bytes_start_a_recent_pass);
    RUN(test_recent_or_full_pass);
    RUN(test_external_bytes_floor_rise_starts_a_full_pass);
    RUN(test_external_bytes_backstop);
    return harness_summary();
}
