/* Allocation sites (the RCY_TRACE_SITES macros, sampling, backtraces, the
   census and growth by site, sites in graphs and chains) and stable object
   ids. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#define RCY_TRACE_SITES 1
#include "harness.h"
#include "node.h"

#include <execinfo.h>
#include <stdint.h>

/* The site of the line after the call: __LINE__ is taken where the macro
   is expanded. */
static char expect_site[64];
#define HERE_NEXT() snprintf(expect_site, sizeof expect_site, "%s:%d", __FILE__, __LINE__ + 1)

static int site_is(const rcy_object_t *o, const char *name) { return rcy_object_site(o) != NULL && strcmp(rcy_object_site(o), name) == 0; }

TEST(nothing_recorded_until_started)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK(!rcy_sites_is_tracing(rt));
    rcy_object_t *l = rcy_list_new(rt);
    CHECK(rcy_object_site(l) == NULL);
    rcy_typestats_t s;
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    CHECK_EQ(s.len, 0);
    rcy_typestats_release(&s);
    rcy_decref(l);
    test_runtime_end(rt);
}

TEST(sites_of_the_allocation_calls)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    CHECK(rcy_sites_is_tracing(rt));
    rcy_type_t *t = node_type_new(rt, "Node");
    rcy_object_t *items[5];
    HERE_NEXT();
    rcy_object_t *l = rcy_list_new(rt);
    CHECK(site_is(l, expect_site));
    HERE_NEXT();
    rcy_object_t *d = rcy_dict_new(rt);
    CHECK(site_is(d, expect_site));
    HERE_NEXT();
    node_t *n = (node_t *)rcy_new(t);
    CHECK(site_is(OB(n), expect_site));
    for (int i = 0; i < 5; i++) {
        HERE_NEXT();
        items[i] = rcy_dict_new(rt);
    }
    CHECK(site_is(items[4], expect_site));
    HERE_NEXT();
    rcy_object_t *tu = rcy_tuple_new(rt, 2, items);
    CHECK(site_is(tu, expect_site));
    HERE_NEXT();
    rcy_object_t *lf = rcy_list_new_from(rt, 2, items);
    CHECK(site_is(lf, expect_site));
    rcy_type_t *vt = list_type_new(rt);
    HERE_NEXT();
    rcy_object_t *v = rcy_new_var(vt, 3);
    CHECK(site_is(v, expect_site));
    rcy_class_spec_t spec;
    memset(&spec, 0, sizeof spec);
    rcy_object_t *cls = rcy_class_new(rt, "Session", &spec);
    HERE_NEXT();
    rcy_object_t *inst = rcy_instance_new(cls);
    CHECK(inst != NULL && site_is(inst, expect_site));
    /* A str is no container: never recorded by these macros. */

    /* The census by site: the loop's line has 5 dicts. */
    rcy_typestats_t s;
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    int found = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (strstr(s.items[i].name, "test_sites.c:") == NULL)
            continue;
        if (s.items[i].count == 5) {
            found++;
            CHECK_EQ(s.items[i].bytes, 5 * rcy_census_bytes(rt, "dict") / rcy_census_count(rt, "dict"));
        }
    }
    CHECK_EQ(found, 1);
    CHECK_EQ(s.len, 8); /* l, d, n, the loop, tu, lf, v, inst */
    rcy_typestats_release(&s);

    /* Deaths come off the census. */
    for (int i = 0; i < 5; i++)
        rcy_decref(items[i]);
    rcy_decref(tu);
    rcy_decref(lf);
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    CHECK_EQ(s.len, 5);
    rcy_typestats_release(&s);

    /* The address of a dead object comes back without its site. */
    rcy_decref(OB(n));
    node_t *again = (node_t *)(rcy_new)(t);
    CHECK(rcy_object_site(OB(again)) == NULL);
    rcy_decref(OB(again));

    rcy_decref(l);
    rcy_decref(d);
    rcy_decref(v);
    rcy_decref(inst);
    rcy_decref(cls);
    CHECK_EQ(rcy_sites_stop(rt), 0);
    CHECK(!rcy_sites_is_tracing(rt));
    test_runtime_end(rt);
}

TEST(sampling_records_about_one_in_n)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_sites_options_t opts;
    rcy_sites_options_init(&opts);
    opts.sample = 16;
    CHECK_EQ(rcy_sites_start(rt, &opts), 0);
    rcy_object_t *keep = (rcy_list_new)(rt);
    long n = 16000;
    for (long i = 0; i < n; i++) {
        rcy_object_t *l = rcy_list_new(rt);
        rcy_list_append(keep, l);
        rcy_decref(l);
    }
    rcy_typestats_t s;
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    CHECK_EQ(s.len, 1);
    if (s.len == 1) {
        /* 1000 expected; the countdown is uniform over 1..31 */
        CHECK(s.items[0].count > 800 && s.items[0].count < 1250);
    }
    rcy_typestats_release(&s);
    rcy_decref(keep);
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    CHECK_EQ(s.len, 0);
    rcy_typestats_release(&s);
    test_runtime_end(rt);
}

static void *fake_frames[3] = {(void *)0x1000, (void *)0x2000, (void *)0x3000};
static int fake_backtrace(void **frames, int max)
{
    int n = max < 3 ? max : 3;
    memcpy(frames, fake_frames, (size_t)n * sizeof *frames);
    return n;
}

TEST(backtraces_through_the_hook)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_sites_options_t opts;
    rcy_sites_options_init(&opts);
    opts.backtrace = fake_backtrace;
    CHECK_EQ(rcy_sites_start(rt, &opts), 0);
    rcy_object_t *l = rcy_list_new(rt);
    void *frames[8];
    CHECK_EQ(rcy_object_backtrace(l, frames, 8), 3);
    CHECK(frames[0] == fake_frames[0] && frames[2] == fake_frames[2]);
    CHECK_EQ(rcy_object_backtrace(l, frames, 1), 3);
    rcy_decref(l);
    /* glibc's backtrace as the hook: real return addresses. */
    opts.backtrace = backtrace;
    opts.max_frames = 4;
    CHECK_EQ(rcy_sites_start(rt, &opts), 0);
    l = rcy_list_new(rt);
    int got = rcy_object_backtrace(l, frames, 8);
    CHECK(got >= 1 && got <= 4);
    rcy_decref(l);
    opts.max_frames = 65;
    CHECK_EQ(rcy_sites_start(rt, &opts), RCY_EINVAL);
    test_runtime_end(rt);
}

TEST(growth_by_site)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    rcy_growth_t *g = rcy_growth_new_by_site(rt);
    rcy_object_t *cache = (rcy_list_new)(rt);
    CHECK_EQ(rcy_show_growth(g, NULL, NULL), 0);
    CHECK_EQ(cap.len, 0); /* nothing recorded yet */
    for (int i = 0; i < 7; i++) {
        HERE_NEXT();
        rcy_object_t *d = rcy_dict_new(rt);
        rcy_list_append(cache, d);
        rcy_decref(d);
    }
    CHECK_EQ(rcy_show_growth(g, NULL, NULL), 0);
    CHECK_STR_CONTAINS(cap.text, expect_site);
    CHECK_STR_CONTAINS(cap.text, "+7");
    capture_reset(&cap);
    CHECK_EQ(rcy_census_show_by_site(rt, 3, NULL), 0);
    CHECK_STR_CONTAINS(cap.text, expect_site);
    rcy_growth_free(g);
    rcy_decref(cache);
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(sites_in_graphs)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    HERE_NEXT();
    rcy_object_t *l = rcy_list_new(rt);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    opts.output = f;
    CHECK_EQ(rcy_show_refs(&l, 1, &opts), 0);
    fclose(f);
    char want[80];
    snprintf(want, sizeof want, "at %s", expect_site);
    CHECK_STR_CONTAINS(buf, want);
    free(buf);
    rcy_decref(l);
    test_runtime_end(rt);
}

TEST(sites_in_chains)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    rcy_object_t *globals = (rcy_dict_new)(rt); /* no site */
    CHECK_EQ(rcy_root_add(globals, "globals"), 0);
    HERE_NEXT();
    rcy_object_t *cache = rcy_list_new(rt);
    char cache_site[64];
    memcpy(cache_site, expect_site, sizeof cache_site);
    rcy_object_t *key = rcy_str_new(rt, "cache");
    rcy_dict_set(globals, key, cache);
    rcy_decref(key);
    HERE_NEXT();
    rcy_object_t *item = rcy_dict_new(rt);
    rcy_list_append(cache, item);
    rcy_objarray_t chain = {0};
    CHECK_EQ(rcy_find_backref_chain(item, NULL, NULL, 0, &chain), 1);
    char text[512], want[256];
    CHECK(rcy_chain_format(&chain, text, sizeof text) > 0);
    snprintf(want, sizeof want, "globals['cache'][0]  (allocated: list at %s, dict at %s)", cache_site, expect_site);
    CHECK(strcmp(text, want) == 0);
    rcy_objarray_release(&chain);
    rcy_decref(item);
    rcy_decref(cache);
    CHECK_EQ(rcy_root_remove(globals), 0);
    rcy_decref(globals);
    test_runtime_end(rt);
}

TEST(stable_ids)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_t *t = node_type_new(rt, "Node");
    node_t *a = node_new(t, 1), *b = node_new(t, 2);
    uint64_t ia = rcy_object_id(OB(a)), ib = rcy_object_id(OB(b));
    CHECK(ia != 0 && ib != 0 && ia != ib);
    CHECK_EQ(rcy_object_id(OB(a)), ia);
    void *addr = a;
    rcy_decref(OB(a));
    node_t *c = node_new(t, 3); /* the pools hand the same block back */
    if ((void *)c == addr)
        CHECK(rcy_object_id(OB(c)) != ia);
    CHECK(rcy_object_id(OB(c)) > ib);
    CHECK_EQ(rcy_object_id(NULL), 0);
    /* Objects in a cycle freed by the collector forget their ids too. */
    node_set_a(b, c);
    node_set_a(c, b);
    rcy_decref(OB(b));
    rcy_decref(OB(c));
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    test_runtime_end(rt);
}

/* A finalizer that resurrects its object once (PEP 442: it runs once). */
static rcy_object_t *saved;
static int resurrect(rcy_object_t *self)
{
    if (saved == NULL)
        saved = rcy_newref(self);
    return 0;
}

TEST(resurrected_objects_keep_their_id_and_site)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    rcy_type_spec_t spec = {0};
    spec.name = "Phoenix";
    spec.basicsize = sizeof(node_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = node_traverse;
    spec.clear = node_clear;
    spec.finalize = resurrect;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    HERE_NEXT();
    rcy_object_t *p = rcy_new(t);
    uint64_t id = rcy_object_id(p);
    rcy_decref(p); /* the finalizer resurrects it */
    CHECK(saved == p);
    CHECK_EQ(rcy_object_id(saved), id);
    CHECK(site_is(saved, expect_site));
    rcy_typestats_t s;
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    CHECK(s.len == 1 && s.items[0].count == 1);
    rcy_typestats_release(&s);
    rcy_object_t *last = saved;
    rcy_decref(last); /* for good this time */
    saved = NULL;
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    CHECK_EQ(s.len, 0);
    rcy_typestats_release(&s);
    /* In a cycle, through the collector. */
    node_t *a = (node_t *)rcy_new(t), *b = (node_t *)rcy_new(t);
    node_set_a(a, b);
    node_set_a(b, a);
    rcy_decref(OB(a));
    rcy_decref(OB(b));
    rcy_gc_collect(rt, 2); /* resurrects one: both survive */
    CHECK(saved != NULL);
    rcy_object_t *keep = saved;
    saved = OB(keep); /* no more resurrection */
    rcy_decref(keep);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(rcy_census_by_site(rt, 0, &s), 0);
    CHECK_EQ(s.len, 0);
    rcy_typestats_release(&s);
    saved = NULL;
    test_runtime_end(rt);
}

int main(void)
{
    RUN(nothing_recorded_until_started);
    RUN(sites_of_the_allocation_calls);
    RUN(sampling_records_about_one_in_n);
    RUN(backtraces_through_the_hook);
    RUN(growth_by_site);
    RUN(sites_in_graphs);
    RUN(sites_in_chains);
    RUN(stable_ids);
    RUN(resurrected_objects_keep_their_id_and_site);
    return harness_summary();
}
