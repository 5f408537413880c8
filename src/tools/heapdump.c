/*
 * The heap dump: the whole object graph in JSON Lines (one JSON object per
 * line), for other tools to read; docs/heap-dump-format.md is its
 * specification. The writer is shared with the HTML report (report.c),
 * which embeds the same records.
 */
#include "heaptools.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON ------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void rcyi_json_string(FILE *f, const char *text, bool for_html)
{
    const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
    fputc('"', f);
    while (*s != '\0') {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            s++;
        } else if (for_html && (c == '<' || c == '>' || c == '&')) {
            /* inside a <script> element: no "</script>", no "<!--" */
            fprintf(f, "\\u%04x", c);
            s++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            s++;
        } else {
            int n = utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", f); /* not UTF-8: the replacement character */
                s++;
            } else {
                fwrite(s, 1, (size_t)n, f);
                s += n;
            }
        }
    }
    fputc('"', f);
}

/* ---- The dump's model -------------------------------------------------- */

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

int rcyi_types_index(rcy_runtime_t *rt, rcyi_types_t *ti)
{
    ti->n = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type)
        ti->n++;
    ti->types = rcyi_malloc_array(rt, ti->n ? ti->n : 1, sizeof *ti->types);
    if (ti->types == NULL)
        return RCY_ENOMEM;
    size_t k = 0;
    for (const rcy_type_t *t = rt->types; t != NULL; t = t->next_type)
        ti->types[k++] = t;
    qsort(ti->types, ti->n, sizeof *ti->types, cmp_ptr);
    return 0;
}

size_t rcyi_types_find(const rcyi_types_t *ti, const rcy_type_t *t)
{
    size_t lo = 0, hi = ti->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ti->types[mid] == t)
            return mid;
        if ((uintptr_t)ti->types[mid] < (uintptr_t)t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

const char *rcyi_root_kind_json(int kind)
{
    switch (kind) {
    case RCYI_DOM_REGISTERED: return "registered";
    case RCYI_DOM_GARBAGE: return "garbage";
    case RCYI_DOM_EXTERNAL: return "external";
    case RCYI_DOM_UNREACHED: return "unreached";
    default: return NULL;
    }
}

static const char *edge_kind_json(uint32_t kind)
{
    switch (kind) {
    case RCYI_EDGE_INDEX: return "index";
    case RCYI_EDGE_DICT_KEY: return "key";
    case RCYI_EDGE_DICT_VALUE: return "value";
    default: return "field";
    }
}

void rcyi_dump_type(FILE *f, const rcyi_types_t *ti, size_t k, bool for_html)
{
    const rcy_type_t *t = ti->types[k];
    size_t bytes, live = rcyi_type_live(t, &bytes);
    fprintf(f, "{\"t\":\"type\",\"type\":%zu,\"name\":", k);
    rcyi_json_string(f, t->name, for_html);
    fprintf(f, ",\"gc\":%s,\"finalizer\":%s,\"live_objects\":%zu,\"live_bytes\":%zu}", rcyi_is_gc_type(t) ? "true" : "false",
            t->finalize != NULL || t->legacy_del != NULL ? "true" : "false", live, bytes);
}

void rcyi_dump_site(FILE *f, const rcyi_trace_t *tr, uint32_t k, bool for_html)
{
    const rcyi_site_t *s = &tr->sites[k];
    fprintf(f, "{\"t\":\"site\",\"site\":%" PRIu32 ",\"file\":", k);
    rcyi_json_string(f, s->file, for_html);
    fprintf(f, ",\"line\":%d,\"name\":", s->line);
    rcyi_json_string(f, s->name, for_html);
    fputs(",\"frames\":[", f);
    for (uint32_t i = 0; i < s->n_frames; i++)
        fprintf(f, "%s\"%p\"", i ? "," : "", s->frames[i]);
    fputs("]}", f);
}

void rcyi_dump_object(FILE *f, const rcyi_heap_t *h, const rcyi_domtree_t *d, const rcyi_types_t *ti, uint32_t i,
                      bool for_html)
{
    rcy_runtime_t *rt = h->rt;
    rcy_object_t *o = h->objs[i];
    fprintf(f, "{\"t\":\"object\",\"object\":%" PRIu32 ",\"id\":%" PRIu64 ",\"address\":\"%p\",\"type\":%zu", i,
            rcyi_object_id_peek(rt, o), (void *)o, rcyi_types_find(ti, o->type));
    fprintf(f, ",\"size\":%zu", rcyi_object_size(o));
    if (rcy_is_immortal(o))
        fputs(",\"refcnt\":\"immortal\",\"external\":\"immortal\"", f);
    else
        fprintf(f, ",\"refcnt\":%td,\"external\":%td", (ptrdiff_t)(o->refcnt - (h->held ? 1 : 0)),
                (ptrdiff_t)rcyi_heap_external(h, i));
    fprintf(f, ",\"tracked\":%s", rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0 ? "true" : "false");
    const rcyi_site_t *site = rcyi_object_site(rt, o);
    if (site != NULL)
        fprintf(f, ",\"site\":%td", (ptrdiff_t)(site - rt->trace->sites));
    else
        fputs(",\"site\":null", f);
    const char *root = rcyi_heap_is_root(h, i) ? rcyi_root_name(rt, o) : NULL;
    fputs(",\"root\":", f);
    if (root != NULL)
        rcyi_json_string(f, root, for_html);
    else
        fputs("null", f);
    const char *kind = rcyi_root_kind_json(d->root_kind[i]);
    fputs(",\"root_kind\":", f);
    if (kind != NULL)
        fprintf(f, "\"%s\"", kind);
    else
        fputs("null", f);
    uint32_t dom = rcyi_domtree_idom(d, i);
    if (dom == h->n)
        fputs(",\"idom\":null", f);
    else
        fprintf(f, ",\"idom\":%" PRIu32, dom);
    fprintf(f, ",\"retained\":%" PRIu64 ",\"retained_objects\":%" PRIu32, rcyi_domtree_bytes(d, i),
            rcyi_domtree_objects(d, i));
    char desc[128];
    rcy_describe(o, desc, sizeof desc); /* user code: the snapshot is held */
    fputs(",\"repr\":", f);
    rcyi_json_string(f, desc, for_html);
    fputc('}', f);
}

void rcyi_dump_edge(FILE *f, const rcyi_heap_t *h, uint32_t src, size_t e, bool for_html)
{
    rcyi_edge_t edge = rcyi_heap_edge(h, src, e);
    char label[160];
    rcyi_edge_label(&edge, RCYI_LABEL_DOT, label, sizeof label);
    fprintf(f, "{\"t\":\"edge\",\"from\":%" PRIu32 ",\"to\":%" PRIu32 ",\"kind\":\"%s\",\"label\":", edge.src,
            edge.dst, edge_kind_json(edge.kind));
    rcyi_json_string(f, label, for_html);
    fputc('}', f);
}

int rcyi_dump_prepare(rcy_runtime_t *rt, rcyi_dump_t *dp, const char *walk)
{
    memset(dp, 0, sizeof *dp);
    int err = rcyi_domtree_snapshot(rt, &dp->h, &dp->d, NULL, 0, RCYI_HEAP_LABELS, walk);
    if (err < 0)
        return err;
    /* Every object gets its stable id, as in a snapshot. */
    for (uint32_t i = 0; i < dp->h.n; i++) {
        if (!rcyi_is_static_singleton(rt, dp->h.objs[i]) && rcyi_object_id(rt, dp->h.objs[i]) == 0)
            goto nomem;
    }
    if (rcyi_types_index(rt, &dp->ti) < 0)
        goto nomem;
    rcyi_heap_hold(&dp->h); /* describe slots run from here */
    return 0;
nomem:
    rcyi_dump_finish(rt, dp);
    return rcyi_set_error(rt, RCY_ENOMEM);
}

void rcyi_dump_finish(rcy_runtime_t *rt, rcyi_dump_t *dp)
{
    rcyi_free(rt, dp->ti.types);
    rcyi_domtree_free(rt, &dp->d);
    rcyi_heap_free(&dp->h); /* releases the held references last */
    memset(dp, 0, sizeof *dp);
}

int rcy_heap_dump(rcy_runtime_t *rt, const char *path)
{
    if (rt == NULL || path == NULL)
        return RCY_EINVAL;
    RCYI_CHECK_RT(rt);
    rcyi_dump_t dp;
    int err = rcyi_dump_prepare(rt, &dp, "rcy_heap_dump");
    if (err < 0)
        return err;
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        rcyi_dump_finish(rt, &dp);
        return rcyi_set_error(rt, RCY_ESTATE);
    }
    const rcyi_heap_t *h = &dp.h;
    const rcyi_trace_t *tr = rt->trace;
    uint32_t n_sites = tr != NULL ? tr->n_sites : 0;
    size_t bytes = 0;
    for (uint32_t i = 0; i < h->n; i++)
        bytes += rcyi_object_size(h->objs[i]);
    fprintf(f,
            "{\"t\":\"header\",\"format\":\"recycle-heap-dump\",\"version\":1,\"library\":\"%s\",\"types\":%zu,"
            "\"sites\":%" PRIu32 ",\"objects\":%" PRIu32 ",\"edges\":%zu,\"bytes\":%zu,\"pointer_bits\":%zu}\n",
            rcy_version(), dp.ti.n, n_sites, h->n, h->n_edges, bytes, sizeof(void *) * 8);
    for (size_t k = 0; k < dp.ti.n; k++) {
        rcyi_dump_type(f, &dp.ti, k, false);
        fputc('\n', f);
    }
    for (uint32_t k = 0; k < n_sites; k++) {
        rcyi_dump_site(f, tr, k, false);
        fputc('\n', f);
    }
    for (uint32_t i = 0; i < h->n; i++) {
        rcyi_dump_object(f, h, &dp.d, &dp.ti, i, false);
        fputc('\n', f);
    }
    for (uint32_t i = 0; i < h->n; i++) {
        for (size_t e = h->out_start[i]; e < h->out_start[i + 1]; e++) {
            rcyi_dump_edge(f, h, i, e, false);
            fputc('\n', f);
        }
    }
    fputs("{\"t\":\"end\"}\n", f);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0)
        failed = true;
    rcyi_dump_finish(rt, &dp);
    return failed ? rcyi_set_error(rt, RCY_ESTATE) : 0;
}
