/*
 * The accountant of the incremental old generation: see pacing.h.
 */
#include "pacing.h"

#define K_MIN ((uint64_t)1 << RCYI_PACER_FP)          /* one unit per promoted object */
#define K_MAX ((uint64_t)65536 << RCYI_PACER_FP)      /* 65,536 units per promoted object */
#define UNITS_MAX ((uint64_t)INT64_MAX / 4)            /* one charge, at most */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static int64_t bank_cap(const rcyi_pacer_t *p) { return p->step_max * RCYI_PACER_BANK; }

void rcyi_pacer_init(rcyi_pacer_t *p, int64_t step_max, int64_t trickle, uint64_t bytes_per_obj)
{
    *p = (rcyi_pacer_t){0};
    /* Bounded so that a bank of RCYI_PACER_BANK steps and a debt of one
       step fit in an int64_t whatever is charged. */
    if (step_max < 1)
        step_max = 1;
    if (step_max > INT64_MAX / (4 * RCYI_PACER_BANK))
        step_max = INT64_MAX / (4 * RCYI_PACER_BANK);
    p->step_max = step_max;
    p->trickle = trickle < 0 ? 0 : trickle > step_max ? step_max : trickle;
    p->bytes_per_obj = bytes_per_obj == 0 ? 1 : bytes_per_obj;
}

/* Adds d units of credit to the balance, forfeiting what exceeds the bank. */
static void grant(rcyi_pacer_t *p, uint64_t d)
{
    p->earned += d;
    uint64_t room = (uint64_t)(bank_cap(p) - p->balance); /* balance <= cap always */
    if (d > room) {
        p->forfeited += d - room;
        p->balance = bank_cap(p);
    } else {
        p->balance += (int64_t)d;
    }
}

/* The pass's credit from its running totals, granted by difference: the
   rounding of k * n is done once on the totals, never per call, so that
   credit neither drifts up nor down however the promotions arrive. */
static void credit(rcyi_pacer_t *p)
{
    if (p->k_fp == 0)
        return; /* no pass */
    uint64_t bpo = p->bytes_per_obj;
    uint64_t bytes_fp = sat_add(sat_mul(p->bytes / bpo, p->k_fp), sat_mul(p->bytes % bpo, p->k_fp) / bpo);
    uint64_t t = sat_add(sat_mul(p->promoted, p->k_fp), bytes_fp) >> RCYI_PACER_FP;
    t = sat_add(t, sat_mul(p->ticks, (uint64_t)p->trickle));
    if (t > p->credited) {
        grant(p, t - p->credited);
        p->credited = t;
    }
}

void rcyi_pacer_begin(rcyi_pacer_t *p, uint64_t work, uint64_t promotions)
{
    if (promotions == 0)
        promotions = 1;
    /* k = work / promotions, rounded up, in fixed point. */
    uint64_t k;
    if (work > (UINT64_MAX >> RCYI_PACER_FP))
        k = K_MAX;
    else
        k = ((work << RCYI_PACER_FP) + promotions - 1) / promotions;
    p->k_fp = k < K_MIN ? K_MIN : k > K_MAX ? K_MAX : k;
    p->promoted = p->bytes = p->ticks = p->credited = p->pass_work = 0;
}

void rcyi_pacer_promoted(rcyi_pacer_t *p, uint64_t n)
{
    if (p->k_fp == 0)
        return;
    p->promoted = sat_add(p->promoted, n);
    credit(p);
}

void rcyi_pacer_bytes(rcyi_pacer_t *p, uint64_t bytes)
{
    if (p->k_fp == 0)
        return;
    p->bytes = sat_add(p->bytes, bytes);
    credit(p);
}

void rcyi_pacer_tick(rcyi_pacer_t *p)
{
    if (p->k_fp == 0)
        return;
    p->ticks = sat_add(p->ticks, 1);
    credit(p);
}

bool rcyi_pacer_step_begin(rcyi_pacer_t *p)
{
    if (p->in_step || p->balance <= 0)
        return false;
    p->step_left = p->balance < p->step_max ? p->balance : p->step_max;
    p->in_step = true;
    p->steps++;
    return true;
}

bool rcyi_pacer_idle_begin(rcyi_pacer_t *p, int64_t budget)
{
    if (p->in_step)
        return false;
    p->step_left = budget < 1 ? 1 : budget;
    p->in_step = true;
    p->steps++;
    return true;
}

/* Debt beyond one step is forgiven (and counted). */
static void cap_debt(rcyi_pacer_t *p)
{
    if (p->balance < -p->step_max) {
        p->forgiven += (uint64_t)(-p->step_max - p->balance);
        p->balance = -p->step_max;
    }
}

void rcyi_pacer_charge_slow(rcyi_pacer_t *p, uint64_t units)
{
    /* A single charge is at most UNITS_MAX: beyond, the excess is charged
       and forgiven at once, so that the balance never overflows. */
    if (units > UNITS_MAX) {
        p->charged += units - UNITS_MAX;
        p->pass_work = sat_add(p->pass_work, units - UNITS_MAX);
        p->forgiven += units - UNITS_MAX;
        units = UNITS_MAX;
    }
    p->charged += units;
    p->pass_work = sat_add(p->pass_work, units);
    p->balance -= (int64_t)units;
    if (p->in_step)
        p->step_left -= (int64_t)units;
    else
        cap_debt(p);
    if (p->balance < -(int64_t)UNITS_MAX) /* a step's worth of large charges: keep it in range */
        cap_debt(p);
}

void rcyi_pacer_step_end(rcyi_pacer_t *p)
{
    p->in_step = false;
    p->step_left = 0;
    cap_debt(p);
}

void rcyi_pacer_end(rcyi_pacer_t *p)
{
    p->k_fp = 0;
    p->promoted = p->bytes = p->ticks = p->credited = 0;
}

/* base * num / den, saturated, without overflow in the product. */
static uint64_t fraction(uint64_t base, uint64_t num, uint64_t den)
{
    if (den == 0)
        den = 1;
    return sat_add(sat_mul(base / den, num), (base % den) * num / den);
}

/* ---- The schedule ------------------------------------------------------ */

uint64_t rcyi_sched_allowed(const rcyi_sched_t *s)
{
    return sat_add(fraction(s->live_last, RCYI_SCHED_GROWTH_NUM, RCYI_SCHED_GROWTH_DEN), s->slack);
}

/* The heap's bytes: the old generation's at the last full pass, and the
   external bytes the last pass left. */
static uint64_t heap_bytes(const rcyi_sched_t *s)
{
    uint64_t bpo = s->bytes_per_obj == 0 ? 1 : s->bytes_per_obj;
    return sat_add(sat_mul(s->live_last, bpo), s->ext_floor);
}

uint64_t rcyi_sched_bytes_allowed(const rcyi_sched_t *s)
{
    /* The external bytes may double the heap's bytes, or grow by what
       compat mode (which bounds them only through its 25 % rule on
       promotions) would let accumulate: the bytes per promotion the last
       recent pass freed, over compat mode's window. */
    uint64_t bpo = s->bytes_per_obj == 0 ? 1 : s->bytes_per_obj;
    uint64_t base = heap_bytes(s);
    uint64_t compat = sat_mul(s->total / 4, s->ext_per_promotion_fp) >> 8;
    if (s->ext_per_promotion_fp > 0 && s->total / 4 > UINT64_MAX / s->ext_per_promotion_fp)
        compat = UINT64_MAX;
    return sat_add(base > compat ? base : compat, sat_mul(s->slack, bpo));
}

static bool bytes_backstop(const rcyi_sched_t *s)
{
    /* (From the lower of the two floors: a recent pass's leaves older
       garbage behind.) */
    uint64_t floor = s->ext_floor < s->ext_full ? s->ext_floor : s->ext_full;
    return s->ext_now > floor && s->ext_now - floor > rcyi_sched_bytes_allowed(s);
}

int rcyi_sched_start(const rcyi_sched_t *s)
{
    if (s->count > s->threshold && s->pending >= s->total / 4)
        return RCYI_START_COMPAT;
    /* The growth so far at its rate so far, over 5/4 of a pass: would it
       reach the backstop before the pass ends? (In doubles: a ratio of
       counts, no overflow, and exactness does not matter here.) */
    uint64_t allowed = rcyi_sched_allowed(s);
    double ahead = 1.25 * (double)s->pass_ticks;
    /* The backstop waits for the count too (one more a generation-1
       collection): no earlier start than it needs. */
    double every = s->gen1_every > 0 ? (double)s->gen1_every : 1.0;
    bool counted = (double)s->count + ahead / every > (double)s->threshold;
    /* (A rate over two generation-1 collections at least: promotions
       come in bursts, most of them dying soon after.) */
    if (counted && s->grown > 0 && s->ticks > 0 && (double)s->ticks >= 2.0 * every) {
        double rate = (double)s->grown / (double)s->ticks;
        if ((double)s->grown + rate * ahead >= (double)allowed)
            return RCYI_START_GROWTH;
    }
    if (counted && s->grown > allowed)
        return RCYI_START_GROWTH;
    /* External bytes over what the last pass left, at their rate since it
       started, by the end of a recent pass. */
    uint64_t base = heap_bytes(s);
    /* What recent passes leave grew by a quarter since the last full pass:
       older garbage (or live bytes, which a full pass then counts in its
       floor). */
    if (s->ext_settled > s->ext_full && s->ext_settled - s->ext_full > base / 4 + 65536)
        return RCYI_START_BYTES;
    if (s->ext_now > s->ext_floor) {
        double bytes = (double)(s->ext_now - s->ext_floor);
        double len = 1.25 * (double)s->recent_ticks;
        if (s->floor_ticks > 0)
            bytes += bytes / (double)s->floor_ticks * len;
        if (bytes > (double)(base / 8 + 65536))
            return RCYI_START_RECENT;
    }
    return bytes_backstop(s) ? RCYI_START_BYTES : RCYI_START_NO;
}


bool rcyi_sched_recent(const rcyi_sched_t *s, int why)
{
    if (why == RCYI_START_RECENT)
        return true;
    if (why != RCYI_START_COMPAT || s->recent_in_row >= RCYI_SCHED_RECENT_MAX)
        return false;
    return s->grown <= rcyi_sched_allowed(s) / 2;
}

bool rcyi_sched_backstop(const rcyi_sched_t *s)
{
    return bytes_backstop(s) || (s->count > s->threshold && s->grown > rcyi_sched_allowed(s));
}

bool rcyi_pacer_consistent(const rcyi_pacer_t *p)
{
    uint64_t expect = p->earned - p->charged - p->forfeited + p->forgiven; /* modulo 2^64 */
    if ((uint64_t)p->balance != expect)
        return false;
    if (p->balance > bank_cap(p))
        return false;
    if (!p->in_step && p->balance < -p->step_max)
        return false;
    return true;
}
