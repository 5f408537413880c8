/*
 * Stable object ids and allocation sites: the side table of heaptools.h.
 *
 * Sites come from the allocation macros of recycle.h (RCY_TRACE_SITES:
 * rcy_list_new(rt) becomes rcy_record_site(rcy_list_new(rt), __FILE__,
 * __LINE__)), optionally with a backtrace from a hook, optionally sampled
 * (1 in N). Each distinct (file, line, frames) is interned once with its
 * census (live objects and bytes, allocations recorded), so a census by
 * site costs O(sites), as the census by type costs O(types). Ids are
 * serial numbers from 1, given by the snapshots, the dump and
 * rcy_object_id; an id lives exactly as long as its object.
 *
 * Nothing here runs unless asked: without RCY_TRACE_SITES the macros do not
 * exist, and a type's on_death slot is wrapped only once one of its objects
 * has an entry (docs/design.md, "Allocation sites and object ids").
 */
#include "heaptools.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

/* ---- The table --------------------------------------------------------- */

static void trace_forget(rcy_object_t *o);

rcyi_trace_t *rcyi_trace_get(rcy_runtime_t *rt)
{
    if (rt->trace != NULL)
        return rt->trace;
    rcyi_trace_t *t = rcyi_malloc(rt, sizeof *t);
    if (t == NULL)
        return NULL;
    memset(t, 0, sizeof *t);
    t->next_id = 1;
    t->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)rt;
    rt->trace = t;
    rt->trace_forget = trace_forget;
    return t;
}

static void free_sites(rcy_runtime_t *rt, rcyi_trace_t *t)
{
    for (uint32_t i = 0; i < t->n_sites; i++) {
        rcyi_free(rt, t->sites[i].frames);
        rcyi_free(rt, t->sites[i].name);
    }
    rcyi_free(rt, t->sites);
    rcyi_free(rt, t->site_map);
    t->sites = NULL;
    t->site_map = NULL;
    t->n_sites = t->cap_sites = 0;
    t->site_mask = 0;
}

void rcyi_trace_fini(rcy_runtime_t *rt)
{
    rcyi_trace_t *t = rt->trace;
    if (t == NULL)
        return;
    rt->trace = NULL; /* the wrappers forward from now on */
    rt->trace_forget = NULL;
    free_sites(rt, t);
    rcyi_free(rt, t->map);
    rcyi_free(rt, t);
}

static rcyi_trace_entry_t *find_entry(const rcyi_trace_t *t, const rcy_object_t *o)
{
    if (t == NULL || t->map == NULL)
        return NULL;
    for (size_t i = hash_ptr(o) & t->mask;; i = (i + 1) & t->mask) {
        rcyi_trace_entry_t *e = &t->map[i];
        if (e->obj == o)
            return e;
        if (e->obj == NULL)
            return NULL;
    }
}

static int map_grow(rcy_runtime_t *rt, rcyi_trace_t *t)
{
    size_t cap = t->map ? (t->mask + 1) * 2 : 1024;
    rcyi_trace_entry_t *map = rcyi_malloc_array(rt, cap, sizeof *map);
    if (map == NULL)
        return RCY_ENOMEM;
    memset(map, 0, cap * sizeof *map);
    if (t->map != NULL) {
        for (size_t k = 0; k <= t->mask; k++) {
            if (t->map[k].obj == NULL)
                continue;
            size_t i = hash_ptr(t->map[k].obj) & (cap - 1);
            while (map[i].obj != NULL)
                i = (i + 1) & (cap - 1);
            map[i] = t->map[k];
        }
    }
    rcyi_free(rt, t->map);
    t->map = map;
    t->mask = cap - 1;
    return 0;
}

static void on_death_traced(rcy_object_t *o);

/* The entry of o, added (empty) if new; its type's slot wrapped. */
static rcyi_trace_entry_t *add_entry(rcy_runtime_t *rt, rcyi_trace_t *t, const rcy_object_t *o)
{
    rcyi_trace_entry_t *e = find_entry(t, o);
    if (e != NULL)
        return e;
    if (t->map == NULL || (t->len + 1) * 2 > t->mask + 1) {
        if (map_grow(rt, t) < 0)
            return NULL;
    }
    size_t i = hash_ptr(o) & t->mask;
    while (t->map[i].obj != NULL)
        i = (i + 1) & t->mask;
    e = &t->map[i];
    e->obj = o;
    e->id = 0;
    e->site = 0;
    e->bytes = 0;
    t->len++;
    rcy_type_t *type = o->type;
    if (type->on_death != on_death_traced) {
        type->untraced_on_death = type->on_death;
        type->on_death = on_death_traced;
    }
    return e;
}

/* Removes an entry, shifting the entries of its probe run back (no
   tombstones). */
static void remove_entry(rcyi_trace_t *t, rcyi_trace_entry_t *e)
{
    size_t i = (size_t)(e - t->map);
    size_t j = i;
    for (;;) {
        t->map[i].obj = NULL;
        for (;;) {
            j = (j + 1) & t->mask;
            if (t->map[j].obj == NULL) {
                t->len--;
                return;
            }
            size_t k = hash_ptr(t->map[j].obj) & t->mask;
            /* j may move to i when its home k is not in (i, j] cyclically */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        t->map[i] = t->map[j];
        i = j;
    }
}

/* Forgets o (it is dying): its site's census goes down. */
static void forget(rcyi_trace_t *t, rcy_object_t *o)
{
    rcyi_trace_entry_t *e = find_entry(t, o);
    if (e == NULL)
        return;
    if (e->site != 0) {
        /* What the record added: an object's size may change during its
           life (an instance's inline values), its site's census not. */
        rcyi_site_t *s = &t->sites[e->site - 1];
        s->live--;
        s->live_bytes -= e->bytes;
    }
    remove_entry(t, e);
}

/* The on_death slot of a type some of whose objects have entries. A type
   with a finalizer may resurrect its object: finalize.c forgets it once
   the finalizers have run without doing so (trace_forget, rt->trace_forget). */
static void on_death_traced(rcy_object_t *o)
{
    rcy_type_t *type = o->type;
    rcyi_trace_t *t = type->rt->trace;
    if (t != NULL && t->len > 0 && type->finalize == NULL && type->legacy_del == NULL)
        forget(t, o);
    type->untraced_on_death(o);
}

/* rt->trace_forget: o dies for good (finalize.c, for the objects of types
   with finalizers once their finalizers have not resurrected them). */
static void trace_forget(rcy_object_t *o)
{
    rcyi_trace_t *t = o->type->rt->trace;
    if (t != NULL && t->len > 0)
        forget(t, o);
}

uint64_t rcyi_object_id_peek(const rcy_runtime_t *rt, const rcy_object_t *o)
{
    const rcyi_trace_entry_t *e = find_entry(rt->trace, o);
    return e != NULL ? e->id : 0;
}

uint64_t rcyi_object_id(rcy_runtime_t *rt, const rcy_object_t *o)
{
    rcyi_trace_t *t = rcyi_trace_get(rt);
    if (t == NULL)
        return 0;
    rcyi_trace_entry_t *e = add_entry(rt, t, o);
    if (e == NULL)
        return 0;
    if (e->id == 0)
        e->id = t->next_id++;
    return e->id;
}

const rcyi_site_t *rcyi_object_site(const rcy_runtime_t *rt, const rcy_object_t *o)
{
    const rcyi_trace_entry_t *e = find_entry(rt->trace, o);
    return e != NULL && e->site != 0 ? &rt->trace->sites[e->site - 1] : NULL;
}

/* ---- Sites ------------------------------------------------------------- */

static size_t site_hash(const char *file, int line, void *const *frames, uint32_t n)
{
    size_t h = hash_ptr(file) ^ ((size_t)(unsigned)line * 0x9e3779b97f4a7c15ULL);
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ hash_ptr(frames[i])) * 0x100000001b3ULL;
    return h;
}

static bool site_is(const rcyi_site_t *s, const char *file, int line, void *const *frames, uint32_t n)
{
    if (s->file != file || s->line != line || s->n_frames != n)
        return false;
    return n == 0 || memcmp(s->frames, frames, n * sizeof *frames) == 0;
}

static int site_map_grow(rcy_runtime_t *rt, rcyi_trace_t *t)
{
    size_t cap = t->site_map ? (t->site_mask + 1) * 2 : 256;
    uint32_t *map = rcyi_malloc_array(rt, cap, sizeof *map);
    if (map == NULL)
        return RCY_ENOMEM;
    memset(map, 0, cap * sizeof *map);
    for (uint32_t k = 0; k < t->n_sites; k++) {
        const rcyi_site_t *s = &t->sites[k];
        size_t i = site_hash(s->file, s->line, s->frames, s->n_frames) & (cap - 1);
        while (map[i] != 0)
            i = (i + 1) & (cap - 1);
        map[i] = k + 1;
    }
    rcyi_free(rt, t->site_map);
    t->site_map = map;
    t->site_mask = cap - 1;
    return 0;
}

/* The index + 1 of the site, interned if new; 0 when memory runs out. */
static uint32_t intern_site(rcy_runtime_t *rt, rcyi_trace_t *t, const char *file, int line, void *const *frames,
                            uint32_t n)
{
    size_t h = site_hash(file, line, frames, n);
    if (t->site_map != NULL) {
        for (size_t i = h & t->site_mask; t->site_map[i] != 0; i = (i + 1) & t->site_mask) {
            if (site_is(&t->sites[t->site_map[i] - 1], file, line, frames, n))
                return t->site_map[i];
        }
    }
    if (t->site_map == NULL || ((size_t)t->n_sites + 1) * 2 > t->site_mask + 1) {
        if (site_map_grow(rt, t) < 0)
            return 0;
    }
    if (t->n_sites == t->cap_sites) {
        size_t cap = t->cap_sites;
        rcyi_site_t *sites = t->n_sites < UINT32_MAX / 2 ? rcyi_array_grow(rt, t->sites, &cap, 64, sizeof *sites) : NULL;
        if (sites == NULL)
            return 0;
        t->sites = sites;
        t->cap_sites = (uint32_t)cap;
    }
    rcyi_site_t *s = &t->sites[t->n_sites];
    memset(s, 0, sizeof *s);
    const char *base = file;
    size_t len = strlen(base) + 24;
    s->name = rcyi_malloc(rt, len);
    if (s->name == NULL)
        return 0;
    snprintf(s->name, len, "%s:%d", base, line);
    if (n > 0) {
        s->frames = rcyi_malloc_array(rt, n, sizeof *s->frames);
        if (s->frames == NULL) {
            rcyi_free(rt, s->name);
            return 0;
        }
        memcpy(s->frames, frames, n * sizeof *frames);
    }
    s->file = file;
    s->line = line;
    s->n_frames = n;
    size_t i = h & t->site_mask;
    while (t->site_map[i] != 0)
        i = (i + 1) & t->site_mask;
    t->site_map[i] = ++t->n_sites;
    return t->n_sites;
}

static uint64_t next_random(rcyi_trace_t *t)
{
    uint64_t x = t->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t->rng = x;
    return x;
}

/* The allocations until the next recorded one: 1 in `sample` on average,
   at random (uniform over 1 .. 2 * sample - 1), so that a loop whose
   allocations repeat with the sampling period is not always recorded at
   the same site. */
static uint64_t next_countdown(rcyi_trace_t *t)
{
    if (t->sample <= 1)
        return 1;
    return 1 + next_random(t) % (2 * (uint64_t)t->sample - 1);
}

#define MAX_FRAMES 64

rcy_object_t *rcy_record_site(rcy_object_t *o, const char *file, int line)
{
    if (o == NULL)
        return NULL;
    rcy_runtime_t *rt = o->type->rt;
    rcyi_trace_t *t = rt->trace;
    if (RCY_LIKELY(t == NULL || !t->sites_on))
        return o;
    /* A shared immortal (the empty tuple) was allocated by nobody here. */
    if (rcy_is_immortal(o))
        return o;
    if (--t->countdown > 0)
        return o;
    t->countdown = next_countdown(t);
    if (file == NULL)
        file = "?";
    void *frames[MAX_FRAMES];
    int n = 0;
    if (t->backtrace != NULL) {
        rcyi_running_t f;
        rcyi_enter(rt, &f, "the backtrace hook", o);
        n = t->backtrace(frames, t->max_frames);
        rcyi_leave(rt, &f);
        if (n < 0)
            n = 0;
        if (n > t->max_frames)
            n = t->max_frames;
    }
    uint32_t site = intern_site(rt, t, file, line, frames, (uint32_t)n);
    if (site == 0)
        return o; /* out of memory: the object goes unrecorded */
    rcyi_trace_entry_t *e = add_entry(rt, t, o);
    if (e == NULL)
        return o;
    if (e->site != 0) {
        /* Recorded twice (a traced call inside another): the outer call,
           which returns last, wins. */
        rcyi_site_t *old = &t->sites[e->site - 1];
        old->live--;
        old->live_bytes -= e->bytes;
    }
    size_t size = rcyi_object_size(o);
    e->site = site;
    e->bytes = size < UINT32_MAX ? (uint32_t)size : UINT32_MAX;
    rcyi_site_t *s = &t->sites[site - 1];
    s->live++;
    s->live_bytes += e->bytes;
    s->allocated++;
    return o;
}

void rcy_sites_options_init(rcy_sites_options_t *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->sample = 1;
    opts->max_frames = 8;
}

int rcy_sites_start(rcy_runtime_t *rt, const rcy_sites_options_t *opts)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    rcy_sites_options_t defaults;
    if (opts == NULL) {
        rcy_sites_options_init(&defaults);
        opts = &defaults;
    }
    if (!RCYI_SIZE_OK(opts) || opts->max_frames < 0 || opts->max_frames > MAX_FRAMES)
        return rcyi_set_error(rt, RCY_EINVAL);
    rcyi_trace_t *t = rcyi_trace_get(rt);
    if (t == NULL)
        return rcyi_set_error(rt, RCY_ENOMEM);
    t->sample = opts->sample == 0 ? 1 : opts->sample;
    t->backtrace = opts->backtrace;
    t->max_frames = opts->backtrace != NULL ? (opts->max_frames == 0 ? 8 : opts->max_frames) : 0;
    t->countdown = next_countdown(t);
    t->sites_on = true;
    return 0;
}

int rcy_sites_stop(rcy_runtime_t *rt)
{
    if (rt == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    rcyi_trace_t *t = rt->trace;
    if (t == NULL)
        return 0;
    t->sites_on = false;
    /* Every object forgets its site; entries that only carried a site go. */
    if (t->map != NULL) {
        for (size_t i = 0; i <= t->mask;) {
            rcyi_trace_entry_t *e = &t->map[i];
            if (e->obj != NULL && e->site != 0) {
                e->site = 0;
                e->bytes = 0;
                if (e->id == 0) {
                    remove_entry(t, e); /* may move a later entry here: look again */
                    continue;
                }
            }
            i++;
        }
    }
    /* With no entry left, the types get their own slots back: nothing of
       the table is left on any path. */
    if (t->len == 0) {
        for (rcy_type_t *type = rt->types; type != NULL; type = type->next_type) {
            if (type->on_death == on_death_traced) {
                type->on_death = type->untraced_on_death;
                type->untraced_on_death = NULL;
            }
        }
    }
    /* The sites stay interned (their names stay valid for the runtime's
       life, as growth trackers keep them), with nothing live. */
    for (uint32_t i = 0; i < t->n_sites; i++) {
        t->sites[i].live = 0;
        t->sites[i].live_bytes = 0;
    }
    return 0;
}

int rcy_sites_is_tracing(const rcy_runtime_t *rt) { return rt != NULL && rt->trace != NULL && rt->trace->sites_on; }

const char *rcy_object_site(const rcy_object_t *obj)
{
    if (obj == NULL)
        return NULL;
    const rcyi_site_t *s = rcyi_object_site(obj->type->rt, obj);
    return s != NULL ? s->name : NULL;
}

int rcy_object_backtrace(const rcy_object_t *obj, void **frames, int max)
{
    if (obj == NULL || max < 0 || (frames == NULL && max > 0))
        return RCY_EINVAL;
    const rcyi_site_t *s = rcyi_object_site(obj->type->rt, obj);
    if (s == NULL)
        return 0;
    int n = (int)s->n_frames < max ? (int)s->n_frames : max;
    if (n > 0)
        memcpy(frames, s->frames, (size_t)n * sizeof *frames);
    return (int)s->n_frames;
}

uint64_t rcy_object_id(rcy_object_t *obj)
{
    if (obj == NULL)
        return 0;
    rcyi_check_live(obj);
    rcy_runtime_t *rt = obj->type->rt;
    uint64_t id = rcyi_object_id(rt, obj);
    if (id == 0)
        rcyi_set_error(rt, RCY_ENOMEM);
    return id;
}

/* ---- Census by site ---------------------------------------------------- */

static int by_count(const void *a, const void *b)
{
    const rcy_typestat_t *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

int rcyi_site_stats(rcy_runtime_t *rt, rcy_typestats_t *out, bool all_names)
{
    out->items = NULL;
    out->len = 0;
    out->rt = rt;
    rcyi_trace_t *t = rt->trace;
    uint32_t ns = t != NULL ? t->n_sites : 0;
    rcy_typestat_t *rows = rcyi_malloc_array(rt, ns ? ns : 1, sizeof *rows);
    if (rows == NULL)
        return RCY_ENOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < ns; i++) {
        const rcyi_site_t *s = &t->sites[i];
        if (s->live == 0 && !all_names)
            continue;
        rows[n].name = s->name;
        rows[n].count = s->live;
        rows[n].bytes = s->live_bytes;
        n++;
    }
    /* Sites that differ only by their backtrace share a line: merged, as
       tracemalloc's statistics('lineno'). */
    out->items = rows;
    out->len = rcyi_typestats_merge(rows, n);
    return 0;
}

int rcy_census_by_site(rcy_runtime_t *rt, size_t limit, rcy_typestats_t *out)
{
    if (rt == NULL || out == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    int err = rcyi_site_stats(rt, out, false);
    if (err < 0)
        return rcyi_set_error(rt, err);
    qsort(out->items, out->len, sizeof *out->items, by_count);
    if (limit > 0 && out->len > limit)
        out->len = limit;
    return 0;
}

int rcy_census_show_by_site(rcy_runtime_t *rt, size_t limit, FILE *out)
{
    rcy_typestats_t s;
    int err = rcy_census_by_site(rt, limit, &s);
    if (err < 0)
        return err;
    int w = 0;
    for (size_t i = 0; i < s.len; i++) {
        size_t len = strlen(s.items[i].name);
        if (len > (size_t)w)
            w = len > 60 ? 60 : (int)len;
    }
    for (size_t i = 0; i < s.len; i++)
        rcyi_out(rt, out, "%-*s %9zu %12zu bytes\n", w, s.items[i].name, s.items[i].count, s.items[i].bytes);
    rcy_typestats_release(&s);
    return 0;
}
