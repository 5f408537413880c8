/* Snapshots and their differences: new objects by type and by site, deaths
   told apart from address reuse, the retainers that grew. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#define RCY_TRACE_SITES 1
#include "harness.h"

#include <stdint.h>

static const rcy_typestat_t *row(const rcy_typestat_t *rows, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].name, name) == 0)
            return &rows[i];
    }
    return NULL;
}

TEST(diff_new_died_grown)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    rcy_object_t *cache = (rcy_list_new)(rt);
    CHECK_EQ(rcy_root_add(cache, "cache"), 0);
    rcy_decref(cache);
    for (int i = 0; i < 3; i++) {
        rcy_object_t *d = (rcy_dict_new)(rt);
        rcy_list_append(cache, d);
        rcy_decref(d);
    }
    void *old0 = rcy_list_get(cache, 0);
    size_t dict_bytes = rcy_census_bytes(rt, "dict") / 3;
    rcy_snapshot_t *s1 = rcy_snapshot_take(rt);
    CHECK(s1 != NULL);
    CHECK_EQ(rcy_snapshot_len(s1), 4);
    uint64_t cache_id = rcy_object_id(cache);

    /* Two old sessions go, ten new ones come (the free list hands the
       old addresses out again). */
    rcy_object_t *gone = rcy_list_pop(cache, 0);
    rcy_decref(gone);
    gone = rcy_list_pop(cache, 0);
    rcy_decref(gone);
    char site[64];
    int reused = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(site, sizeof site, "%s:%d", __FILE__, __LINE__ + 1);
        rcy_object_t *d = rcy_dict_new(rt);
        reused += (void *)d == old0;
        rcy_list_append(cache, d);
        rcy_decref(d);
    }
    rcy_snapshot_t *s2 = rcy_snapshot_take(rt);
    CHECK(s2 != NULL);
    rcy_snapshot_diff_t diff;
    CHECK_EQ(rcy_snapshot_diff(s1, s2, 0, &diff), 0);
    CHECK_EQ(diff.new_objects, 10);
    CHECK_EQ(diff.died_objects, 2);
    CHECK_EQ(diff.new_bytes, 10 * dict_bytes);
    const rcy_typestat_t *r = row(diff.new_by_type, diff.n_new_by_type, "dict");
    CHECK(r != NULL && r->count == 10);
    r = row(diff.new_by_site, diff.n_new_by_site, site);
    CHECK(r != NULL && r->count == 10);
    r = row(diff.died_by_type, diff.n_died_by_type, "dict");
    CHECK(r != NULL && r->count == 2);
    CHECK_EQ(diff.n_grown, 1);
    if (diff.n_grown == 1) {
        CHECK_EQ(diff.grown[0].id, cache_id);
        CHECK_EQ(diff.grown[0].delta, (intptr_t)(8 * dict_bytes));
        CHECK_EQ(diff.grown[0].objects_after - diff.grown[0].objects_before, 8);
        CHECK(strcmp(diff.grown[0].type_name, "list") == 0);
    }
    CHECK_EQ(rcy_snapshot_diff_show(&diff, NULL), 0);
    CHECK_STR_CONTAINS(cap.text, "new objects: 10");
    CHECK_STR_CONTAINS(cap.text, site);
    CHECK_STR_CONTAINS(cap.text, "retainers that grew most:");
    rcy_snapshot_diff_release(&diff);
    (void)reused; /* with or without reuse the counts above hold */

    /* The limit, and the other direction (everything new "died"). */
    CHECK_EQ(rcy_snapshot_diff(s2, s1, 1, &diff), 0);
    CHECK_EQ(diff.new_objects, 2);
    CHECK_EQ(diff.died_objects, 10);
    CHECK_EQ(diff.n_died_by_type, 1);
    rcy_snapshot_diff_release(&diff);

    /* Ids find live objects, not dead ones. */
    rcy_object_t *found = rcy_object_from_id(rt, cache_id);
    CHECK(found == cache);
    rcy_xdecref(found);
    CHECK(rcy_object_from_id(rt, 1u << 30) == NULL);

    rcy_snapshot_free(s1);
    rcy_snapshot_free(s2);
    CHECK_EQ(rcy_root_remove(cache), 0);
    CHECK_EQ(rcy_snapshot_diff(NULL, NULL, 0, &diff), RCY_EINVAL);
    test_runtime_end(rt);
    capture_free(&cap);
}

TEST(snapshots_of_two_runtimes_do_not_compare)
{
    rcy_runtime_t *a = test_runtime(NULL), *b = test_runtime(NULL);
    rcy_snapshot_t *sa = rcy_snapshot_take(a), *sb = rcy_snapshot_take(b);
    rcy_snapshot_diff_t diff;
    CHECK_EQ(rcy_snapshot_diff(sa, sb, 0, &diff), RCY_ERUNTIME);
    rcy_snapshot_free(sa);
    rcy_snapshot_free(sb);
    test_runtime_end(a);
    test_runtime_end(b);
}

int main(void)
{
    RUN(diff_new_died_grown);
    RUN(snapshots_of_two_runtimes_do_not_compare);
    return harness_summary();
}
