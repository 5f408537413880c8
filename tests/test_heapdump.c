/* The heap dump and the HTML report on a known heap: the seeds' leak (a
   request handler caching every session in a list held by the module's
   globals). With a directory argument the files are left there for
   tests/report_browser.sh, which checks the dump with Python's json module
   and loads the report in a headless browser. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#define RCY_TRACE_SITES 1
#include "harness.h"

#include <stdint.h>
#include <unistd.h>

static const char *out_dir;
static char tmp_dir[64];

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *hit = strstr(line, needle);
        if (hit != NULL && hit < line + len)
            n++;
        line += len + (end ? 1 : 0);
    }
    return n;
}

/* The seeds' scenario: globals['cache'] collects every Session. */
static rcy_object_t *build_leak(rcy_runtime_t *rt, int sessions)
{
    rcy_object_t *globals = rcy_dict_new(rt);
    CHECK_EQ(rcy_root_add(globals, "globals"), 0);
    rcy_object_t *cache = rcy_list_new(rt);
    rcy_object_t *key = rcy_str_new(rt, "cache");
    rcy_dict_set(globals, key, cache);
    rcy_decref(key);
    rcy_class_spec_t spec;
    memset(&spec, 0, sizeof spec);
    rcy_object_t *cls = rcy_class_new(rt, "Session", &spec);
    for (int i = 0; i < sessions; i++) {
        rcy_object_t *s = rcy_instance_new(cls);
        rcy_object_t *data = rcy_dict_new(rt);
        rcy_object_t *v = rcy_int_new(rt, 1000 + i);
        rcy_object_t *k = rcy_str_new(rt, "user");
        rcy_dict_set(data, k, v);
        CHECK_EQ(rcy_setattr(s, "data", data), 0);
        rcy_list_append(cache, s);
        rcy_decref(k);
        rcy_decref(v);
        rcy_decref(data);
        rcy_decref(s);
    }
    rcy_decref(cls);
    rcy_decref(cache);
    rcy_decref(globals); /* the registry holds it */
    return globals;
}

static void path_in(char *buf, size_t size, const char *name) { snprintf(buf, size, "%s/%s", out_dir, name); }

TEST(dump_has_every_object_and_edge)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    rcy_object_t *globals = build_leak(rt, 5);
    char path[512];
    path_in(path, sizeof path, "heap.jsonl");
    CHECK_EQ(rcy_heap_dump(rt, path), 0);
    size_t len = 0;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        static const char head[] = "{\"t\":\"header\",\"format\":\"recycle-heap-dump\",\"version\":1,";
        CHECK(strncmp(text, head, sizeof head - 1) == 0);
        unsigned long objects = 0, edges = 0;
        const char *p = strstr(text, "\"objects\":");
        CHECK(p != NULL && sscanf(p, "\"objects\":%lu", &objects) == 1);
        p = strstr(text, "\"edges\":");
        CHECK(p != NULL && sscanf(p, "\"edges\":%lu", &edges) == 1);
        CHECK_EQ(count_lines_with(text, "{\"t\":\"object\""), objects);
        CHECK_EQ(count_lines_with(text, "{\"t\":\"edge\""), edges);
        CHECK(objects > 20);
        CHECK_EQ(count_lines_with(text, "\"root\":\"globals\""), 1);
        CHECK_EQ(count_lines_with(text, "\"root_kind\":\"registered\""), 1);
        CHECK_EQ(count_lines_with(text, "\"label\":\"cache\""), 1);
        CHECK_EQ(count_lines_with(text, "\"label\":\"[4]\""), 1);
        CHECK_EQ(count_lines_with(text, "{\"t\":\"type\",\"type\":"), count_lines_with(text, "\"gc\":"));
        CHECK(count_lines_with(text, "{\"t\":\"site\"") >= 4);
        CHECK(count_lines_with(text, "test_heapdump.c:") >= 4);
        CHECK(strstr(text, "{\"t\":\"end\"}\n") != NULL);
    }
    free(text);
    CHECK_EQ(rcy_heap_dump(rt, "/nonexistent-dir/x.jsonl"), RCY_ESTATE);
    CHECK_EQ(rcy_heap_dump(NULL, path), RCY_EINVAL);
    CHECK_EQ(rcy_root_remove(globals), 0);
    test_runtime_end(rt);
}

TEST(report_is_self_contained)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    CHECK_EQ(rcy_sites_start(rt, NULL), 0);
    rcy_object_t *globals = build_leak(rt, 5);
    char path[512];
    path_in(path, sizeof path, "report.html");
    CHECK_EQ(rcy_heap_report(rt, path), 0);
    size_t len = 0;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(strncmp(text, "<!DOCTYPE html>", 15) == 0);
        CHECK(strstr(text, "http://") == NULL && strstr(text, "https://") == NULL);
        CHECK(strstr(text, "<script src") == NULL && strstr(text, "<link") == NULL);
        CHECK_STR_CONTAINS(text, "id=\"heap-data\"");
        CHECK_STR_CONTAINS(text, "\"Session\"");
        CHECK_STR_CONTAINS(text, "\"globals\"");
        CHECK_STR_CONTAINS(text, "\"['cache']\"");
        CHECK_STR_CONTAINS(text, "</html>");
    }
    free(text);
    CHECK_EQ(rcy_root_remove(globals), 0);
    test_runtime_end(rt);
}

TEST(report_of_a_large_heap_is_cut)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *globals = build_leak(rt, (int)harness_scaled(3000, 100));
    char path[512];
    path_in(path, sizeof path, "large-report.html");
    CHECK_EQ(rcy_heap_report(rt, path), 0);
    size_t len = 0;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (text != NULL) {
        const char *p = strstr(text, "\"shown\":");
        unsigned long shown = 0;
        CHECK(p != NULL && sscanf(p, "\"shown\":%lu", &shown) == 1);
        CHECK(shown > 0 && shown <= 2000 * 2 + 4000);
    }
    free(text);
    CHECK_EQ(rcy_root_remove(globals), 0);
    test_runtime_end(rt);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        out_dir = argv[1];
    } else {
        snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rcy-heapdump-XXXXXX");
        if (mkdtemp(tmp_dir) == NULL) {
            perror("mkdtemp");
            return 2;
        }
        out_dir = tmp_dir;
    }
    RUN(dump_has_every_object_and_edge);
    RUN(report_is_self_contained);
    RUN(report_of_a_large_heap_is_cut);
    if (argc <= 1) {
        char path[512];
        const char *names[] = {"heap.jsonl", "report.html", "large-report.html"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            path_in(path, sizeof path, names[i]);
            unlink(path);
        }
        rmdir(tmp_dir);
    }
    return harness_summary();
}
