/*
 * mal on recycle: the core functions (core.ns of the guide), and the gc
 * module (gc-collect, gc-count, ... and the leak and heap tools).
 */
#include "mal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARGS rcy_object_t *const *argv
#define UNUSED_ARGS (void)argc, (void)argv

static int64_t int_of(rcy_object_t *o)
{
    int64_t v = 0;
    rcy_int_value(o, &v);
    return v;
}

static int need_ints(const char *name, int argc, ARGS)
{
    for (int i = 0; i < argc; i++) {
        if (!mal_is_int(argv[i])) {
            mal_throwf("%s: expected a number", name);
            return -1;
        }
    }
    return 0;
}

/* ---- Numbers ------------------------------------------------------------- */

#define ARITH(cname, op, name)                                                                     \
    static rcy_object_t *cname(int argc, ARGS)                                                     \
    {                                                                                              \
        if (need_ints(name, argc, argv) < 0)                                                       \
            return NULL;                                                                           \
        int64_t a = int_of(argv[0]), b = int_of(argv[1]);                                          \
        return mal_int(op);                                                                        \
    }
ARITH(core_add, (int64_t)((uint64_t)a + (uint64_t)b), "+")
ARITH(core_sub, (int64_t)((uint64_t)a - (uint64_t)b), "-")
ARITH(core_mul, (int64_t)((uint64_t)a * (uint64_t)b), "*")

static rcy_object_t *core_div(int argc, ARGS)
{
    if (need_ints("/", argc, argv) < 0)
        return NULL;
    int64_t a = int_of(argv[0]), b = int_of(argv[1]);
    if (b == 0)
        return mal_throwf("/: division by zero");
    if (b == -1)
        return mal_int((int64_t)(0 - (uint64_t)a));
    return mal_int(a / b);
}

#define CMP(cname, op, name)                                                                       \
    static rcy_object_t *cname(int argc, ARGS)                                                     \
    {                                                                                              \
        if (need_ints(name, argc, argv) < 0)                                                       \
            return NULL;                                                                           \
        return mal_bool(int_of(argv[0]) op int_of(argv[1]));                                       \
    }
CMP(core_lt, <, "<")
CMP(core_le, <=, "<=")
CMP(core_gt, >, ">")
CMP(core_ge, >=, ">=")

static rcy_object_t *core_time_ms(int argc, ARGS)
{
    UNUSED_ARGS;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return mal_int((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* ---- Equality and predicates --------------------------------------------- */

static rcy_object_t *core_eq(int argc, ARGS)
{
    (void)argc;
    int r = mal_equal(argv[0], argv[1]);
    return r < 0 ? NULL : mal_bool(r);
}

#define PRED(cname, expr)                                                                          \
    static rcy_object_t *cname(int argc, ARGS)                                                     \
    {                                                                                              \
        (void)argc;                                                                                \
        rcy_object_t *o = argv[0];                                                                 \
        return mal_bool(expr);                                                                     \
    }
PRED(core_is_nil, o == mal.nil)
PRED(core_is_true, o == mal.true_)
PRED(core_is_false, o == mal.false_)
PRED(core_is_string, mal_is_str(o))
PRED(core_is_symbol, mal_is_sym(o))
PRED(core_is_keyword, mal_is_kw(o))
PRED(core_is_number, mal_is_int(o))
PRED(core_is_fn, mal_is_builtin(o) || (mal_is_fn(o) && !((mal_fn_t *)o)->is_macro))
PRED(core_is_macro, mal_is_fn(o) && ((mal_fn_t *)o)->is_macro)
PRED(core_is_list, mal_is_list(o))
PRED(core_is_vector, mal_is_vector(o))
PRED(core_is_sequential, mal_is_seq(o))
PRED(core_is_map, mal_is_map(o))
PRED(core_is_atom, mal_is_atom(o))

static rcy_object_t *core_throw(int argc, ARGS)
{
    (void)argc;
    return mal_throw(argv[0]);
}

static rcy_object_t *core_symbol(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_str(argv[0]))
        return mal_throwf("symbol: expected a string");
    return mal_sym_len(rcy_str_data(argv[0]), (size_t)rcy_str_len(argv[0]));
}

static rcy_object_t *core_keyword(int argc, ARGS)
{
    (void)argc;
    if (mal_is_kw(argv[0]))
        return rcy_newref(argv[0]);
    if (!mal_is_str(argv[0]))
        return mal_throwf("keyword: expected a string");
    return mal_kw_len(rcy_str_data(argv[0]), (size_t)rcy_str_len(argv[0]));
}

/* ---- Strings and I/O ----------------------------------------------------- */

static rcy_object_t *core_pr_str(int argc, ARGS) { return mal_pr_join(argc, argv, 1, " "); }
static rcy_object_t *core_str(int argc, ARGS) { return mal_pr_join(argc, argv, 0, ""); }

static rcy_object_t *print_joined(int argc, ARGS, int readably)
{
    rcy_object_t *s = mal_pr_join(argc, argv, readably, " ");
    if (s == NULL)
        return NULL;
    fwrite(rcy_str_data(s), 1, (size_t)rcy_str_len(s), stdout);
    fputc('\n', stdout);
    fflush(stdout);
    rcy_decref(s);
    return rcy_newref(mal.nil);
}

static rcy_object_t *core_prn(int argc, ARGS) { return print_joined(argc, argv, 1); }
static rcy_object_t *core_println(int argc, ARGS) { return print_joined(argc, argv, 0); }

static rcy_object_t *core_read_string(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_str(argv[0]))
        return mal_throwf("read-string: expected a string");
    rcy_object_t *o;
    int r = mal_read_str(rcy_str_data(argv[0]), &o);
    return r == 0 ? rcy_newref(mal.nil) : o;
}

static rcy_object_t *core_readline(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_str(argv[0]))
        return mal_throwf("readline: expected a string");
    char *line = mal_readline(rcy_str_data(argv[0]));
    if (line == NULL)
        return rcy_newref(mal.nil);
    rcy_object_t *s = mal_str_len(line, strlen(line));
    free(line);
    return s;
}

static rcy_object_t *core_slurp(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_str(argv[0]))
        return mal_throwf("slurp: expected a file name");
    FILE *f = fopen(rcy_str_data(argv[0]), "rb");
    if (f == NULL)
        return mal_throwf("slurp: %s: %s", rcy_str_data(argv[0]), strerror(errno));
    mal_buf_t b = {0};
    char chunk[4096];
    size_t n;
    int bad = 0;
    while (!bad && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bad = mal_buf_put(&b, chunk, n) < 0;
    fclose(f);
    rcy_object_t *s = bad ? mal_throwf("slurp: out of memory") : mal_str_len(b.data ? b.data : "", b.len);
    mal_buf_free(&b);
    return s;
}

/* ---- Sequences ----------------------------------------------------------- */

static rcy_object_t *core_list(int argc, ARGS) { return mal_list_of(argc, argv); }
static rcy_object_t *core_vector(int argc, ARGS) { return mal_vec_of(argc, argv); }

static rcy_object_t *core_is_empty(int argc, ARGS)
{
    (void)argc;
    if (argv[0] == mal.nil)
        return mal_bool(1);
    if (!mal_is_seq(argv[0]))
        return mal_throwf("empty?: expected a sequence");
    return mal_bool(mal_seq_len(argv[0]) == 0);
}

static rcy_object_t *core_count(int argc, ARGS)
{
    (void)argc;
    if (argv[0] == mal.nil)
        return mal_int(0);
    if (mal_is_seq(argv[0]))
        return mal_int(mal_seq_len(argv[0]));
    if (mal_is_map(argv[0]))
        return mal_int(rcy_dict_len(((mal_map_t *)argv[0])->dict));
    if (mal_is_str(argv[0]))
        return mal_int(rcy_str_len(argv[0]));
    return mal_throwf("count: expected a sequence");
}

/* Appends the items of the sequences seqs[0..n) (nil: none) to the new list l,
   which it returns; releases l and returns NULL on an error. */
static rcy_object_t *concat_into(rcy_object_t *l, int n, rcy_object_t *const *seqs, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (seqs[i] == mal.nil)
            continue;
        if (!mal_is_seq(seqs[i])) {
            rcy_decref(l);
            return mal_throwf("%s: expected a sequence", name);
        }
        if (rcy_list_extend(l, mal_seq_list(seqs[i])) < 0) {
            rcy_decref(l);
            return mal_throw_rcy(name);
        }
    }
    return l;
}

static rcy_object_t *core_cons(int argc, ARGS)
{
    (void)argc;
    rcy_object_t *l = mal_list_of(1, argv);
    return l ? concat_into(l, 1, argv + 1, "cons") : NULL;
}

static rcy_object_t *core_concat(int argc, ARGS)
{
    rcy_object_t *l = mal_list_of(0, NULL);
    return l ? concat_into(l, argc, argv, "concat") : NULL;
}

static rcy_object_t *core_vec(int argc, ARGS)
{
    (void)argc;
    if (mal_is_vector(argv[0]))
        return rcy_newref(argv[0]);
    if (!mal_is_seq(argv[0]))
        return mal_throwf("vec: expected a sequence");
    return mal_vec_wrap(mal_seq_list(argv[0]), MAL_SEQ_VECTOR, NULL);
}

static rcy_object_t *core_nth(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_seq(argv[0]) || !mal_is_int(argv[1]))
        return mal_throwf("nth: expected a sequence and an index");
    int64_t i = int_of(argv[1]);
    if (i < 0 || i >= mal_seq_len(argv[0]))
        return mal_throwf("nth: index out of range");
    return rcy_newref(mal_seq_get(argv[0], (intptr_t)i));
}

static rcy_object_t *core_first(int argc, ARGS)
{
    (void)argc;
    if (argv[0] == mal.nil)
        return rcy_newref(mal.nil);
    if (!mal_is_seq(argv[0]))
        return mal_throwf("first: expected a sequence");
    if (mal_seq_len(argv[0]) == 0)
        return rcy_newref(mal.nil);
    return rcy_newref(mal_seq_get(argv[0], 0));
}

static rcy_object_t *core_rest(int argc, ARGS)
{
    (void)argc;
    if (argv[0] == mal.nil)
        return mal_list_of(0, NULL);
    if (!mal_is_seq(argv[0]))
        return mal_throwf("rest: expected a sequence");
    rcy_object_t *l = rcy_list_slice(mal_seq_list(argv[0]), 1, INTPTR_MAX);
    return l ? l : mal_throw_rcy("rest");
}

/* argv[0] is the function; the middle arguments and the last sequence
   are spread into its arguments. */
static rcy_object_t *core_apply(int argc, ARGS)
{
    rcy_object_t *last = argv[argc - 1];
    if (!mal_is_seq(last))
        return mal_throwf("apply: the last argument must be a sequence");
    intptr_t n = mal_seq_len(last), total = argc - 2 + n;
    rcy_object_t *small[16], **args = total <= 16 ? small : malloc((size_t)total * sizeof *args);
    if (args == NULL)
        return mal_throwf("apply: out of memory");
    for (int i = 1; i < argc - 1; i++)
        args[i - 1] = argv[i];
    for (intptr_t i = 0; i < n; i++)
        args[argc - 2 + i] = mal_seq_get(last, i);
    /* `last` is held by our caller and never mutated: its items stay alive */
    rcy_object_t *r = mal_apply(argv[0], (int)total, args);
    if (args != small)
        free(args);
    return r;
}

static rcy_object_t *core_map(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_seq(argv[1]))
        return mal_throwf("map: expected a sequence");
    rcy_object_t *l = mal_list_of(0, NULL);
    intptr_t n = mal_seq_len(argv[1]);
    for (intptr_t i = 0; l != NULL && i < n; i++) {
        rcy_object_t *x = mal_seq_get(argv[1], i);
        rcy_object_t *y = mal_apply(argv[0], 1, &x);
        if (y == NULL) {
            rcy_decref(l);
            return NULL;
        }
        int rc = rcy_list_append(l, y);
        rcy_decref(y);
        if (rc < 0) {
            rcy_decref(l);
            return mal_throw_rcy("map");
        }
    }
    return l;
}

static rcy_object_t *core_conj(int argc, ARGS)
{
    rcy_object_t *c = argv[0];
    if (mal_is_list(c) || c == mal.nil) {
        rcy_object_t *l = mal_list_of(0, NULL);
        for (int i = argc - 1; l != NULL && i >= 1; i--) {
            if (rcy_list_append(l, argv[i]) < 0) {
                rcy_decref(l);
                return mal_throw_rcy("conj");
            }
        }
        return (l && c != mal.nil) ? concat_into(l, 1, &c, "conj") : l;
    }
    if (mal_is_vector(c)) {
        rcy_object_t *l = mal_list_of(0, NULL);
        l = l ? concat_into(l, 1, &c, "conj") : NULL;
        for (int i = 1; l != NULL && i < argc; i++) {
            if (rcy_list_append(l, argv[i]) < 0) {
                rcy_decref(l);
                return mal_throw_rcy("conj");
            }
        }
        if (l == NULL)
            return NULL;
        rcy_object_t *v = mal_vec_wrap(l, MAL_SEQ_VECTOR, NULL);
        rcy_decref(l);
        return v;
    }
    return mal_throwf("conj: expected a list or a vector");
}

static rcy_object_t *core_seq(int argc, ARGS)
{
    (void)argc;
    rcy_object_t *o = argv[0];
    if (o == mal.nil)
        return rcy_newref(mal.nil);
    if (mal_is_seq(o)) {
        if (mal_seq_len(o) == 0)
            return rcy_newref(mal.nil);
        if (mal_is_plain_list(o))
            return rcy_newref(o);
        return rcy_newref(mal_seq_list(o)); /* the items as a plain list */
    }
    if (mal_is_str(o)) {
        intptr_t n = rcy_str_len(o);
        if (n == 0)
            return rcy_newref(mal.nil);
        const char *s = rcy_str_data(o);
        rcy_object_t *l = mal_list_of(0, NULL);
        for (intptr_t i = 0; l != NULL && i < n;) {
            intptr_t j = i + 1; /* one UTF-8 character */
            while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
                j++;
            rcy_object_t *c = mal_str_len(s + i, (size_t)(j - i));
            if (c == NULL || rcy_list_append(l, c) < 0) {
                rcy_xdecref(c);
                rcy_decref(l);
                return c ? mal_throw_rcy("seq") : NULL;
            }
            rcy_decref(c);
            i = j;
        }
        return l;
    }
    return mal_throwf("seq: expected a sequence, a string or nil");
}

/* ---- Hash-maps ----------------------------------------------------------- */

static rcy_object_t *assoc_into(rcy_object_t *m, int argc, ARGS)
{
    if (argc % 2 != 0) {
        rcy_decref(m);
        return mal_throwf("hash-map: odd number of arguments");
    }
    for (int i = 0; i < argc; i += 2) {
        if (mal_map_put(m, argv[i], argv[i + 1]) < 0) {
            rcy_decref(m);
            return NULL;
        }
    }
    return m;
}

static rcy_object_t *core_hash_map(int argc, ARGS)
{
    rcy_object_t *m = mal_map_new();
    return m ? assoc_into(m, argc, argv) : NULL;
}

static rcy_object_t *core_assoc(int argc, ARGS)
{
    if (!mal_is_map(argv[0]))
        return mal_throwf("assoc: expected a hash-map");
    rcy_object_t *m = mal_map_copy(argv[0]);
    return m ? assoc_into(m, argc - 1, argv + 1) : NULL;
}

static rcy_object_t *core_dissoc(int argc, ARGS)
{
    if (!mal_is_map(argv[0]))
        return mal_throwf("dissoc: expected a hash-map");
    rcy_object_t *m = mal_map_copy(argv[0]);
    for (int i = 1; m != NULL && i < argc; i++) {
        rcy_object_t *d = ((mal_map_t *)m)->dict;
        if (rcy_dict_get(d, argv[i]) != NULL)
            rcy_dict_del(d, argv[i]);
    }
    return m;
}

static rcy_object_t *core_get(int argc, ARGS)
{
    (void)argc;
    if (argv[0] == mal.nil)
        return rcy_newref(mal.nil);
    if (!mal_is_map(argv[0]))
        return mal_throwf("get: expected a hash-map");
    rcy_object_t *v = rcy_dict_get(((mal_map_t *)argv[0])->dict, argv[1]);
    return rcy_newref(v ? v : mal.nil);
}

static rcy_object_t *core_contains(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_map(argv[0]))
        return mal_throwf("contains?: expected a hash-map");
    return mal_bool(rcy_dict_get(((mal_map_t *)argv[0])->dict, argv[1]) != NULL);
}

static rcy_object_t *map_items(rcy_object_t *m, int want_values, const char *name)
{
    if (!mal_is_map(m))
        return mal_throwf("%s: expected a hash-map", name);
    rcy_object_t *l = mal_list_of(0, NULL);
    intptr_t pos = 0;
    rcy_object_t *k, *v;
    while (l != NULL && rcy_dict_next(((mal_map_t *)m)->dict, &pos, &k, &v) == 1) {
        if (rcy_list_append(l, want_values ? v : k) < 0) {
            rcy_decref(l);
            return mal_throw_rcy(name);
        }
    }
    return l;
}

static rcy_object_t *core_keys(int argc, ARGS)
{
    (void)argc;
    return map_items(argv[0], 0, "keys");
}

static rcy_object_t *core_vals(int argc, ARGS)
{
    (void)argc;
    return map_items(argv[0], 1, "vals");
}

/* ---- Metadata ------------------------------------------------------------ */

static rcy_object_t *core_meta(int argc, ARGS)
{
    (void)argc;
    rcy_object_t *o = argv[0], *m = NULL;
    if (mal_is(o, mal.t_vec))
        m = ((mal_vec_t *)o)->meta;
    else if (mal_is_map(o))
        m = ((mal_map_t *)o)->meta;
    else if (mal_is_fn(o))
        m = ((mal_fn_t *)o)->meta;
    else if (mal_is_builtin(o))
        m = mal_builtin_meta(o);
    else if (mal_is_atom(o))
        m = ((mal_atom_t *)o)->meta;
    return rcy_newref(m ? m : mal.nil);
}

static rcy_object_t *core_with_meta(int argc, ARGS)
{
    (void)argc;
    rcy_object_t *o = argv[0], *meta = argv[1];
    if (mal_is_plain_list(o))
        return mal_vec_wrap(o, MAL_SEQ_LIST, meta);
    if (mal_is(o, mal.t_vec))
        return mal_vec_wrap(((mal_vec_t *)o)->items, ((mal_vec_t *)o)->kind, meta);
    if (mal_is_map(o)) {
        mal_map_t *m = (mal_map_t *)rcy_new(mal.t_map);
        if (m == NULL)
            return mal_throw_rcy("with-meta");
        m->dict = rcy_newref(((mal_map_t *)o)->dict); /* immutable: shared */
        m->meta = rcy_newref(meta);
        return &m->ob;
    }
    if (mal_is_fn(o)) {
        mal_fn_t *src = (mal_fn_t *)o;
        mal_fn_t *f = (mal_fn_t *)mal_fn_new(src->params, src->body, src->env);
        if (f == NULL)
            return NULL;
        f->is_macro = src->is_macro;
        f->meta = rcy_newref(meta);
        return &f->ob;
    }
    if (mal_is_builtin(o))
        return mal_builtin_with_meta(o, meta);
    return mal_throwf("with-meta: expected a function or a collection");
}

/* ---- Atoms --------------------------------------------------------------- */

static rcy_object_t *core_atom(int argc, ARGS)
{
    (void)argc;
    return mal_atom_new(argv[0]);
}

static rcy_object_t *core_deref(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_atom(argv[0]))
        return mal_throwf("deref: expected an atom");
    return rcy_newref(((mal_atom_t *)argv[0])->value);
}

static rcy_object_t *core_reset(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_atom(argv[0]))
        return mal_throwf("reset!: expected an atom");
    RCY_SETREF(((mal_atom_t *)argv[0])->value, argv[1]);
    return rcy_newref(argv[1]);
}

static rcy_object_t *core_swap(int argc, ARGS)
{
    if (!mal_is_atom(argv[0]))
        return mal_throwf("swap!: expected an atom");
    mal_atom_t *a = (mal_atom_t *)argv[0];
    rcy_object_t *small[16], **args = argc <= 16 ? small : malloc((size_t)argc * sizeof *args);
    if (args == NULL)
        return mal_throwf("swap!: out of memory");
    /* hold the current value: the function may reset the atom */
    rcy_object_t *old = rcy_newref(a->value);
    args[0] = old;
    for (int i = 2; i < argc; i++)
        args[i - 1] = argv[i];
    rcy_object_t *r = mal_apply(argv[1], argc - 1, args);
    rcy_decref(old);
    if (args != small)
        free(args);
    if (r != NULL)
        RCY_SETREF(a->value, r);
    return r;
}

/* ---- The gc module ------------------------------------------------------- */

/* (gc-collect) or (gc-collect generation): what rcy_gc_collect returns. */
static rcy_object_t *core_gc_collect(int argc, ARGS)
{
    int gen = 2;
    if (argc > 0) {
        if (!mal_is_int(argv[0]))
            return mal_throwf("gc-collect: expected a generation");
        gen = (int)int_of(argv[0]);
    }
    intptr_t n = rcy_gc_collect(mal.rt, gen);
    if (n < 0)
        return mal_throwf("gc-collect: %s", rcy_strerror((int)n));
    return mal_int(n);
}

static rcy_object_t *ints_list(const int *v, int n)
{
    rcy_object_t *items[RCY_GC_GENERATIONS];
    for (int i = 0; i < n; i++)
        items[i] = NULL;
    rcy_object_t *l = NULL;
    for (int i = 0; i < n; i++) {
        items[i] = mal_int(v[i]);
        if (items[i] == NULL)
            goto done;
    }
    l = mal_list_of(n, items);
done:
    for (int i = 0; i < n; i++)
        rcy_xdecref(items[i]);
    return l;
}

static rcy_object_t *core_gc_count(int argc, ARGS)
{
    UNUSED_ARGS;
    int c[RCY_GC_GENERATIONS];
    rcy_gc_get_count(mal.rt, c);
    return ints_list(c, RCY_GC_GENERATIONS);
}

static rcy_object_t *core_gc_get_threshold(int argc, ARGS)
{
    UNUSED_ARGS;
    int t[RCY_GC_GENERATIONS];
    rcy_gc_get_threshold(mal.rt, t);
    return ints_list(t, RCY_GC_GENERATIONS);
}

static rcy_object_t *core_gc_set_threshold(int argc, ARGS)
{
    if (need_ints("gc-set-threshold", argc, argv) < 0)
        return NULL;
    int t[3] = {0, 10, 10};
    rcy_gc_get_threshold(mal.rt, t);
    for (int i = 0; i < argc && i < 3; i++)
        t[i] = (int)int_of(argv[i]);
    if (rcy_gc_set_threshold(mal.rt, t[0], t[1], t[2]) < 0)
        return mal_throwf("gc-set-threshold: invalid thresholds");
    return rcy_newref(mal.nil);
}

/* (gc-set-debug flags): flags is a number (RCY_DEBUG_* bits) or a keyword
   :stats, :collectable, :uncollectable, :saveall, :leak, :none. */
static rcy_object_t *core_gc_set_debug(int argc, ARGS)
{
    (void)argc;
    int flags;
    if (mal_is_int(argv[0])) {
        flags = (int)int_of(argv[0]);
    } else if (mal_is_kw(argv[0])) {
        const char *k = rcy_str_data(((mal_sym_t *)argv[0])->name);
        flags = !strcmp(k, "stats")           ? RCY_DEBUG_STATS
                : !strcmp(k, "collectable")   ? RCY_DEBUG_COLLECTABLE
                : !strcmp(k, "uncollectable") ? RCY_DEBUG_UNCOLLECTABLE
                : !strcmp(k, "saveall")       ? RCY_DEBUG_SAVEALL
                : !strcmp(k, "leak")          ? RCY_DEBUG_LEAK
                : !strcmp(k, "none")          ? 0
                                              : -1;
        if (flags < 0)
            return mal_throwf("gc-set-debug: unknown flag :%s", k);
    } else {
        return mal_throwf("gc-set-debug: expected a number or a keyword");
    }
    if (rcy_gc_set_debug(mal.rt, flags) < 0)
        return mal_throwf("gc-set-debug: invalid flags %d", flags);
    return rcy_newref(mal.nil);
}

static rcy_object_t *core_gc_get_debug(int argc, ARGS)
{
    UNUSED_ARGS;
    return mal_int(rcy_gc_get_debug(mal.rt));
}

static rcy_object_t *core_gc_enable(int argc, ARGS)
{
    UNUSED_ARGS;
    rcy_gc_enable(mal.rt);
    return rcy_newref(mal.nil);
}

static rcy_object_t *core_gc_disable(int argc, ARGS)
{
    UNUSED_ARGS;
    rcy_gc_disable(mal.rt);
    return rcy_newref(mal.nil);
}

/* gc.get_stats: a list of three hash-maps {:collections :collected
   :uncollectable :candidates}, youngest generation first. */
static rcy_object_t *core_gc_get_stats(int argc, ARGS)
{
    UNUSED_ARGS;
    rcy_gc_stats_t st[RCY_GC_GENERATIONS];
    rcy_gc_stats_init(st);
    int rc = rcy_gc_get_stats(mal.rt, st);
    if (rc < 0)
        return mal_throwf("gc-get-stats: %s", rcy_strerror(rc));
    rcy_object_t *l = mal_list_of(0, NULL);
    for (int g = 0; l != NULL && g < RCY_GC_GENERATIONS; g++) {
        const char *names[] = {"collections", "collected", "uncollectable", "candidates"};
        intptr_t vals[] = {st[g].collections, st[g].collected, st[g].uncollectable, st[g].candidates};
        rcy_object_t *m = mal_map_new();
        for (int i = 0; m != NULL && i < 4; i++) {
            rcy_object_t *k = mal_kw(names[i]), *v = k ? mal_int(vals[i]) : NULL;
            if (v == NULL || mal_map_put(m, k, v) < 0)
                RCY_CLEAR(m);
            rcy_xdecref(k);
            rcy_xdecref(v);
        }
        if (m == NULL || rcy_list_append(l, m) < 0) {
            if (m != NULL)
                mal_throw_rcy("gc-get-stats");
            rcy_xdecref(m);
            RCY_CLEAR(l);
            break;
        }
        rcy_decref(m);
    }
    return l;
}

/* gc.garbage: a list of what the garbage list holds (uncollectable
   objects, or with (gc-set-debug :saveall) everything a collection found
   unreachable); (gc-garbage-clear) empties it and returns how many. */
static rcy_object_t *core_gc_garbage(int argc, ARGS)
{
    UNUSED_ARGS;
    size_t n = rcy_gc_garbage_len(mal.rt);
    rcy_object_t *l = mal_list_of(0, NULL);
    for (size_t i = 0; l != NULL && i < n; i++) {
        if (rcy_list_append(l, rcy_gc_garbage_get(mal.rt, i)) < 0) {
            rcy_decref(l);
            return mal_throw_rcy("gc-garbage");
        }
    }
    return l;
}

static rcy_object_t *core_gc_garbage_clear(int argc, ARGS)
{
    UNUSED_ARGS;
    intptr_t n = rcy_gc_garbage_clear(mal.rt);
    if (n < 0)
        return mal_throwf("gc-garbage-clear: %s", rcy_strerror((int)n));
    return mal_int(n);
}

/* gc.freeze / gc.unfreeze / gc.get_freeze_count */
static rcy_object_t *core_gc_freeze(int argc, ARGS)
{
    UNUSED_ARGS;
    int rc = rcy_gc_freeze(mal.rt);
    if (rc < 0)
        return mal_throwf("gc-freeze: %s", rcy_strerror(rc));
    return rcy_newref(mal.nil);
}

static rcy_object_t *core_gc_unfreeze(int argc, ARGS)
{
    UNUSED_ARGS;
    int rc = rcy_gc_unfreeze(mal.rt);
    if (rc < 0)
        return mal_throwf("gc-unfreeze: %s", rcy_strerror(rc));
    return rcy_newref(mal.nil);
}

static rcy_object_t *core_gc_freeze_count(int argc, ARGS)
{
    UNUSED_ARGS;
    return mal_int((int64_t)rcy_gc_get_freeze_count(mal.rt));
}

static rcy_object_t *core_gc_live_objects(int argc, ARGS)
{
    UNUSED_ARGS;
    return mal_int((int64_t)rcy_runtime_live_objects(mal.rt));
}

/* (gc-type-count "mal.env"): the live objects of a type (objgraph's count). */
static rcy_object_t *core_gc_type_count(int argc, ARGS)
{
    (void)argc;
    if (!mal_is_str(argv[0]))
        return mal_throwf("gc-type-count: expected a type name");
    return mal_int((int64_t)rcy_census_count(mal.rt, rcy_str_data(argv[0])));
}

/* (show-growth) or (show-growth limit): objgraph's show_growth. */
static rcy_object_t *core_show_growth(int argc, ARGS)
{
    rcy_growth_options_t opts;
    rcy_growth_options_init(&opts);
    if (argc > 0) {
        if (!mal_is_int(argv[0]))
            return mal_throwf("show-growth: expected a limit");
        opts.limit = (size_t)int_of(argv[0]);
    }
    if (mal.growth == NULL && (mal.growth = rcy_growth_new(mal.rt)) == NULL)
        return mal_throw_rcy("show-growth");
    fflush(stdout);
    int rc = rcy_show_growth(mal.growth, &opts, stdout);
    if (rc < 0)
        return mal_throwf("show-growth: %s", rcy_strerror(rc));
    fflush(stdout);
    return rcy_newref(mal.nil);
}

static rcy_object_t *core_show_most_common_types(int argc, ARGS)
{
    size_t limit = 10;
    if (argc > 0) {
        if (!mal_is_int(argv[0]))
            return mal_throwf("show-most-common-types: expected a limit");
        limit = (size_t)int_of(argv[0]);
    }
    fflush(stdout);
    int rc = rcy_census_show_most_common_types(mal.rt, limit, stdout);
    if (rc < 0)
        return mal_throwf("show-most-common-types: %s", rcy_strerror(rc));
    fflush(stdout);
    return rcy_newref(mal.nil);
}

/* (show-backrefs obj "file.dot") or (show-backrefs obj "file.dot" depth):
   the graph of what refers to obj, as DOT, the repl environment drawn as a
   root. Returns the file name. */
static rcy_object_t *core_show_backrefs(int argc, ARGS)
{
    if (!mal_is_str(argv[1]))
        return mal_throwf("show-backrefs: expected a file name");
    rcy_graph_options_t opts;
    rcy_graph_options_init(&opts);
    if (argc > 2) {
        if (!mal_is_int(argv[2]))
            return mal_throwf("show-backrefs: expected a depth");
        opts.max_depth = (int)int_of(argv[2]);
    }
    opts.filename = rcy_str_data(argv[1]);
    int rc = rcy_show_backrefs(&argv[0], 1, &opts);
    if (rc < 0)
        return mal_throwf("show-backrefs: %s", rcy_strerror(rc));
    return rcy_newref(argv[1]);
}

/* (heap-report "file.html"): rcy_heap_report, one self-contained HTML page
   of the heap (types, largest retainers, dominator tree, chains from the
   roots). (heap-dump "file.jsonl"): rcy_heap_dump, the whole graph in the
   format of docs/heap-dump-format.md. Both return nil. */
static rcy_object_t *heap_write(const char *what, int (*fn)(rcy_runtime_t *, const char *),
                                rcy_object_t *path)
{
    if (!mal_is_str(path))
        return mal_throwf("%s: expected a file name", what);
    int rc = fn(mal.rt, rcy_str_data(path));
    if (rc < 0)
        return mal_throwf("%s: %s", what, rcy_strerror(rc));
    return rcy_newref(mal.nil);
}

static rcy_object_t *core_heap_report(int argc, ARGS)
{
    (void)argc;
    return heap_write("heap-report", rcy_heap_report, argv[0]);
}

static rcy_object_t *core_heap_dump(int argc, ARGS)
{
    (void)argc;
    return heap_write("heap-dump", rcy_heap_dump, argv[0]);
}

/* (retained-size obj): what obj keeps alive, from rcy_retained_size, as a
   hash-map {:bytes :objects :self-bytes}. The argument is held by the call,
   so obj counts as a root; what it retains is the same. */
static rcy_object_t *core_retained_size(int argc, ARGS)
{
    (void)argc;
    rcy_retained_t r;
    rcy_retained_init(&r);
    int rc = rcy_retained_size(argv[0], &r);
    if (rc < 0)
        return mal_throwf("retained-size: %s", rcy_strerror(rc));
    rcy_xdecref(r.dominator);
    const char *names[] = {"bytes", "objects", "self-bytes"};
    size_t vals[] = {r.bytes, r.objects, r.self_bytes};
    rcy_object_t *m = mal_map_new();
    for (int i = 0; m != NULL && i < 3; i++) {
        rcy_object_t *k = mal_kw(names[i]), *v = k ? mal_int((int64_t)vals[i]) : NULL;
        if (v == NULL || mal_map_put(m, k, v) < 0) /* thrown */
            RCY_CLEAR(m);
        rcy_xdecref(k);
        rcy_xdecref(v);
    }
    return m;
}

/* (show-largest-retainers) or (show-largest-retainers n): the n objects
   that retain the most bytes, as a table on stdout. */
static rcy_object_t *core_show_largest_retainers(int argc, ARGS)
{
    size_t n = 10;
    if (argc > 0) {
        if (!mal_is_int(argv[0]) || int_of(argv[0]) < 1)
            return mal_throwf("show-largest-retainers: expected a positive count");
        n = (size_t)int_of(argv[0]);
    }
    fflush(stdout);
    int rc = rcy_show_largest_retainers(mal.rt, n, stdout);
    if (rc < 0)
        return mal_throwf("show-largest-retainers: %s", rcy_strerror(rc));
    fflush(stdout);
    return rcy_newref(mal.nil);
}

/* (type-name obj): the recycle type of a value, as the census names it. */
static rcy_object_t *core_type_name(int argc, ARGS)
{
    (void)argc;
    const char *n = rcy_type_name(rcy_type(argv[0]));
    return mal_str_len(n, strlen(n));
}

/* ---- The table ----------------------------------------------------------- */

/* The core namespace: name, function, arity (max -1: variadic), and the
   first step that has it. */
#define CORE_NS(X) \
    X("+", core_add, 2, 2, 2) \
    X("-", core_sub, 2, 2, 2) \
    X("*", core_mul, 2, 2, 2) \
    X("/", core_div, 2, 2, 2) \
    X("=", core_eq, 2, 2, 4) \
    X("<", core_lt, 2, 2, 4) \
    X("<=", core_le, 2, 2, 4) \
    X(">", core_gt, 2, 2, 4) \
    X(">=", core_ge, 2, 2, 4) \
    X("pr-str", core_pr_str, 0, -1, 4) \
    X("str", core_str, 0, -1, 4) \
    X("prn", core_prn, 0, -1, 4) \
    X("println", core_println, 0, -1, 4) \
    X("list", core_list, 0, -1, 4) \
    X("list?", core_is_list, 1, 1, 4) \
    X("empty?", core_is_empty, 1, 1, 4) \
    X("count", core_count, 1, 1, 4) \
    X("read-string", core_read_string, 1, 1, 6) \
    X("slurp", core_slurp, 1, 1, 6) \
    X("atom", core_atom, 1, 1, 6) \
    X("atom?", core_is_atom, 1, 1, 6) \
    X("deref", core_deref, 1, 1, 6) \
    X("reset!", core_reset, 2, 2, 6) \
    X("swap!", core_swap, 2, -1, 6) \
    X("cons", core_cons, 2, 2, 7) \
    X("concat", core_concat, 0, -1, 7) \
    X("vec", core_vec, 1, 1, 7) \
    X("nth", core_nth, 2, 2, 8) \
    X("first", core_first, 1, 1, 8) \
    X("rest", core_rest, 1, 1, 8) \
    X("throw", core_throw, 1, 1, 9) \
    X("apply", core_apply, 2, -1, 9) \
    X("map", core_map, 2, 2, 9) \
    X("nil?", core_is_nil, 1, 1, 9) \
    X("true?", core_is_true, 1, 1, 9) \
    X("false?", core_is_false, 1, 1, 9) \
    X("symbol?", core_is_symbol, 1, 1, 9) \
    X("symbol", core_symbol, 1, 1, 9) \
    X("keyword", core_keyword, 1, 1, 9) \
    X("keyword?", core_is_keyword, 1, 1, 9) \
    X("vector", core_vector, 0, -1, 9) \
    X("vector?", core_is_vector, 1, 1, 9) \
    X("sequential?", core_is_sequential, 1, 1, 9) \
    X("hash-map", core_hash_map, 0, -1, 9) \
    X("map?", core_is_map, 1, 1, 9) \
    X("assoc", core_assoc, 1, -1, 9) \
    X("dissoc", core_dissoc, 1, -1, 9) \
    X("get", core_get, 2, 2, 9) \
    X("contains?", core_contains, 2, 2, 9) \
    X("keys", core_keys, 1, 1, 9) \
    X("vals", core_vals, 1, 1, 9) \
    X("readline", core_readline, 1, 1, 10) \
    X("time-ms", core_time_ms, 0, 0, 10) \
    X("meta", core_meta, 1, 1, 10) \
    X("with-meta", core_with_meta, 2, 2, 10) \
    X("fn?", core_is_fn, 1, 1, 10) \
    X("macro?", core_is_macro, 1, 1, 8) \
    X("string?", core_is_string, 1, 1, 10) \
    X("number?", core_is_number, 1, 1, 10) \
    X("seq", core_seq, 1, 1, 10) \
    X("conj", core_conj, 2, -1, 10) \
    /* the gc module */ \
    X("gc-collect", core_gc_collect, 0, 1, 10) \
    X("gc-count", core_gc_count, 0, 0, 10) \
    X("gc-get-threshold", core_gc_get_threshold, 0, 0, 10) \
    X("gc-set-threshold", core_gc_set_threshold, 1, 3, 10) \
    X("gc-set-debug", core_gc_set_debug, 1, 1, 10) \
    X("gc-get-debug", core_gc_get_debug, 0, 0, 10) \
    X("gc-enable", core_gc_enable, 0, 0, 10) \
    X("gc-disable", core_gc_disable, 0, 0, 10) \
    X("gc-get-stats", core_gc_get_stats, 0, 0, 10) \
    X("gc-garbage", core_gc_garbage, 0, 0, 10) \
    X("gc-garbage-clear", core_gc_garbage_clear, 0, 0, 10) \
    X("gc-freeze", core_gc_freeze, 0, 0, 10) \
    X("gc-unfreeze", core_gc_unfreeze, 0, 0, 10) \
    X("gc-get-freeze-count", core_gc_freeze_count, 0, 0, 10) \
    X("gc-live-objects", core_gc_live_objects, 0, 0, 10) \
    X("gc-type-count", core_gc_type_count, 1, 1, 10) \
    X("show-growth", core_show_growth, 0, 1, 10) \
    X("show-most-common-types", core_show_most_common_types, 0, 1, 10) \
    X("show-backrefs", core_show_backrefs, 2, 3, 10) \
    X("heap-report", core_heap_report, 1, 1, 10) \
    X("heap-dump", core_heap_dump, 1, 1, 10) \
    X("retained-size", core_retained_size, 1, 1, 10) \
    X("show-largest-retainers", core_show_largest_retainers, 0, 1, 10) \
    X("type-name", core_type_name, 1, 1, 10)

/* Each core function becomes a recycle C function (rcy_cfunction_new_named) whose
   C wrapper checks the arity, so that the function may read its min_args
   arguments. */
#define CORE_WRAP(name, cname, lo, hi, step)                                                       \
    static rcy_object_t *cname##_cf(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)   \
    {                                                                                              \
        (void)self;                                                                                \
        if (!mal_arity_ok(name, nargs, lo, hi))                                                    \
            return NULL;                                                                           \
        return cname((int)nargs, args);                                                            \
    }
CORE_NS(CORE_WRAP)

typedef struct core_entry_s {
    const char *name;
    rcy_cfunction_fn fn;
    int step; /* the first step that has it */
} core_entry_t;

#define CORE_ENTRY(name, cname, lo, hi, step) {name, cname##_cf, step},
static const core_entry_t core_ns[] = {CORE_NS(CORE_ENTRY)};

int mal_core_install(mal_env_t *env)
{
    for (size_t i = 0; i < sizeof core_ns / sizeof core_ns[0]; i++) {
        const core_entry_t *e = &core_ns[i];
        if (e->step > mal.step)
            continue;
        rcy_object_t *sym = mal_sym(e->name);
        rcy_object_t *b = sym ? mal_builtin_new(e->name, e->fn) : NULL;
        int rc = b ? mal_env_set(env, sym, b) : -1;
        rcy_xdecref(sym);
        rcy_xdecref(b);
        if (rc < 0)
            return -1;
    }
    return 0;
}

