/*
 * Reference graphs in Graphviz's DOT language, in objgraph's look
 * (show_refs, show_backrefs, show_chain): a breadth-first walk of the heap
 * snapshot (tools.h) from the start objects, nodes shaded by depth, start
 * objects in red text, registered roots in green, finalizers marked by a
 * red "__del__" node, the edges past too_many summed in one "N more
 * references" node, and every edge labelled with what traverse said (list
 * index, dict key, attribute or field name). Rendering runs Graphviz's dot
 * in a child process (no shell); without dot, the DOT file is kept and the
 * output hook says so.
 */
#include "heaptools.h"

#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void rcy_graph_options_init(rcy_graph_options_t *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->max_depth = 3;
    opts->too_many = 10;
    opts->format = RCY_GRAPH_PNG;
}

/* ---- DOT text -------------------------------------------------------- */

/* Writes s as the inside of a DOT string: \ and " escaped, newlines as \n. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '\\': fputs("\\\\", f); break;
        case '"': fputs("\\\"", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': break;
        default: fputc(*s, f);
        }
    }
}

static void put_id(FILE *f, const rcy_object_t *o) { fprintf(f, "o%" PRIxPTR, (uintptr_t)o); }

/* objgraph's _short_repr: a count of items for the built-in collections, a
   class's name, else the description cut to 40 characters. */
static void short_repr(rcy_object_t *o, char *buf, size_t size)
{
    if (rcy_is_list(o)) {
        snprintf(buf, size, "%td items", (ptrdiff_t)rcy_list_len(o));
    } else if (rcy_is_tuple(o)) {
        snprintf(buf, size, "%td items", (ptrdiff_t)rcy_tuple_len(o));
    } else if (rcy_is_dict(o)) {
        snprintf(buf, size, "%td items", (ptrdiff_t)rcy_dict_len(o));
    } else if (rcy_is_class(o)) {
        snprintf(buf, size, "%s", rcy_type_name(rcy_class_instance_type(o)));
    } else {
        char desc[64];
        rcy_describe(o, desc, sizeof desc);
        if (strlen(desc) > 40)
            memcpy(desc + 37, "...", 4);
        snprintf(buf, size, "%s", desc);
    }
}

/* HSV colours as objgraph computes them: value from 1 (depth 0) down to 0.3
   (max_depth). */
static double shade(int depth, int max_depth)
{
    if (max_depth <= 0)
        return 1.0;
    if (depth > max_depth)
        depth = max_depth;
    return 1.0 - 0.7 * (double)depth / (double)max_depth;
}

typedef struct graph_s {
    rcyi_heap_t h;
    const rcy_graph_options_t *opts;
    bool backrefs;
    const bool *allowed; /* show_chain: only these nodes; NULL: all */
    bool *ignored;       /* extra_ignore, by node */
    bool *is_start;
    int32_t *depth;
    uint32_t *queue;
    size_t nodes;
} graph_t;

static void write_node(graph_t *g, FILE *f, uint32_t i)
{
    const rcy_graph_options_t *opts = g->opts;
    rcy_object_t *o = g->h.objs[i];
    rcy_runtime_t *rt = g->h.rt;
    char text[1024], part[256];
    int n;
    if (opts->refcounts) {
        if (rcy_is_immortal(o))
            n = snprintf(text, sizeof text, "%s [immortal]", o->type->name);
        else
            n = snprintf(text, sizeof text, "%s [%td]", o->type->name,
                         (ptrdiff_t)(o->refcnt - (g->h.held ? 1 : 0))); /* without the snapshot's */
    } else {
        n = snprintf(text, sizeof text, "%s", o->type->name);
    }
    size_t len = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    short_repr(o, part, sizeof part);
    len += (size_t)snprintf(text + len, sizeof text - len, "\n%s", part);
    /* Looked up now: a callback may have changed the registry since the
       snapshot was built. */
    const char *root = rcyi_heap_is_root(&g->h, i) ? rcyi_root_name(rt, o) : NULL;
    if (root != NULL && len < sizeof text)
        len += (size_t)snprintf(text + len, sizeof text - len, "\nroot: %s", root);
    const rcyi_site_t *site = rcyi_object_site(rt, o);
    if (site != NULL && len < sizeof text)
        len += (size_t)snprintf(text + len, sizeof text - len, "\nat %s", site->name);
    intptr_t ext = rcyi_heap_external(&g->h, i);
    if (opts->refcounts && !rcy_is_immortal(o) && ext > 0 && len < sizeof text)
        len += (size_t)snprintf(text + len, sizeof text - len, "\n%td from outside the heap", (ptrdiff_t)ext);
    if (opts->extra_info != NULL && len < sizeof text) {
        part[0] = '\0';
        if (opts->extra_info(o, part, sizeof part, opts->arg) > 0) {
            part[sizeof part - 1] = '\0';
            len += (size_t)snprintf(text + len, sizeof text - len, "\n%s", part);
        }
    }
    (void)len;

    double v = shade(g->depth[i], opts->max_depth);
    char fill[48];
    bool white_text;
    if (root != NULL) {
        snprintf(fill, sizeof fill, "0.3,1,0.3");
        white_text = true;
    } else if (opts->highlight != NULL && opts->highlight(o, opts->arg)) {
        v = 0.5 + v / 2;
        snprintf(fill, sizeof fill, "0.6,0.6,%.3f", v);
        white_text = false;
    } else {
        snprintf(fill, sizeof fill, "0,0,%.3f", v);
        white_text = v < 0.5;
    }
    fputs("  ", f);
    put_id(f, o);
    fputs("[label=\"", f);
    put_escaped(f, text);
    fprintf(f, "\", fillcolor=\"%s\"", fill);
    if (g->is_start[i])
        fputs(", fontcolor=red", f);
    else if (white_text)
        fputs(", fontcolor=white", f);
    fputs("];\n", f);

    /* Finalizers: a red double circle beside the node (objgraph marks
       __del__, which made cycles uncollectable before Python 3.4). */
    if (o->type->finalize != NULL || o->type->legacy_del != NULL) {
        fputs("  ", f);
        put_id(f, o);
        fprintf(f, "_del[label=\"%s\", shape=doublecircle, height=0.25, color=red, fillcolor=\"0,0.5,1\", "
                   "fontsize=6];\n",
                o->type->legacy_del != NULL ? "legacy __del__" : "__del__");
        fputs("  ", f);
        put_id(f, o);
        fputs(" -> ", f);
        put_id(f, o);
        fputs("_del[color=red, style=dotted, len=0.25, weight=10];\n", f);
    }
}

static void write_edge(FILE *f, const rcyi_edge_t *e, const rcyi_heap_t *h)
{
    char label[128];
    rcyi_edge_label(e, RCYI_LABEL_DOT, label, sizeof label);
    fputs("  ", f);
    put_id(f, h->objs[e->src]);
    fputs(" -> ", f);
    put_id(f, h->objs[e->dst]);
    fputs(" [label=\"", f);
    put_escaped(f, label);
    fputs("\"];\n", f);
}

static bool keep_neighbour(graph_t *g, uint32_t k)
{
    if (g->ignored[k])
        return false;
    if (g->allowed != NULL && !g->allowed[k])
        return false;
    if (g->opts->filter != NULL && !g->opts->filter(g->h.objs[k], g->opts->arg))
        return false;
    return true;
}

static void write_graph(graph_t *g, FILE *f, const uint32_t *starts, size_t n_starts)
{
    const rcy_graph_options_t *opts = g->opts;
    rcyi_heap_t *h = &g->h;
    size_t qhead = 0, qtail = 0;
    fputs("digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n", f);
    for (size_t k = 0; k < n_starts; k++) {
        if (g->depth[starts[k]] < 0) {
            g->depth[starts[k]] = 0;
            g->queue[qtail++] = starts[k];
        }
    }
    while (qhead < qtail) {
        uint32_t i = g->queue[qhead++];
        write_node(g, f, i);
        g->nodes++;
        if (g->depth[i] >= opts->max_depth)
            continue;
        if (g->backrefs && rcyi_heap_is_root(h, i))
            continue; /* roots are drawn, not expanded (objgraph culls modules) */
        size_t lo = g->backrefs ? h->in_start[i] : h->out_start[i];
        size_t hi = g->backrefs ? h->in_start[i + 1] : h->out_start[i + 1];
        int drawn = 0;
        size_t skipped = 0;
        for (size_t k = lo; k < hi; k++) {
            rcyi_edge_t e = g->backrefs ? rcyi_heap_edge(h, h->in_src[k], h->in_edge[k]) : rcyi_heap_edge(h, i, k);
            uint32_t next = g->backrefs ? e.src : e.dst;
            if (!keep_neighbour(g, next))
                continue;
            if (drawn >= opts->too_many) {
                skipped++;
                continue;
            }
            write_edge(f, &e, h);
            drawn++;
            if (g->depth[next] < 0) {
                g->depth[next] = g->depth[i] + 1;
                g->queue[qtail++] = next;
            }
        }
        if (skipped > 0) {
            double v = shade(g->depth[i] + 1, opts->max_depth);
            fputs("  too_many_", f);
            put_id(f, h->objs[i]);
            fprintf(f,
                    "[label=\"%zu more %s\", shape=box, height=0.25, color=red, fillcolor=\"0,1,%.3f\", "
                    "fontsize=6];\n",
                    skipped, g->backrefs ? "backreferences" : "references", v);
            fputs("  ", f);
            if (g->backrefs) {
                fputs("too_many_", f);
                put_id(f, h->objs[i]);
                fputs(" -> ", f);
                put_id(f, h->objs[i]);
            } else {
                put_id(f, h->objs[i]);
                fputs(" -> too_many_", f);
                put_id(f, h->objs[i]);
            }
            fputs("[color=red, style=dotted, len=0.25, weight=10];\n", f);
        }
    }
    fputs("}\n", f);
}

/* ---- Files and rendering --------------------------------------------- */

/* Runs `dot -T<fmt> -o image dotfile`. 0 on success, 1 when dot is not
   installed, 2 when it failed. */
static int render(const char *fmt, const char *dot_path, const char *image, int *status)
{
    char tflag[32];
    snprintf(tflag, sizeof tflag, "-T%s", fmt);
    char *argv[] = {"dot", tflag, "-o", (char *)(uintptr_t)image, (char *)(uintptr_t)dot_path, NULL};
    pid_t pid;
    int err = posix_spawnp(&pid, "dot", NULL, NULL, argv, environ);
    if (err != 0)
        return err == ENOENT || err == EACCES ? 1 : 2;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return 2;
    }
    *status = st;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return 1; /* the exec failed in the child */
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 2;
}

static void set_path_out(const rcy_graph_options_t *opts, const char *path)
{
    if (opts->path_out != NULL && opts->path_out_size > 0)
        snprintf(opts->path_out, opts->path_out_size, "%s", path);
}

/* The extension of path's last component (without the dot), or "". */
static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot != NULL && dot != base ? dot + 1 : "";
}

static int emit(graph_t *g, const uint32_t *starts, size_t n_starts)
{
    const rcy_graph_options_t *opts = g->opts;
    rcy_runtime_t *rt = g->h.rt;
    if (opts->output != NULL) {
        write_graph(g, opts->output, starts, n_starts);
        set_path_out(opts, "");
        return ferror(opts->output) ? rcyi_set_error(rt, RCY_ESTATE) : 0;
    }
    /* Where the DOT text goes, and the image made from it. */
    size_t plen = opts->filename ? strlen(opts->filename) : 0;
    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    size_t cap;
    if (!rcyi_size_add(plen, strlen(tmpdir), &cap) || !rcyi_size_add(cap, 64, &cap))
        return rcyi_set_error(rt, RCY_ENOMEM);
    char *dot_path = rcyi_malloc(rt, cap), *image = rcyi_malloc(rt, cap);
    if (dot_path == NULL || image == NULL) {
        rcyi_free(rt, dot_path);
        rcyi_free(rt, image);
        return RCY_ENOMEM;
    }
    char fmt[16] = "";
    FILE *f = NULL;
    if (opts->filename != NULL) {
        const char *ext = extension(opts->filename);
        snprintf(dot_path, cap, "%s", opts->filename);
        if (ext[0] != '\0' && strcmp(ext, "dot") != 0 && strcmp(ext, "gv") != 0 && strlen(ext) < sizeof fmt) {
            snprintf(fmt, sizeof fmt, "%s", ext);
            snprintf(image, cap, "%s", opts->filename);
            strcpy(dot_path + (ext - opts->filename), "dot");
        }
        f = fopen(dot_path, "w");
    } else {
        snprintf(dot_path, cap, "%s/rcy-graph-XXXXXX.dot", tmpdir);
        int fd = mkstemps(dot_path, 4);
        if (fd >= 0) {
            f = fdopen(fd, "w");
            if (f == NULL)
                close(fd);
        }
        if (opts->format != RCY_GRAPH_DOT) {
            snprintf(fmt, sizeof fmt, "%s", opts->format == RCY_GRAPH_SVG ? "svg" : "png");
            snprintf(image, cap, "%s", dot_path);
            strcpy(image + strlen(image) - 3, fmt);
        }
    }
    int result = 0;
    if (f == NULL) {
        rcyi_out(rt, NULL, "recycle: cannot write the graph to %s\n", dot_path);
        result = rcyi_set_error(rt, RCY_ESTATE);
        goto done;
    }
    write_graph(g, f, starts, n_starts);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) {
        rcyi_out(rt, NULL, "recycle: cannot write the graph to %s\n", dot_path);
        result = rcyi_set_error(rt, RCY_ESTATE);
        goto done;
    }
    rcyi_out(rt, NULL, "Graph written to %s (%zu nodes)\n", dot_path, g->nodes);
    set_path_out(opts, dot_path);
    if (fmt[0] != '\0') {
        int status = 0;
        int r = render(fmt, dot_path, image, &status);
        if (r == 0) {
            rcyi_out(rt, NULL, "Image generated as %s\n", image);
            set_path_out(opts, image);
        } else if (r == 1) {
            rcyi_out(rt, NULL,
                     "Graphviz's dot was not found: the graph stays in %s (install graphviz, then run: dot -T%s "
                     "-o %s %s)\n",
                     dot_path, fmt, image, dot_path);
            result = 1;
        } else {
            rcyi_out(rt, NULL, "Graphviz's dot failed (status %d): the graph stays in %s\n", status, dot_path);
            result = 1;
        }
    }
done:
    rcyi_free(rt, dot_path);
    rcyi_free(rt, image);
    return result;
}

/* ---- The three calls ------------------------------------------------- */

static int show(rcy_object_t *const *objs, size_t n, const rcy_graph_options_t *user_opts, bool backrefs,
                const rcy_objarray_t *chains, size_t n_chains)
{
    rcy_runtime_t *rt = objs[0]->type->rt;
    RCYI_CHECK_RT(rt);
    rcy_graph_options_t opts;
    if (user_opts != NULL && !RCYI_SIZE_OK(user_opts))
        return rcyi_set_error(rt, RCY_EINVAL);
    if (user_opts != NULL)
        opts = *user_opts;
    else
        rcy_graph_options_init(&opts);
    if (opts.output != NULL && opts.filename != NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    if (opts.too_many <= 0)
        opts.too_many = 10;
    if (opts.max_depth < 0)
        opts.max_depth = 0;
    graph_t g;
    memset(&g, 0, sizeof g);
    g.opts = &opts;
    g.backrefs = backrefs;
    int err = rcyi_heap_build(rt, &g.h, objs, n, RCYI_HEAP_LABELS, backrefs ? "rcy_show_backrefs" : "rcy_show_refs");
    if (err < 0)
        return err;
    /* Filters, highlight, extra_info, describe slots and the output hook
       are user code: the snapshot holds what it shows. */
    rcyi_heap_hold(&g.h);
    int result = RCY_ENOMEM;
    uint32_t *starts = NULL;
    bool *allowed = NULL;
    if (rcyi_heap_index_referrers(&g.h) < 0 || rcyi_heap_map_all(&g.h) < 0)
        goto out;
    size_t nn = (size_t)g.h.n;
    g.ignored = rcyi_malloc_array(rt, nn, sizeof *g.ignored);
    g.is_start = rcyi_malloc_array(rt, nn, sizeof *g.is_start);
    g.depth = rcyi_malloc_array(rt, nn, sizeof *g.depth);
    g.queue = rcyi_malloc_array(rt, nn, sizeof *g.queue);
    starts = rcyi_malloc_array(rt, n, sizeof *starts);
    if (g.ignored == NULL || g.is_start == NULL || g.depth == NULL || g.queue == NULL || starts == NULL)
        goto out;
    memset(g.ignored, 0, nn * sizeof *g.ignored);
    memset(g.is_start, 0, nn * sizeof *g.is_start);
    for (size_t i = 0; i < nn; i++)
        g.depth[i] = -1;
    for (size_t k = 0; k < opts.n_extra_ignore; k++) {
        uint32_t i = opts.extra_ignore[k] ? rcyi_heap_find(&g.h, opts.extra_ignore[k]) : RCYI_NO_NODE;
        if (i != RCYI_NO_NODE)
            g.ignored[i] = true;
    }
    for (size_t k = 0; k < n; k++) {
        starts[k] = g.h.extra_nodes[k];
        g.is_start[starts[k]] = true;
    }
    if (chains != NULL) {
        allowed = rcyi_malloc_array(rt, nn, sizeof *allowed);
        if (allowed == NULL)
            goto out;
        memset(allowed, 0, nn * sizeof *allowed);
        for (size_t c = 0; c < n_chains; c++) {
            for (size_t k = 0; k < chains[c].len; k++) {
                uint32_t i = rcyi_heap_find(&g.h, chains[c].items[k]);
                if (i != RCYI_NO_NODE)
                    allowed[i] = true;
            }
        }
        g.allowed = allowed;
    }
    result = emit(&g, starts, n);
out:
    if (result == RCY_ENOMEM)
        rcyi_set_error(rt, RCY_ENOMEM);
    rcyi_free(rt, allowed);
    rcyi_free(rt, starts);
    rcyi_free(rt, g.ignored);
    rcyi_free(rt, g.is_start);
    rcyi_free(rt, g.depth);
    rcyi_free(rt, g.queue);
    rcyi_heap_free(&g.h);
    return result;
}

/* 0, RCY_EINVAL (no objects, a NULL one) or RCY_ERUNTIME (objects of two
   runtimes: a graph is drawn from one runtime's heap), set as the first
   object's runtime's last error. */
static int check_objs(rcy_object_t *const *objs, size_t n)
{
    if (objs == NULL || n == 0 || objs[0] == NULL)
        return RCY_EINVAL;
    rcyi_check_live(objs[0]);
    rcy_runtime_t *rt = objs[0]->type->rt;
    for (size_t i = 1; i < n; i++) {
        if (objs[i] == NULL)
            return rcyi_set_error(rt, RCY_EINVAL);
        rcyi_check_live(objs[i]);
        if (!rcyi_same_runtime(objs[i], rt))
            return rcyi_set_error(rt, RCY_ERUNTIME);
    }
    return 0;
}

int rcy_show_refs(rcy_object_t *const *objs, size_t n, const rcy_graph_options_t *opts)
{
    int err = check_objs(objs, n);
    return err < 0 ? err : show(objs, n, opts, false, NULL, 0);
}

int rcy_show_backrefs(rcy_object_t *const *objs, size_t n, const rcy_graph_options_t *opts)
{
    int err = check_objs(objs, n);
    return err < 0 ? err : show(objs, n, opts, true, NULL, 0);
}

int rcy_show_chain(const rcy_objarray_t *chains, size_t n_chains, int backrefs, const rcy_graph_options_t *opts)
{
    if (chains == NULL || n_chains == 0)
        return RCY_EINVAL;
    for (size_t c = 0; c < n_chains; c++) {
        if (chains[c].len > 0 && chains[c].items == NULL)
            return RCY_EINVAL;
        for (size_t k = 0; k < chains[c].len; k++) {
            if (chains[c].items[k] == NULL)
                return RCY_EINVAL;
        }
    }
    /* Start from each chain's object (its last item backwards, its first
       forwards), to the depth of the longest chain. */
    size_t n = 0, longest = 0;
    rcy_runtime_t *rt = NULL;
    for (size_t c = 0; c < n_chains; c++) {
        if (chains[c].len == 0)
            continue;
        n++;
        if (chains[c].len > longest)
            longest = chains[c].len;
        rt = chains[c].items[0]->type->rt;
    }
    if (n == 0 || (opts != NULL && !RCYI_SIZE_OK(opts)))
        return RCY_EINVAL;
    rcy_object_t **objs = rcyi_malloc_array(rt, n, sizeof *objs);
    if (objs == NULL)
        return RCY_ENOMEM;
    n = 0;
    for (size_t c = 0; c < n_chains; c++) {
        if (chains[c].len > 0)
            objs[n++] = backrefs ? chains[c].items[chains[c].len - 1] : chains[c].items[0];
    }
    rcy_graph_options_t o;
    if (opts != NULL)
        o = *opts;
    else
        rcy_graph_options_init(&o);
    o.max_depth = (int)(longest - 1);
    int result = check_objs(objs, n);
    if (result == 0)
        result = show(objs, n, &o, backrefs != 0, chains, n_chains);
    rcyi_free(rt, objs);
    return result;
}
