/*
 * The seeds' leak scenario (a request handler that caches every session in
 * a module global by mistake) seen with the heap tools of issue 18:
 * allocation sites, a snapshot before and after more requests and their
 * difference, retained sizes, the largest retainers, and the two files to
 * study offline: the heap dump (JSON Lines) and the HTML report.
 *
 *   heap_report [DIR]    writes DIR/heap-report.html and DIR/heap.jsonl
 *                        (default: the current directory)
 *
 * `make demo` runs it after the tours (docs/leak-hunting.md, section 6).
 */
#define RCY_TRACE_SITES 1 /* the allocation calls below record their file:line */
#include "recycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_global(rcy_object_t *globals, const char *name, rcy_object_t *value)
{
    rcy_object_t *key = rcy_str_new(rcy_object_runtime(globals), name);
    rcy_dict_set(globals, key, value);
    rcy_decref(key);
}

/* One request: a Session with its user's data, cached forever (the bug). */
static void handle_request(rcy_object_t *session_cls, rcy_object_t *cache, int i)
{
    rcy_runtime_t *rt = rcy_object_runtime(cache);
    rcy_object_t *s = rcy_instance_new(session_cls);
    rcy_object_t *data = rcy_dict_new(rt);
    rcy_object_t *user = rcy_int_new(rt, 1000 + i);
    set_global(data, "user", user);
    rcy_object_t *history = rcy_list_new(rt);
    for (int k = 0; k < 3; k++) {
        rcy_object_t *page = rcy_int_new(rt, 100 * i + k);
        rcy_list_append(history, page);
        rcy_decref(page);
    }
    set_global(data, "history", history);
    rcy_setattr(s, "data", data);
    rcy_list_append(cache, s);
    rcy_decref(history);
    rcy_decref(user);
    rcy_decref(data);
    rcy_decref(s);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char report[1024], dump[1024];
    snprintf(report, sizeof report, "%s/heap-report.html", dir);
    snprintf(dump, sizeof dump, "%s/heap.jsonl", dir);

    rcy_runtime_t *rt = rcy_runtime_new(NULL);
    if (rt == NULL)
        return 1;
    rcy_sites_start(rt, NULL); /* every container allocated below records its site */
    rcy_object_t *globals = rcy_dict_new(rt);
    rcy_root_add(globals, "globals");
    rcy_object_t *session_cls = rcy_class_new(rt, "Session", NULL);
    set_global(globals, "Session", session_cls);
    rcy_object_t *cache = rcy_list_new(rt);
    set_global(globals, "cache", cache);
    rcy_decref(cache); /* globals holds it: borrowed from here, as a module global is */
    rcy_object_t *config = rcy_dict_new(rt);
    set_global(globals, "config", config);
    rcy_decref(config);

    printf("\n==== The heap tools on the seeds' leak: sites, snapshots, retained sizes, report ====\n");
    for (int i = 0; i < 100; i++)
        handle_request(session_cls, cache, i);
    rcy_snapshot_t *before = rcy_snapshot_take(rt);
    for (int i = 100; i < 150; i++)
        handle_request(session_cls, cache, i);
    rcy_snapshot_t *after = rcy_snapshot_take(rt);

    printf("  50 more requests; rcy_snapshot_diff (by stable id, not address):\n");
    rcy_snapshot_diff_t diff;
    if (rcy_snapshot_diff(before, after, 4, &diff) == 0) {
        rcy_snapshot_diff_show(&diff, stdout);
        rcy_snapshot_diff_release(&diff);
    }
    printf("  census by allocation site (tracemalloc's statistics('lineno')):\n");
    rcy_census_show_by_site(rt, 4, stdout);

    rcy_retained_t r;
    rcy_retained_init(&r);
    if (rcy_retained_size(cache, &r) == 0) {
        printf("  retained_size(cache) = %zu bytes in %zu objects (the list itself: %zu bytes)\n", r.bytes, r.objects,
               r.self_bytes);
        rcy_xdecref(r.dominator);
    }
    printf("  the largest retainers:\n");
    rcy_show_largest_retainers(rt, 4, stdout);

    rcy_objarray_t chain = {0};
    rcy_object_t *one = rcy_list_get(cache, 75);
    if (rcy_find_backref_chain(one, NULL, NULL, 0, &chain) > 0) {
        char text[512];
        rcy_chain_format(&chain, text, sizeof text);
        printf("  why is sessions[75] alive? %s\n", text);
        printf("  sessions[75] is object #%llu: heap-report.html#%llu shows its chain\n",
               (unsigned long long)rcy_object_id(one), (unsigned long long)rcy_object_id(one));
    }
    rcy_objarray_release(&chain);

    int err = rcy_heap_dump(rt, dump);
    printf("  heap dump: %s (%s)\n", dump, err == 0 ? "written" : rcy_strerror(err));
    err = rcy_heap_report(rt, report);
    printf("  heap report: %s (%s; open it in a browser)\n", report, err == 0 ? "written" : rcy_strerror(err));

    rcy_snapshot_free(before);
    rcy_snapshot_free(after);
    rcy_decref(session_cls);
    rcy_decref(globals); /* the registry holds it */
    rcy_root_remove(globals);
    rcy_gc_collect(rt, 2);
    size_t live = rcy_runtime_live_objects(rt);
    rcy_runtime_destroy(rt);
    return live == 0 && err == 0 ? 0 : 1;
}
