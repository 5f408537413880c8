/* The graph tools (show_refs, show_backrefs, show_chain): the DOT text is
   parsed back and checked node by node and edge by edge, labels included;
   files are rendered with Graphviz's dot when it is installed (CI installs
   it), and the missing-dot path is checked by hiding it from PATH. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv, strdup */

#include "harness.h"
#include "node.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- A small DOT reader ------------------------------------------------ */

#define MAX_ITEMS 256

typedef struct attr_s {
    char key[32];
    char value[512];
} attr_t;

typedef struct stmt_s {
    char a[64], b[64]; /* b empty for a node statement */
    attr_t attrs[8];
    int nattrs;
} stmt_t;

typedef struct dot_s {
    stmt_t nodes[MAX_ITEMS], edges[MAX_ITEMS];
    int nnodes, nedges;
    int ok; /* header and closing brace seen, every line parsed */
} dot_t;

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static const char *read_id(const char *p, char *out, size_t size)
{
    size_t n = 0;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_') {
        if (n + 1 < size)
            out[n++] = *p;
        p++;
    }
    out[n] = '\0';
    return n > 0 ? p : NULL;
}

/* A quoted DOT string, unescaped: \" \\ and \n. */
static const char *read_value(const char *p, char *out, size_t size)
{
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p != '"') {
            if (*p == '\0')
                return NULL;
            char c = *p++;
            if (c == '\\') {
                c = *p++;
                if (c == 'n')
                    c = '\n';
                else if (c != '\\' && c != '"')
                    return NULL;
            }
            if (n + 1 < size)
                out[n++] = c;
        }
        p++;
    } else {
        while (*p != ',' && *p != ']' && *p != '\0' && *p != ' ') {
            if (n + 1 < size)
                out[n++] = *p;
            p++;
        }
    }
    out[n] = '\0';
    return p;
}

static int parse_line(const char *line, stmt_t *st, int *is_edge)
{
    memset(st, 0, sizeof *st);
    const char *p = skip_ws(line);
    if ((p = read_id(p, st->a, sizeof st->a)) == NULL)
        return 0;
    p = skip_ws(p);
    *is_edge = 0;
    if (p[0] == '-' && p[1] == '>') {
        *is_edge = 1;
        p = skip_ws(p + 2);
        if ((p = read_id(p, st->b, sizeof st->b)) == NULL)
            return 0;
        p = skip_ws(p);
    }
    if (*p++ != '[')
        return 0;
    for (;;) {
        p = skip_ws(p);
        if (*p == ']')
            break;
        if (st->nattrs == 8)
            return 0;
        attr_t *a = &st->attrs[st->nattrs++];
        if ((p = read_id(p, a->key, sizeof a->key)) == NULL || *p++ != '=')
            return 0;
        if ((p = read_value(p, a->value, sizeof a->value)) == NULL)
            return 0;
        p = skip_ws(p);
        if (*p == ',')
            p++;
    }
    return strcmp(p, "];\n") == 0 || strcmp(p, "];") == 0;
}

static void dot_parse(const char *text, dot_t *d)
{
    memset(d, 0, sizeof *d);
    const char *header = "digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n";
    if (text == NULL || strncmp(text, header, strlen(header)) != 0)
        return;
    const char *p = text + strlen(header);
    int ok = 1;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
        char line[2048];
        if (len >= sizeof line) {
            ok = 0;
            break;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p += len;
        if (strcmp(line, "}\n") == 0) {
            d->ok = ok && *p == '\0';
            return;
        }
        stmt_t st;
        int is_edge;
        if (!parse_line(line, &st, &is_edge)) {
            fprintf(stderr, "unparsed DOT line: %s", line);
            ok = 0;
            continue;
        }
        if (is_edge && d->nedges < MAX_ITEMS)
            d->edges[d->nedges++] = st;
        else if (!is_edge && d->nnodes < MAX_ITEMS)
            d->nodes[d->nnodes++] = st;
    }
}

static const char *attr(const stmt_t *st, const char *key)
{
    for (int i = 0; i < st->nattrs; i++) {
        if (strcmp(st->attrs[i].key, key) == 0)
            return st->attrs[i].value;
    }
    return NULL;
}

static void id_of(const void *o, char *buf)
{
    snprintf(buf, 64, "o%" PRIxPTR, (uintptr_t)o);
}

static const stmt_t *node_of(const dot_t *d, const void *o)
{
    char id[64];
    id_of(o, id);
    for (int i = 0; i < d->nnodes; i++) {
        if (strcmp(d->nodes[i].a, id) == 0)
            return &d->nodes[i];
    }
    return NULL;
}

/* Object nodes only (not the finalizer marks nor the "N more" boxes). */
static int object_nodes(const dot_t *d)
{
    int n = 0;
    for (int i = 0; i < d->nnodes; i++)
        n += d->nodes[i].a[0] == 'o' && strstr(d->nodes[i].a, "_del") == NULL;
    return n;
}

/* Object edges (between object nodes). */
static int object_edges(const dot_t *d)
{
    int n = 0;
    for (int i = 0; i < d->nedges; i++)
        n += d->edges[i].a[0] == 'o' && d->edges[i].b[0] == 'o' && strstr(d->edges[i].b, "_del") == NULL;
    return n;
}

/* The number of edges src -> dst labelled label. */
static int edge_count(const dot_t *d, const void *src, const void *dst, const char *label)
{
    char a[64], b[64];
    id_of(src, a);
    id_of(dst, b);
    int n = 0;
    for (int i = 0; i < d->nedges; i++) {
        const char *l = attr(&d->edges[i], "label");
        n += strcmp(d->edges[i].a, a) == 0 && strcmp(d->edges[i].b, b) == 0 && l != NULL && strcmp(l, label) == 0;
    }
    return n;
}

/* Every object edge carries a non-empty label. */
static int all_edges_labelled(const dot_t *d)
{
    for (int i = 0; i < d->nedges; i++) {
        if (d->edges[i].a[0] != 'o' || d->edges[i].b[0] != 'o' || strstr(d->edges[i].b, "_del") != NULL)
            continue;
        const char *l = attr(&d->edges[i], "label");
        if (l == NULL || l[0] == '\0')
            return 0;
    }
    return 1;
}

/* Runs a graph call writing to a temporary stream and parses the result. */
typedef int (*show_fn)(rcy_object_t *const *, size_t, const rcy_graph_options_t *);

static char *stream_text(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    if (s != NULL && fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    return s;
}

static int graph(show_fn fn, rcy_object_t *const *objs, size_t n, rcy_graph_options_t *opts, dot_t *d)
{
    FILE *f = tmpfile();
    rcy_graph_options_t local;
    if (opts == NULL) {
        rcy_graph_options_init(&local);
        opts = &local;
    }
    opts->output = f;
    int r = fn(objs, n, opts);
    char *text = stream_text(f);
    fclose(f);
    opts->output = NULL;
    dot_parse(text, d);
    CHECK(d->ok);
    if (!d->ok)
        fprintf(stderr, "%s\n", text ? text : "(null)");
    free(text);
    return r;
}

static rcy_object_t *num(rcy_runtime_t *rt, int64_t v) { return rcy_int_new(rt, v); }

/* ---- The seeds' two lists ------------------------------------------------ */

TEST(seed_lists_show_refs)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    /* a = [1, 2, 3]; b = [4, 5, 6]; a.append(b); b.append(a) */
    rcy_object_t *a = rcy_list_new(rt), *b = rcy_list_new(rt);
    rcy_object_t *ints[7];
    for (int i = 1; i <= 6; i++)
        ints[i] = num(rt, i);
    for (int i = 1; i <= 3; i++)
        rcy_list_append(a, ints[i]);
    for (int i = 4; i <= 6; i++)
        rcy_list_append(b, ints[i]);
    rcy_list_append(a, b);
    rcy_list_append(b, a);

    static dot_t d;
    CHECK_EQ(graph(rcy_show_refs, &a, 1, NULL, &d), 0);
    CHECK_EQ(object_nodes(&d), 8);
    CHECK_EQ(object_edges(&d), 8);
    CHECK_EQ(d.nnodes, 8);
    CHECK_EQ(d.nedges, 8);
    CHECK_EQ(edge_count(&d, a, ints[1], "[0]"), 1);
    CHECK_EQ(edge_count(&d, a, ints[2], "[1]"), 1);
    CHECK_EQ(edge_count(&d, a, ints[3], "[2]"), 1);
    CHECK_EQ(edge_count(&d, a, b, "[3]"), 1);
    CHECK_EQ(edge_count(&d, b, ints[4], "[0]"), 1);
    CHECK_EQ(edge_count(&d, b, ints[5], "[1]"), 1);
    CHECK_EQ(edge_count(&d, b, ints[6], "[2]"), 1);
    CHECK_EQ(edge_count(&d, b, a, "[3]"), 1);
    const stmt_t *na = node_of(&d, a), *nb = node_of(&d, b), *n1 = node_of(&d, ints[1]), *n4 = node_of(&d, ints[4]);
    CHECK(na && strcmp(attr(na, "label"), "list\n4 items") == 0);
    CHECK(na && strcmp(attr(na, "fontcolor"), "red") == 0); /* the start object */
    CHECK(na && strcmp(attr(na, "fillcolor"), "0,0,1.000") == 0);
    CHECK(nb && strcmp(attr(nb, "fillcolor"), "0,0,0.767") == 0); /* depth 1 of 3 */
    CHECK(nb && attr(nb, "fontcolor") == NULL);
    CHECK(n1 && strcmp(attr(n1, "label"), "int\n1") == 0);
    CHECK(n4 && strcmp(attr(n4, "fillcolor"), "0,0,0.533") == 0); /* depth 2 */

    /* max_depth 1: b is drawn but not expanded. */
    rcy_graph_options_t o;
    rcy_graph_options_init(&o);
    o.max_depth = 1;
    CHECK_EQ(graph(rcy_show_refs, &a, 1, &o, &d), 0);
    CHECK_EQ(object_nodes(&d), 5);
    CHECK_EQ(object_edges(&d), 4);
    CHECK_EQ(edge_count(&d, b, a, "[3]"), 0);

    /* show_backrefs([a]): b refers to a, a refers to b. */
    CHECK_EQ(graph(rcy_show_backrefs, &a, 1, NULL, &d), 0);
    CHECK_EQ(object_nodes(&d), 2);
    CHECK_EQ(d.nedges, 2);
    CHECK_EQ(edge_count(&d, b, a, "[3]"), 1);
    CHECK_EQ(edge_count(&d, a, b, "[3]"), 1);

    for (int i = 1; i <= 6; i++)
        rcy_decref(ints[i]);
    rcy_decref(a);
    rcy_decref(b);
    test_runtime_end(rt);
}

/* ---- Labels of every kind ------------------------------------------------ */

TEST(every_edge_is_labelled)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *cls = rcy_class_new(rt, "Point", NULL);
    rcy_object_t *p = rcy_instance_new(cls);
    rcy_object_t *x = num(rt, 1000), *name = rcy_str_new(rt, "p");
    rcy_setattr(p, "x", x);
    rcy_setattr(p, "name", name);
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_object_t *k1 = rcy_str_new(rt, "k"), *k2 = num(rt, 42), *k3 = rcy_str_new(rt, "two words");
    rcy_object_t *v1 = rcy_list_new(rt), *v2 = rcy_list_new(rt), *v3 = rcy_list_new(rt);
    rcy_dict_set(d, k1, v1);
    rcy_dict_set(d, k2, v2);
    rcy_dict_set(d, k3, v3);
    rcy_setattr(p, "table", d);
    rcy_type_t *nt = node_type_new(rt, "Node");
    node_t *n = node_new(nt, 0);
    node_set_a(n, v1);
    node_set_b(n, v2);
    rcy_setattr(p, "node", OB(n));

    static dot_t g;
    rcy_graph_options_t o;
    rcy_graph_options_init(&o);
    o.max_depth = 4;
    CHECK_EQ(graph(rcy_show_refs, &p, 1, &o, &g), 0);
    CHECK(all_edges_labelled(&g));
    /* An instance's attributes are its own edges, labelled by name (the
       attribute table is private to the instance, as in CPython 3.11+). */
    CHECK_EQ(edge_count(&g, p, cls, "__class__"), 1);
    CHECK_EQ(edge_count(&g, p, x, "x"), 1);
    CHECK_EQ(edge_count(&g, p, name, "name"), 1);
    CHECK_EQ(edge_count(&g, p, d, "table"), 1);
    CHECK_EQ(edge_count(&g, p, n, "node"), 1);
    CHECK_EQ(edge_count(&g, d, v1, "k"), 1);
    CHECK_EQ(edge_count(&g, d, v2, "[42]"), 1);
    CHECK_EQ(edge_count(&g, d, v3, "['two words']"), 1);
    CHECK_EQ(edge_count(&g, d, k1, "key"), 1);
    CHECK_EQ(edge_count(&g, d, k2, "key"), 1);
    CHECK_EQ(edge_count(&g, n, v1, "a"), 1); /* RCY_VISIT(n->a) */
    CHECK_EQ(edge_count(&g, n, v2, "b"), 1);
    const stmt_t *pn = node_of(&g, p), *cn = node_of(&g, cls), *dn = node_of(&g, d);
    CHECK(pn && strncmp(attr(pn, "label"), "Point\n<Point 0x", 15) == 0);
    CHECK(cn && strcmp(attr(cn, "label"), "type\nPoint") == 0);
    CHECK(dn && strcmp(attr(dn, "label"), "dict\n3 items") == 0);

    rcy_decref(OB(n));
    rcy_decref(x);
    rcy_decref(name);
    rcy_decref(k1);
    rcy_decref(k2);
    rcy_decref(k3);
    rcy_decref(v1);
    rcy_decref(v2);
    rcy_decref(v3);
    rcy_decref(d);
    rcy_decref(p);
    rcy_decref(cls);
    test_runtime_end(rt);
}

TEST(labels_are_escaped)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_object_t *s = rcy_str_new(rt, "say \"hi\" \\ now\nnext line");
    rcy_list_append(l, s);
    rcy_object_t *d = rcy_dict_new(rt);
    rcy_dict_set(d, s, l); /* a key with quotes: in the edge label */
    rcy_list_append(l, d);
    static dot_t g;
    CHECK_EQ(graph(rcy_show_refs, &l, 1, NULL, &g), 0);
    char desc[64], expect[128];
    rcy_describe(s, desc, sizeof desc);
    if (strlen(desc) > 40)
        memcpy(desc + 37, "...", 4);
    snprintf(expect, sizeof expect, "str\n%s", desc);
    const stmt_t *sn = node_of(&g, s);
    CHECK(sn && strcmp(attr(sn, "label"), expect) == 0);
    rcy_describe(s, desc, sizeof desc);
    CHECK_EQ(edge_count(&g, d, l, "['say \"hi\" \\\\ now\\nnext line']"), 1);
    rcy_decref(d);
    rcy_decref(s);
    rcy_decref(l);
    test_runtime_end(rt);
}

/* ---- Options ------------------------------------------------------------- */

static int not_a_str(rcy_object_t *o, void *arg)
{
    (void)arg;
    return !rcy_is_str(o);
}

static int is_arg(rcy_object_t *o, void *arg) { return o == arg; }

static int info(rcy_object_t *o, char *buf, size_t size, void *arg)
{
    (void)arg;
    return rcy_is_list(o) ? snprintf(buf, size, "len=%td", (ptrdiff_t)rcy_list_len(o)) : 0;
}

TEST(too_many_filter_ignore_highlight_info_refcounts)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = rcy_list_new(rt);
    rcy_object_t *items[15];
    for (int i = 0; i < 15; i++) {
        items[i] = rcy_list_new(rt);
        rcy_list_append(l, items[i]);
    }
    static dot_t g;
    CHECK_EQ(graph(rcy_show_refs, &l, 1, NULL, &g), 0);
    CHECK_EQ(object_nodes(&g), 11);
    CHECK_EQ(object_edges(&g), 10);
    for (int i = 0; i < 10; i++) {
        char lab[8];
        snprintf(lab, sizeof lab, "[%d]", i);
        CHECK_EQ(edge_count(&g, l, items[i], lab), 1);
    }
    char tm[80], lid[64];
    id_of(l, lid);
    snprintf(tm, sizeof tm, "too_many_%s", lid);
    int found = 0;
    for (int i = 0; i < g.nnodes; i++) {
        if (strcmp(g.nodes[i].a, tm) == 0) {
            found = 1;
            CHECK(strcmp(attr(&g.nodes[i], "label"), "5 more references") == 0);
        }
    }
    CHECK(found);
    int tm_edge = 0;
    for (int i = 0; i < g.nedges; i++)
        tm_edge += strcmp(g.edges[i].a, lid) == 0 && strcmp(g.edges[i].b, tm) == 0;
    CHECK_EQ(tm_edge, 1);

    /* Backreferences past too_many. */
    rcy_object_t *shared = rcy_list_new(rt);
    for (int i = 0; i < 12; i++)
        rcy_list_append(items[i], shared);
    rcy_graph_options_t o;
    rcy_graph_options_init(&o);
    o.max_depth = 1;
    CHECK_EQ(graph(rcy_show_backrefs, &shared, 1, &o, &g), 0);
    CHECK_EQ(object_edges(&g), 10);
    found = 0;
    for (int i = 0; i < g.nnodes; i++)
        found += strstr(g.nodes[i].a, "too_many_") == g.nodes[i].a &&
                 strcmp(attr(&g.nodes[i], "label"), "2 more backreferences") == 0;
    CHECK_EQ(found, 1);

    /* filter, extra_ignore, highlight, extra_info, refcounts */
    rcy_object_t *s = rcy_str_new(rt, "dropped by the filter");
    rcy_list_append(items[0], s);
    rcy_graph_options_init(&o);
    o.too_many = 20;
    o.max_depth = 2;
    o.filter = not_a_str;
    o.extra_ignore = &items[1];
    o.n_extra_ignore = 1;
    o.highlight = is_arg;
    o.arg = items[2];
    o.extra_info = info;
    o.refcounts = 1;
    CHECK_EQ(graph(rcy_show_refs, &l, 1, &o, &g), 0);
    CHECK(node_of(&g, s) == NULL);
    CHECK(node_of(&g, items[1]) == NULL);
    CHECK_EQ(object_edges(&g), 14 + 12 - 1); /* l's items but items[1]; items[0,2..11] -> shared */
    const stmt_t *h = node_of(&g, items[2]);
    CHECK(h && strncmp(attr(h, "fillcolor"), "0.6,0.6,", 8) == 0);
    const stmt_t *ln = node_of(&g, l);
    /* l: refcount 1 (our variable), held from outside once, 15 items */
    CHECK(ln && strcmp(attr(ln, "label"), "list [1]\n15 items\n1 from outside the heap\nlen=15") == 0);
    const stmt_t *i3 = node_of(&g, items[3]);
    CHECK(i3 && strcmp(attr(i3, "label"), "list [2]\n1 items\n1 from outside the heap\nlen=1") == 0);

    rcy_decref(s);
    rcy_decref(shared);
    for (int i = 0; i < 15; i++)
        rcy_decref(items[i]);
    rcy_decref(l);
    test_runtime_end(rt);
}

static int del_count;
static int count_del(rcy_object_t *self, void *arg)
{
    (void)self;
    (void)arg;
    del_count++;
    return 0;
}

TEST(roots_and_finalizers_are_marked)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_class_spec_t spec = {count_del, NULL, NULL};
    rcy_object_t *cls = rcy_class_new(rt, "Resource", &spec);
    rcy_object_t *res = rcy_instance_new(cls);
    rcy_object_t *globals = rcy_list_new(rt);
    rcy_root_add(globals, "globals");
    rcy_list_append(globals, res);
    rcy_object_t *outer = rcy_list_new(rt); /* refers to the root: not drawn, the root is not expanded */
    rcy_list_append(outer, globals);
    static dot_t g;
    rcy_graph_options_t o;
    rcy_graph_options_init(&o);
    o.max_depth = 5;
    CHECK_EQ(graph(rcy_show_backrefs, &res, 1, &o, &g), 0);
    const stmt_t *gn = node_of(&g, globals);
    CHECK(gn && strcmp(attr(gn, "fillcolor"), "0.3,1,0.3") == 0);
    CHECK(gn && strcmp(attr(gn, "label"), "list\n1 items\nroot: globals") == 0);
    CHECK(node_of(&g, outer) == NULL);
    CHECK_EQ(edge_count(&g, globals, res, "[0]"), 1);
    char rid[64], del[80];
    id_of(res, rid);
    snprintf(del, sizeof del, "%s_del", rid);
    int mark = 0, mark_edge = 0;
    for (int i = 0; i < g.nnodes; i++)
        mark += strcmp(g.nodes[i].a, del) == 0 && strcmp(attr(&g.nodes[i], "label"), "__del__") == 0 &&
                strcmp(attr(&g.nodes[i], "shape"), "doublecircle") == 0;
    for (int i = 0; i < g.nedges; i++)
        mark_edge += strcmp(g.edges[i].a, rid) == 0 && strcmp(g.edges[i].b, del) == 0;
    CHECK_EQ(mark, 1);
    CHECK_EQ(mark_edge, 1);
    rcy_root_remove(globals);
    rcy_decref(outer);
    rcy_decref(globals);
    rcy_decref(res);
    rcy_decref(cls);
    CHECK_EQ(del_count, 1);
    test_runtime_end(rt);
}

TEST(show_chain_draws_only_the_chain)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *registry = rcy_dict_new(rt);
    rcy_root_add(registry, "registry");
    rcy_object_t *cache = rcy_list_new(rt), *other = rcy_list_new(rt);
    rcy_object_t *key = rcy_str_new(rt, "cache");
    rcy_dict_set(registry, key, cache);
    rcy_decref(key);
    rcy_object_t *leak = rcy_list_new(rt);
    rcy_list_append(other, leak); /* another referrer, not on the chain */
    rcy_list_append(cache, other);
    rcy_list_append(cache, leak);
    rcy_objarray_t chain = {0};
    CHECK_EQ(rcy_find_backref_chain(leak, NULL, NULL, 0, &chain), 1);
    CHECK_EQ(chain.len, 3);
    FILE *f = tmpfile();
    rcy_graph_options_t o;
    rcy_graph_options_init(&o);
    o.output = f;
    CHECK_EQ(rcy_show_chain(&chain, 1, 1, &o), 0);
    char *text = stream_text(f);
    fclose(f);
    static dot_t g;
    dot_parse(text, &g);
    free(text);
    CHECK(g.ok);
    CHECK_EQ(object_nodes(&g), 3);
    CHECK_EQ(object_edges(&g), 2);
    CHECK_EQ(edge_count(&g, registry, cache, "cache"), 1);
    CHECK_EQ(edge_count(&g, cache, leak, "[1]"), 1);
    CHECK(node_of(&g, other) == NULL);
    /* Forwards: the chain's first object is the start. */
    f = tmpfile();
    o.output = f;
    CHECK_EQ(rcy_show_chain(&chain, 1, 0, &o), 0);
    text = stream_text(f);
    fclose(f);
    dot_parse(text, &g);
    free(text);
    CHECK_EQ(object_nodes(&g), 3);
    CHECK_EQ(object_edges(&g), 2);
    const stmt_t *rn = node_of(&g, registry);
    CHECK(rn && strcmp(attr(rn, "fontcolor"), "red") == 0);
    rcy_objarray_t empty = {NULL, 0, 0, rt};
    CHECK_EQ(rcy_show_chain(&empty, 1, 1, &o), RCY_EINVAL);
    rcy_objarray_release(&chain);
    rcy_decref(leak);
    rcy_decref(other);
    rcy_decref(cache);
    rcy_root_remove(registry);
    rcy_decref(registry);
    test_runtime_end(rt);
}

/* ---- Files and rendering ------------------------------------------------- */

static int file_starts_with(const char *path, const char *prefix, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    char buf[64] = {0};
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return got == n && memcmp(buf, prefix, n) == 0;
}

static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* The filter is user code: one that releases the last reference to an
   object of the graph frees nothing under the walk (the snapshot holds what
   it shows), and the counts drawn leave the snapshot's references out. */
typedef struct pop_ctx_s {
    rcy_object_t *list;
    size_t live_before, live_during;
    int calls;
} pop_ctx_t;

static int filter_pops(rcy_object_t *o, void *arg)
{
    (void)o;
    pop_ctx_t *c = arg;
    if (c->calls++ == 0) {
        rcy_object_t *item = rcy_list_pop(c->list, 0);
        rcy_decref(item); /* item's last reference */
        c->live_during = rcy_runtime_live_objects(rcy_object_runtime(c->list));
    }
    return 1;
}

TEST(filter_may_release_references)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_list_new(rt), *b = rcy_list_new(rt), *c = rcy_list_new(rt);
    rcy_list_append(a, b);
    rcy_list_append(b, c);
    rcy_decref(b); /* held by a only */
    pop_ctx_t ctx = {a, rcy_runtime_live_objects(rt), 0, 0};
    FILE *f = tmpfile();
    rcy_graph_options_t o;
    rcy_graph_options_init(&o);
    o.output = f;
    o.filter = filter_pops;
    o.arg = &ctx;
    o.refcounts = 1;
    CHECK_EQ(rcy_show_refs(&a, 1, &o), 0);
    char *text = stream_text(f);
    fclose(f);
    CHECK(ctx.calls > 0);
    CHECK_EQ(ctx.live_during, ctx.live_before);
    CHECK_STR_CONTAINS(text, "list [1]"); /* a: the caller's reference only */
    free(text);
    CHECK_EQ(rcy_runtime_live_objects(rt), 2); /* b went when the walk ended */
    CHECK_EQ(rcy_list_len(a), 0);
    rcy_decref(a);
    rcy_decref(c);
    test_runtime_end(rt);
}

TEST(files_and_rendering)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    int have_dot = system("command -v dot >/dev/null 2>&1") == 0;
    if (!have_dot)
        fprintf(stderr, "note: Graphviz's dot is not installed: rendering is not checked here (CI installs it)\n");
    char dir[] = "/tmp/rcy-test-dot-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], dotpath[256], image[256];
    rcy_object_t *a = rcy_list_new(rt), *b = rcy_list_new(rt);
    rcy_list_append(a, b);
    rcy_list_append(b, a);
    rcy_graph_options_t o;
    rcy_graph_options_init(&o);
    o.path_out = image;
    o.path_out_size = sizeof image;

    /* .dot: written as is. */
    snprintf(path, sizeof path, "%s/graph.dot", dir);
    o.filename = path;
    CHECK_EQ(rcy_show_refs(&a, 1, &o), 0);
    CHECK(strcmp(image, path) == 0);
    CHECK(file_starts_with(path, "digraph ObjectGraph {", 21));
    char msg[320];
    snprintf(msg, sizeof msg, "Graph written to %s (2 nodes)\n", path);
    CHECK_STR_CONTAINS(cap.text, msg);
    capture_reset(&cap);

    /* .png and .svg: rendered with dot from graph.dot beside them. */
    snprintf(path, sizeof path, "%s/refs.png", dir);
    snprintf(dotpath, sizeof dotpath, "%s/refs.dot", dir);
    o.filename = path;
    int r = rcy_show_refs(&a, 1, &o);
    CHECK(file_starts_with(dotpath, "digraph", 7));
    if (have_dot) {
        CHECK_EQ(r, 0);
        CHECK(strcmp(image, path) == 0);
        CHECK(file_starts_with(path, "\x89PNG", 4));
        snprintf(msg, sizeof msg, "Image generated as %s\n", path);
        CHECK_STR_CONTAINS(cap.text, msg);
        snprintf(path, sizeof path, "%s/backrefs.svg", dir);
        o.filename = path;
        CHECK_EQ(rcy_show_backrefs(&a, 1, &o), 0);
        CHECK(file_contains(path, "<svg"));
        CHECK(file_contains(path, "[0]")); /* the edge label made it into the picture */
    } else {
        CHECK_EQ(r, 1);
        CHECK(strcmp(image, dotpath) == 0);
    }
    capture_reset(&cap);

    /* dot hidden from PATH: the DOT file stays, the hook says so. */
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", dir, 1);
    snprintf(path, sizeof path, "%s/nodot.png", dir);
    snprintf(dotpath, sizeof dotpath, "%s/nodot.dot", dir);
    o.filename = path;
    CHECK_EQ(rcy_show_refs(&a, 1, &o), 1);
    CHECK(strcmp(image, dotpath) == 0);
    CHECK(file_starts_with(dotpath, "digraph", 7));
    CHECK_STR_CONTAINS(cap.text, "Graphviz's dot was not found: the graph stays in");
    if (saved != NULL) {
        setenv("PATH", saved, 1);
        free(saved);
    }
    capture_reset(&cap);

    /* No filename: a temporary file in TMPDIR, rendered in o.format. */
    const char *oldtmp = getenv("TMPDIR");
    char *savedtmp = oldtmp ? strdup(oldtmp) : NULL;
    setenv("TMPDIR", dir, 1);
    o.filename = NULL;
    o.format = RCY_GRAPH_DOT;
    CHECK_EQ(rcy_show_refs(&a, 1, &o), 0);
    CHECK(strncmp(image, dir, strlen(dir)) == 0 && strstr(image, "/rcy-graph-") != NULL);
    CHECK(strlen(image) > 4 && strcmp(image + strlen(image) - 4, ".dot") == 0);
    CHECK(file_starts_with(image, "digraph", 7));
    unlink(image);
    o.format = RCY_GRAPH_SVG;
    r = rcy_show_refs(&a, 1, &o);
    CHECK_EQ(r, have_dot ? 0 : 1);
    if (have_dot)
        CHECK(strlen(image) > 4 && strcmp(image + strlen(image) - 4, ".svg") == 0 && file_contains(image, "<svg"));
    if (savedtmp != NULL) {
        setenv("TMPDIR", savedtmp, 1);
        free(savedtmp);
    } else {
        unsetenv("TMPDIR");
    }

    /* Errors. */
    FILE *f = tmpfile();
    o.output = f;
    o.filename = "x.dot";
    CHECK_EQ(rcy_show_refs(&a, 1, &o), RCY_EINVAL);
    fclose(f);
    o.output = NULL;
    o.filename = "/nonexistent-dir/x.dot";
    CHECK_EQ(rcy_show_refs(&a, 1, &o), RCY_ESTATE);
    CHECK_EQ(rcy_show_refs(&a, 0, &o), RCY_EINVAL);
    CHECK_EQ(rcy_show_refs(NULL, 1, &o), RCY_EINVAL);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ(system(cmd), 0);
    rcy_decref(a);
    rcy_decref(b);
    test_runtime_end(rt);
    capture_free(&cap);
}

int main(void)
{
    RUN(seed_lists_show_refs);
    RUN(every_edge_is_labelled);
    RUN(labels_are_escaped);
    RUN(too_many_filter_ignore_highlight_info_refcounts);
    RUN(roots_and_finalizers_are_marked);
    RUN(show_chain_draws_only_the_chain);
    RUN(filter_may_release_references);
    RUN(files_and_rendering);
    return harness_summary();
}
