/*
 * mal on recycle: the value types, environments, the reader and the printer.
 */
#include "mal.h"

#include <ctype.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mal_state_t mal;

/* ---- Slots ------------------------------------------------------------- */

static void sym_dealloc(rcy_object_t *self)
{
    mal_sym_t *s = (mal_sym_t *)self;
    RCY_CLEAR(s->value);
    RCY_CLEAR(s->name);
}

static int sym_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((mal_sym_t *)self)->value);
    return 0;
}

static int sym_clear(rcy_object_t *self)
{
    RCY_CLEAR(((mal_sym_t *)self)->value);
    return 0;
}

static int sym_describe(rcy_object_t *self, char *buf, size_t size)
{
    mal_sym_t *s = (mal_sym_t *)self;
    return snprintf(buf, size, "%s%s", rcy_type(self) == mal.t_kw ? ":" : "",
                    s->name ? rcy_str_data(s->name) : "?");
}

static int vec_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    mal_vec_t *v = (mal_vec_t *)self;
    RCY_VISIT(v->items);
    RCY_VISIT(v->meta);
    return 0;
}

static int vec_clear(rcy_object_t *self)
{
    mal_vec_t *v = (mal_vec_t *)self;
    RCY_CLEAR(v->items);
    RCY_CLEAR(v->meta);
    return 0;
}

static int map_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    mal_map_t *m = (mal_map_t *)self;
    RCY_VISIT(m->dict);
    RCY_VISIT(m->meta);
    return 0;
}

static int map_clear(rcy_object_t *self)
{
    mal_map_t *m = (mal_map_t *)self;
    RCY_CLEAR(m->dict);
    RCY_CLEAR(m->meta);
    return 0;
}

static int fn_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    mal_fn_t *f = (mal_fn_t *)self;
    RCY_VISIT(f->params);
    RCY_VISIT(f->body);
    RCY_VISIT(f->env);
    RCY_VISIT(f->meta);
    RCY_VISIT(f->rest);
    return 0;
}

static int fn_clear(rcy_object_t *self)
{
    mal_fn_t *f = (mal_fn_t *)self;
    RCY_CLEAR(f->params);
    RCY_CLEAR(f->body);
    RCY_CLEAR(f->env);
    RCY_CLEAR(f->meta);
    RCY_CLEAR(f->rest);
    return 0;
}

static int fn_describe(rcy_object_t *self, char *buf, size_t size)
{
    mal_fn_t *f = (mal_fn_t *)self;
    mal_buf_t b = {0};
    int n;
    if (f->params != NULL && mal_pr(&b, f->params, 1) == 0)
        n = snprintf(buf, size, "<%s (fn* %s ...)>", f->is_macro ? "macro" : "fn", b.data);
    else
        n = snprintf(buf, size, "<%s>", f->is_macro ? "macro" : "fn");
    mal_buf_free(&b);
    return n;
}

static int env_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    mal_env_t *e = (mal_env_t *)self;
    RCY_VISIT(e->outer);
    RCY_VISIT(e->dict);
    for (intptr_t i = 0; i < e->n; i++) {
        RCY_VISIT_NAMED(e->keys[i], "key");
        RCY_VISIT_NAMED(e->vals[i], e->keys[i] ? ((mal_sym_t *)e->keys[i])->cname : "value");
    }
    return 0;
}

static int env_clear(rcy_object_t *self)
{
    mal_env_t *e = (mal_env_t *)self;
    while (e->n > 0) {
        e->n--;
        RCY_CLEAR(e->vals[e->n]);
        RCY_CLEAR(e->keys[e->n]);
    }
    RCY_CLEAR(e->outer);
    RCY_CLEAR(e->dict);
    return 0;
}

static int env_describe(rcy_object_t *self, char *buf, size_t size)
{
    mal_env_t *e = (mal_env_t *)self;
    if (e == mal.repl_env)
        return snprintf(buf, size, "<env repl>");
    if (e->dict == NULL && e->n > 0)
        return snprintf(buf, size, "<env %s%s>", rcy_str_data(((mal_sym_t *)e->keys[0])->name),
                        e->n > 1 ? " ..." : "");
    return snprintf(buf, size, "<env>");
}

static int atom_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    mal_atom_t *a = (mal_atom_t *)self;
    RCY_VISIT(a->value);
    RCY_VISIT(a->meta);
    return 0;
}

static int atom_clear(rcy_object_t *self)
{
    mal_atom_t *a = (mal_atom_t *)self;
    RCY_CLEAR(a->value);
    RCY_CLEAR(a->meta);
    return 0;
}

/* ---- Errors -------------------------------------------------------------- */

rcy_object_t *mal_throw(rcy_object_t *v)
{
    rcy_error_set_value(mal.rt, MAL_ETHROW, NULL, v);
    return NULL;
}

/* The value thrown when even the error message cannot be allocated. */
static rcy_object_t *mal_oom;

rcy_object_t *mal_throwf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rcy_object_t *s = rcy_str_new(mal.rt, buf);
    if (s == NULL)
        return mal_throw(mal_oom);
    mal_throw(s);
    rcy_decref(s);
    return NULL;
}

rcy_object_t *mal_catch(void)
{
    rcy_object_t *v = rcy_error_value(mal.rt);
    if (v != NULL) {
        rcy_incref(v);
    } else {
        /* an error of the library or a call slot, with no mal value */
        const char *msg = rcy_error_message(mal.rt);
        int code = rcy_last_error(mal.rt);
        char buf[512];
        snprintf(buf, sizeof buf, "%s", msg ? msg : rcy_strerror(code));
        v = rcy_str_new(mal.rt, buf);
        if (v == NULL)
            v = mal_oom;
    }
    rcy_error_clear(mal.rt);
    return v;
}

rcy_object_t *mal_throw_rcy(const char *what)
{
    int e = rcy_last_error(mal.rt);
    if (e == RCY_ENOMEM)
        return mal_throw(mal_oom);
    return mal_throwf("%s: %s", what, rcy_strerror(e));
}

/* ---- Constructors -------------------------------------------------------- */

static rcy_object_t *intern(rcy_object_t *table, rcy_type_t *type, const char *name, size_t len)
{
    rcy_object_t *key = rcy_str_new_len(mal.rt, name, len);
    if (key == NULL)
        return mal_throw_rcy("intern");
    rcy_object_t *s = rcy_weakmap_get(table, key);
    if (s != NULL) {
        rcy_decref(key);
        return s;
    }
    mal_sym_t *sym = (mal_sym_t *)rcy_new(type);
    if (sym == NULL) {
        rcy_decref(key);
        return mal_throw_rcy("intern");
    }
    sym->name = key; /* the reference from rcy_str_new_len passes to sym */
    sym->cname = rcy_str_data(key);
    if (rcy_weakmap_set(table, key, &sym->ob) < 0) {
        rcy_decref(&sym->ob);
        return mal_throw_rcy("intern");
    }
    return &sym->ob;
}

rcy_object_t *mal_sym_len(const char *name, size_t len) { return intern(mal.symtab, mal.t_sym, name, len); }
rcy_object_t *mal_sym(const char *name) { return mal_sym_len(name, strlen(name)); }
rcy_object_t *mal_kw_len(const char *name, size_t len) { return intern(mal.kwtab, mal.t_kw, name, len); }
rcy_object_t *mal_kw(const char *name) { return mal_kw_len(name, strlen(name)); }

rcy_object_t *mal_int(int64_t v)
{
    rcy_object_t *o = rcy_int_new(mal.rt, v);
    return o ? o : mal_throw_rcy("int");
}

rcy_object_t *mal_str_len(const char *s, size_t len)
{
    rcy_object_t *o = rcy_str_new_len(mal.rt, s, len);
    return o ? o : mal_throw_rcy("string");
}

rcy_object_t *mal_list_of(intptr_t n, rcy_object_t *const *items)
{
    rcy_object_t *o = rcy_list_new_from(mal.rt, n, items);
    return o ? o : mal_throw_rcy("list");
}

rcy_object_t *mal_vec_wrap(rcy_object_t *list, int kind, rcy_object_t *meta)
{
    mal_vec_t *v = (mal_vec_t *)rcy_new(mal.t_vec);
    if (v == NULL)
        return mal_throw_rcy("vector");
    v->items = rcy_newref(list);
    v->meta = rcy_xnewref(meta);
    v->kind = kind;
    return &v->ob;
}

rcy_object_t *mal_vec_of(intptr_t n, rcy_object_t *const *items)
{
    rcy_object_t *l = mal_list_of(n, items);
    if (l == NULL)
        return NULL;
    rcy_object_t *v = mal_vec_wrap(l, MAL_SEQ_VECTOR, NULL);
    rcy_decref(l);
    return v;
}

rcy_object_t *mal_map_new(void)
{
    rcy_object_t *d = rcy_dict_new(mal.rt);
    if (d == NULL)
        return mal_throw_rcy("hash-map");
    mal_map_t *m = (mal_map_t *)rcy_new(mal.t_map);
    if (m == NULL) {
        rcy_decref(d);
        return mal_throw_rcy("hash-map");
    }
    m->dict = d;
    return &m->ob;
}

int mal_map_put(rcy_object_t *map, rcy_object_t *key, rcy_object_t *val)
{
    if (!mal_is_str(key) && !mal_is_kw(key) && !mal_is_sym(key) && !mal_is_int(key)) {
        mal_throwf("hash-map keys must be strings or keywords");
        return -1;
    }
    if (rcy_dict_set(((mal_map_t *)map)->dict, key, val) < 0) {
        mal_throw_rcy("hash-map");
        return -1;
    }
    return 0;
}

rcy_object_t *mal_map_copy(rcy_object_t *map)
{
    rcy_object_t *m = mal_map_new();
    if (m == NULL)
        return NULL;
    intptr_t pos = 0;
    rcy_object_t *k, *v;
    while (rcy_dict_next(((mal_map_t *)map)->dict, &pos, &k, &v) == 1) {
        if (mal_map_put(m, k, v) < 0) {
            rcy_decref(m);
            return NULL;
        }
    }
    return m;
}

rcy_object_t *mal_builtin_new(const char *name, rcy_cfunction_fn fn)
{
    rcy_object_t *b = rcy_cfunction_new_named(mal.rt, name, fn, NULL);
    return b ? b : mal_throw_rcy("function");
}

int mal_arity_ok(const char *name, size_t nargs, int lo, int hi)
{
    if ((intptr_t)nargs < lo || (hi >= 0 && (intptr_t)nargs > hi)) {
        mal_throwf("%s: wrong number of arguments (%zu)", name, nargs);
        return 0;
    }
    return 1;
}

/* A builtin with metadata is the C function call_with_meta bound to the
   tuple (builtin, meta). */
static rcy_object_t *call_with_meta(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    return rcy_call(rcy_tuple_get(self, 0), args, nargs);
}

static rcy_object_t *meta_pair(rcy_object_t *b)
{
    return rcy_cfunction_function(b) == call_with_meta ? rcy_cfunction_self(b) : NULL;
}

rcy_object_t *mal_builtin_meta(rcy_object_t *b)
{
    rcy_object_t *pair = meta_pair(b);
    return pair ? rcy_tuple_get(pair, 1) : NULL;
}

rcy_object_t *mal_builtin_with_meta(rcy_object_t *b, rcy_object_t *meta)
{
    rcy_object_t *pair = meta_pair(b);
    rcy_object_t *items[2] = {pair ? rcy_tuple_get(pair, 0) : b, meta};
    rcy_object_t *t = rcy_tuple_new(mal.rt, 2, items);
    if (t == NULL)
        return mal_throw_rcy("with-meta");
    /* Named as the builtin it calls (its name lives in items[0], which t holds). */
    rcy_object_t *f = rcy_cfunction_new_named(mal.rt, rcy_cfunction_name(items[0]), call_with_meta, t);
    rcy_decref(t);
    return f ? f : mal_throw_rcy("with-meta");
}

rcy_object_t *mal_fn_new(rcy_object_t *params, rcy_object_t *body, mal_env_t *env)
{
    intptr_t n = mal_seq_len(params), nfixed = n;
    rcy_object_t *rest = NULL;
    for (intptr_t i = 0; i < n; i++) {
        rcy_object_t *p = mal_seq_get(params, i);
        if (!mal_is_sym(p))
            return mal_throwf("fn*: parameters must be symbols");
        if (p == mal.s_amp) {
            if (i + 2 != n)
                return mal_throwf("fn*: & must be followed by one symbol");
            nfixed = i;
            rest = mal_seq_get(params, i + 1);
            break;
        }
    }
    mal_fn_t *f = (mal_fn_t *)rcy_new(mal.t_fn);
    if (f == NULL)
        return mal_throw_rcy("fn*");
    f->params = rcy_newref(params);
    f->body = rcy_newref(body);
    f->env = (mal_env_t *)rcy_newref(&env->ob);
    f->rest = rcy_xnewref(rest);
    f->nfixed = nfixed;
    return &f->ob;
}

rcy_object_t *mal_atom_new(rcy_object_t *v)
{
    mal_atom_t *a = (mal_atom_t *)rcy_new(mal.t_atom);
    if (a == NULL)
        return mal_throw_rcy("atom");
    a->value = rcy_newref(v);
    return &a->ob;
}

rcy_object_t *mal_bool(int b) { return rcy_newref(b ? mal.true_ : mal.false_); }

/* ---- Environments -------------------------------------------------------- */

mal_env_t *mal_env_new(mal_env_t *outer)
{
    mal_env_t *e = (mal_env_t *)rcy_new(mal.t_env);
    if (e == NULL) {
        mal_throw_rcy("env");
        return NULL;
    }
    e->outer = (mal_env_t *)rcy_xnewref((rcy_object_t *)outer);
    return e;
}

int mal_env_set(mal_env_t *e, rcy_object_t *sym, rcy_object_t *val)
{
    if (sym == mal.s_debug_eval)
        mal.debug_eval_bound = 1;
    if (e->dict != NULL) {
        if (rcy_dict_set(e->dict, sym, val) < 0) {
            mal_throw_rcy("def!");
            return -1;
        }
        if (e == mal.repl_env)
            RCY_XSETREF(((mal_sym_t *)sym)->value, val);
        return 0;
    }
    for (intptr_t i = 0; i < e->n; i++) {
        if (e->keys[i] == sym) {
            RCY_SETREF(e->vals[i], val);
            return 0;
        }
    }
    if (e->n < MAL_ENV_SMALL) {
        e->keys[e->n] = rcy_newref(sym);
        e->vals[e->n] = rcy_newref(val);
        e->n++;
        return 0;
    }
    /* Grown past the small table: move the pairs into a dict. */
    rcy_object_t *d = rcy_dict_new(mal.rt);
    if (d == NULL) {
        mal_throw_rcy("def!");
        return -1;
    }
    for (intptr_t i = 0; i < e->n; i++) {
        if (rcy_dict_set(d, e->keys[i], e->vals[i]) < 0) {
            rcy_decref(d);
            mal_throw_rcy("def!");
            return -1;
        }
    }
    if (rcy_dict_set(d, sym, val) < 0) {
        rcy_decref(d);
        mal_throw_rcy("def!");
        return -1;
    }
    e->dict = d;
    while (e->n > 0) {
        e->n--;
        RCY_CLEAR(e->vals[e->n]);
        RCY_CLEAR(e->keys[e->n]);
    }
    return 0;
}

rcy_object_t *mal_env_get(mal_env_t *e, rcy_object_t *sym)
{
    for (; e != NULL; e = e->outer) {
        if (e == mal.repl_env)
            return ((mal_sym_t *)sym)->value;
        if (e->dict != NULL) {
            rcy_object_t *v = rcy_dict_get(e->dict, sym);
            if (v != NULL)
                return v;
            continue;
        }
        for (intptr_t i = 0; i < e->n; i++)
            if (e->keys[i] == sym)
                return e->vals[i];
    }
    return NULL;
}

/* ---- Buffers ------------------------------------------------------------- */

int mal_buf_put(mal_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int mal_buf_puts(mal_buf_t *b, const char *s) { return mal_buf_put(b, s, strlen(s)); }

void mal_buf_free(mal_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- Reader -------------------------------------------------------------- */

typedef struct reader_s {
    const char *p;
    const char *tok; /* current token */
    size_t toklen;
    int depth;
} reader_t;

static int is_special(char c) { return strchr("[]{}()'`~^@", c) != NULL; }

/* Advances to the next token; toklen 0 means end of input. */
static void next_token(reader_t *r)
{
    const char *p = r->p;
    for (;;) {
        while (*p != '\0' && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (*p == ';') { /* comments are skipped */
            while (*p != '\0' && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    const char *start = p;
    if (*p == '\0') {
    } else if (p[0] == '~' && p[1] == '@') {
        p += 2;
    } else if (is_special(*p)) {
        p++;
    } else if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"') {
            if (*p == '\\' && p[1] != '\0')
                p++;
            p++;
        }
        if (*p == '"')
            p++;
    } else {
        while (*p != '\0' && !isspace((unsigned char)*p) && strchr("[]{}('\"`,;)", *p) == NULL)
            p++;
    }
    r->tok = start;
    r->toklen = (size_t)(p - start);
    r->p = p;
}

static rcy_object_t *read_form(reader_t *r);

static rcy_object_t *read_atom(reader_t *r)
{
    const char *t = r->tok;
    size_t n = r->toklen;
    if (t[0] == '"') {
        if (n < 2 || t[n - 1] != '"')
            return mal_throwf("expected '\"', got EOF");
        /* a closing quote escaped by a backslash is no closing quote */
        size_t bs = 0;
        for (size_t i = n - 2; i >= 1 && t[i] == '\\'; i--)
            bs++;
        if (bs % 2 == 1)
            return mal_throwf("expected '\"', got EOF");
        mal_buf_t b = {0};
        int bad = 0;
        for (size_t i = 1; i + 1 < n && !bad; i++) {
            char c = t[i];
            if (c == '\\') {
                c = t[++i];
                c = c == 'n' ? '\n' : c;
            }
            bad = mal_buf_put(&b, &c, 1) < 0;
        }
        rcy_object_t *s = bad ? mal_throw(mal_oom) : mal_str_len(b.data ? b.data : "", b.len);
        mal_buf_free(&b);
        next_token(r);
        return s;
    }
    rcy_object_t *o;
    size_t i = (t[0] == '-' && n > 1) ? 1 : 0;
    size_t j = i;
    while (j < n && isdigit((unsigned char)t[j]))
        j++;
    if (j == n && j > i) {
        char buf[32];
        if (n >= sizeof buf)
            return mal_throwf("number too long");
        memcpy(buf, t, n);
        buf[n] = '\0';
        o = mal_int(strtoll(buf, NULL, 10));
    } else if (n == 3 && memcmp(t, "nil", 3) == 0) {
        o = rcy_newref(mal.nil);
    } else if (n == 4 && memcmp(t, "true", 4) == 0) {
        o = rcy_newref(mal.true_);
    } else if (n == 5 && memcmp(t, "false", 5) == 0) {
        o = rcy_newref(mal.false_);
    } else if (t[0] == ':') {
        o = mal_kw_len(t + 1, n - 1);
    } else {
        o = mal_sym_len(t, n);
    }
    next_token(r);
    return o;
}

/* Reads forms up to the closing character; returns a new recycle list. */
static rcy_object_t *read_seq(reader_t *r, char close)
{
    rcy_object_t *l = rcy_list_new(mal.rt);
    if (l == NULL)
        return mal_throw_rcy("reader");
    next_token(r); /* the opening bracket */
    for (;;) {
        if (r->toklen == 0) {
            rcy_decref(l);
            return mal_throwf("expected '%c', got EOF", close);
        }
        if (r->toklen == 1 && r->tok[0] == close) {
            next_token(r);
            return l;
        }
        rcy_object_t *f = read_form(r);
        if (f == NULL) {
            rcy_decref(l);
            return NULL;
        }
        int rc = rcy_list_append(l, f);
        rcy_decref(f);
        if (rc < 0) {
            rcy_decref(l);
            return mal_throw_rcy("reader");
        }
    }
}

/* (sym form) or, with two forms, (sym second first) for ^. */
static rcy_object_t *read_macro(reader_t *r, rcy_object_t *sym, int two)
{
    next_token(r);
    rcy_object_t *a = read_form(r);
    if (a == NULL)
        return NULL;
    rcy_object_t *items[3] = {sym, a, NULL};
    if (two) {
        rcy_object_t *b = read_form(r);
        if (b == NULL) {
            rcy_decref(a);
            return NULL;
        }
        items[1] = b;
        items[2] = a;
    }
    rcy_object_t *l = mal_list_of(two ? 3 : 2, items);
    rcy_decref(a);
    if (two)
        rcy_decref(items[1]);
    return l;
}

static rcy_object_t *read_form(reader_t *r)
{
    if (r->toklen == 0)
        return mal_throwf("unexpected EOF");
    if (++r->depth > 10000) {
        r->depth--;
        return mal_throwf("reader: nesting too deep");
    }
    rcy_object_t *o = NULL;
    char c = r->tok[0];
    if (r->toklen == 2 && c == '~') {
        o = read_macro(r, mal.s_splice_unquote, 0);
    } else if (r->toklen == 1 && is_special(c)) {
        switch (c) {
        case '(':
            o = read_seq(r, ')');
            break;
        case '[': {
            rcy_object_t *l = read_seq(r, ']');
            if (l != NULL) {
                o = mal_vec_wrap(l, MAL_SEQ_VECTOR, NULL);
                rcy_decref(l);
            }
            break;
        }
        case '{': {
            rcy_object_t *l = read_seq(r, '}');
            if (l == NULL)
                break;
            intptr_t n = rcy_list_len(l);
            if (n % 2 != 0) {
                rcy_decref(l);
                o = mal_throwf("odd number of forms in a hash-map literal");
                break;
            }
            o = mal_map_new();
            for (intptr_t i = 0; o != NULL && i < n; i += 2) {
                if (mal_map_put(o, rcy_list_get(l, i), rcy_list_get(l, i + 1)) < 0)
                    RCY_CLEAR(o);
            }
            rcy_decref(l);
            break;
        }
        case '\'':
            o = read_macro(r, mal.s_quote, 0);
            break;
        case '`':
            o = read_macro(r, mal.s_quasiquote, 0);
            break;
        case '~':
            o = read_macro(r, mal.s_unquote, 0);
            break;
        case '@':
            o = read_macro(r, mal.s_deref, 0);
            break;
        case '^':
            o = read_macro(r, mal.s_with_meta, 1);
            break;
        default:
            o = mal_throwf("unexpected '%c'", c);
            break;
        }
    } else {
        o = read_atom(r);
    }
    r->depth--;
    return o;
}

int mal_read_str(const char *text, rcy_object_t **out)
{
    reader_t r = {.p = text};
    next_token(&r);
    *out = NULL;
    if (r.toklen == 0)
        return 0; /* nothing but blanks and comments */
    *out = read_form(&r);
    return *out ? 1 : -1;
}

/* ---- Printer ------------------------------------------------------------- */

static int pr_seq(mal_buf_t *b, rcy_object_t *seq, const char *open, const char *close, int readably)
{
    if (mal_buf_puts(b, open) < 0)
        return -1;
    intptr_t n = mal_seq_len(seq);
    for (intptr_t i = 0; i < n; i++) {
        if ((i > 0 && mal_buf_put(b, " ", 1) < 0) || mal_pr(b, mal_seq_get(seq, i), readably) < 0)
            return -1;
    }
    return mal_buf_puts(b, close);
}

static int pr_depth; /* an atom may hold itself: printing stops this deep */

static int pr_value(mal_buf_t *b, rcy_object_t *o, int readably);

int mal_pr(mal_buf_t *b, rcy_object_t *o, int readably)
{
    if (pr_depth >= 10000)
        return mal_buf_puts(b, "...");
    pr_depth++;
    int r = pr_value(b, o, readably);
    pr_depth--;
    return r;
}

static int pr_value(mal_buf_t *b, rcy_object_t *o, int readably)
{
    char tmp[64];
    if (mal_is_int(o)) {
        int64_t v = 0;
        rcy_int_value(o, &v);
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        return mal_buf_puts(b, tmp);
    }
    if (mal_is_str(o)) {
        const char *s = rcy_str_data(o);
        size_t n = (size_t)rcy_str_len(o);
        if (!readably)
            return mal_buf_put(b, s, n);
        if (mal_buf_put(b, "\"", 1) < 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            const char *e = s[i] == '"' ? "\\\"" : s[i] == '\\' ? "\\\\" : s[i] == '\n' ? "\\n" : NULL;
            if (e ? mal_buf_puts(b, e) < 0 : mal_buf_put(b, s + i, 1) < 0)
                return -1;
        }
        return mal_buf_put(b, "\"", 1);
    }
    if (o == mal.nil)
        return mal_buf_puts(b, "nil");
    if (o == mal.true_)
        return mal_buf_puts(b, "true");
    if (o == mal.false_)
        return mal_buf_puts(b, "false");
    if (mal_is_sym(o))
        return mal_buf_puts(b, rcy_str_data(((mal_sym_t *)o)->name));
    if (mal_is_kw(o))
        return mal_buf_puts(b, ":") < 0 ? -1 : mal_buf_puts(b, rcy_str_data(((mal_sym_t *)o)->name));
    if (mal_is_list(o))
        return pr_seq(b, o, "(", ")", readably);
    if (mal_is_vector(o))
        return pr_seq(b, o, "[", "]", readably);
    if (mal_is_map(o)) {
        if (mal_buf_puts(b, "{") < 0)
            return -1;
        intptr_t pos = 0;
        rcy_object_t *k, *v;
        int first = 1;
        while (rcy_dict_next(((mal_map_t *)o)->dict, &pos, &k, &v) == 1) {
            if ((!first && mal_buf_puts(b, " ") < 0) || mal_pr(b, k, readably) < 0 ||
                mal_buf_puts(b, " ") < 0 || mal_pr(b, v, readably) < 0)
                return -1;
            first = 0;
        }
        return mal_buf_puts(b, "}");
    }
    if (mal_is_atom(o)) {
        if (mal_buf_puts(b, "(atom ") < 0 || mal_pr(b, ((mal_atom_t *)o)->value, readably) < 0)
            return -1;
        return mal_buf_puts(b, ")");
    }
    if (mal_is_fn(o))
        return mal_buf_puts(b, ((mal_fn_t *)o)->is_macro ? "#<macro>" : "#<function>");
    if (mal_is_builtin(o))
        return mal_buf_puts(b, "#<function>");
    rcy_describe(o, tmp, sizeof tmp);
    return mal_buf_puts(b, tmp);
}

rcy_object_t *mal_pr_join(int argc, rcy_object_t *const *argv, int readably, const char *sep)
{
    mal_buf_t b = {0};
    for (int i = 0; i < argc; i++) {
        if ((i > 0 && mal_buf_puts(&b, sep) < 0) || mal_pr(&b, argv[i], readably) < 0) {
            mal_buf_free(&b);
            return mal_throw(mal_oom);
        }
    }
    rcy_object_t *s = mal_str_len(b.data ? b.data : "", b.len);
    mal_buf_free(&b);
    return s;
}

/* ---- Equality ------------------------------------------------------------ */

static int equal_depth(rcy_object_t *a, rcy_object_t *b, int depth)
{
    if (a == b)
        return 1;
    if (depth > 10000) {
        mal_throwf("=: nesting too deep");
        return -1;
    }
    if (mal_is_seq(a) && mal_is_seq(b)) {
        intptr_t n = mal_seq_len(a);
        if (n != mal_seq_len(b))
            return 0;
        for (intptr_t i = 0; i < n; i++) {
            int r = equal_depth(mal_seq_get(a, i), mal_seq_get(b, i), depth + 1);
            if (r != 1)
                return r;
        }
        return 1;
    }
    if (mal_is_map(a) && mal_is_map(b)) {
        rcy_object_t *da = ((mal_map_t *)a)->dict, *db = ((mal_map_t *)b)->dict;
        if (rcy_dict_len(da) != rcy_dict_len(db))
            return 0;
        intptr_t pos = 0;
        rcy_object_t *k, *v;
        while (rcy_dict_next(da, &pos, &k, &v) == 1) {
            rcy_object_t *w = rcy_dict_get(db, k);
            if (w == NULL)
                return 0;
            int r = equal_depth(v, w, depth + 1);
            if (r != 1)
                return r;
        }
        return 1;
    }
    if ((mal_is_int(a) && mal_is_int(b)) || (mal_is_str(a) && mal_is_str(b))) {
        int r = rcy_equal(a, b);
        return r < 0 ? 0 : r;
    }
    return 0; /* symbols, keywords, singletons: interned, so identity decides */
}

int mal_equal(rcy_object_t *a, rcy_object_t *b) { return equal_depth(a, b, 0); }

/* ---- Setup and teardown -------------------------------------------------- */

static rcy_type_t *make_type(const char *name, size_t size, int gc, rcy_traverse_fn tr, rcy_clear_fn cl,
                             rcy_dealloc_fn dealloc, rcy_describe_fn describe, size_t weaklistoffset,
                             rcy_call_fn call)
{
    rcy_type_spec_t spec = {
        .call = call,
        .weaklistoffset = weaklistoffset,
        .name = name,
        .basicsize = size,
        .flags = gc ? RCY_TPFLAGS_GC : 0,
        .traverse = tr,
        .clear = cl,
        .dealloc = dealloc,
        .describe = describe,
    };
    return rcy_type_new(mal.rt, &spec);
}

int mal_init(int step)
{
    memset(&mal, 0, sizeof mal);
    mal.step = step;
    mal.rt = rcy_runtime_new(NULL);
    if (mal.rt == NULL)
        return -1;
    mal.t_sym = make_type("mal.symbol", sizeof(mal_sym_t), 1, sym_traverse, sym_clear, sym_dealloc, sym_describe,
                          offsetof(mal_sym_t, weaklist), NULL);
    mal.t_kw = make_type("mal.keyword", sizeof(mal_sym_t), 0, NULL, NULL, sym_dealloc, sym_describe,
                          offsetof(mal_sym_t, weaklist), NULL);
    mal.t_vec = make_type("mal.vector", sizeof(mal_vec_t), 1, vec_traverse, vec_clear, NULL, NULL, 0, NULL);
    mal.t_map = make_type("mal.hash-map", sizeof(mal_map_t), 1, map_traverse, map_clear, NULL, NULL, 0, NULL);
    mal.t_fn = make_type("mal.function", sizeof(mal_fn_t), 1, fn_traverse, fn_clear, NULL, fn_describe, 0, mal_fn_call);
    mal.t_env = make_type("mal.env", sizeof(mal_env_t), 1, env_traverse, env_clear, NULL, env_describe, 0, NULL);
    mal.t_atom = make_type("mal.atom", sizeof(mal_atom_t), 1, atom_traverse, atom_clear, NULL, NULL, 0, NULL);
    if (!mal.t_sym || !mal.t_kw || !mal.t_vec || !mal.t_map || !mal.t_fn || !mal.t_env ||
        !mal.t_atom)
        return -1;
    /* nil, true and false are recycle's None, True and False */
    mal.nil = rcy_none(mal.rt);
    mal.true_ = rcy_true(mal.rt);
    mal.false_ = rcy_false(mal.rt);
    mal_oom = rcy_str_new(mal.rt, "out of memory");
    if (mal_oom == NULL || rcy_immortalize(mal_oom) < 0)
        return -1;
    mal.symtab = rcy_weakvaluedict_new(mal.rt);
    mal.kwtab = rcy_weakvaluedict_new(mal.rt);
    if (!mal.nil || !mal.true_ || !mal.false_ || !mal.symtab || !mal.kwtab)
        return -1;
    struct {
        rcy_object_t **slot;
        const char *name;
    } specials[] = {
        {&mal.s_def, "def!"},
        {&mal.s_let, "let*"},
        {&mal.s_do, "do"},
        {&mal.s_if, "if"},
        {&mal.s_fn, "fn*"},
        {&mal.s_quote, "quote"},
        {&mal.s_quasiquote, "quasiquote"},
        {&mal.s_unquote, "unquote"},
        {&mal.s_splice_unquote, "splice-unquote"},
        {&mal.s_defmacro, "defmacro!"},
        {&mal.s_try, "try*"},
        {&mal.s_catch, "catch*"},
        {&mal.s_amp, "&"},
        {&mal.s_debug_eval, "DEBUG-EVAL"},
        {&mal.s_cons, "cons"},
        {&mal.s_concat, "concat"},
        {&mal.s_vec, "vec"},
        {&mal.s_deref, "deref"},
        {&mal.s_with_meta, "with-meta"},
    };
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        *specials[i].slot = mal_sym(specials[i].name);
        if (*specials[i].slot == NULL)
            return -1;
    }
    mal.repl_env = mal_env_new(NULL);
    if (mal.repl_env == NULL || (mal.repl_env->dict = rcy_dict_new(mal.rt)) == NULL)
        return -1;
    rcy_root_add(&mal.repl_env->ob, "repl-env");
    return 0;
}

/* Counts the objects still alive once the interpreter has dropped all it
   holds: its immortal out-of-memory message is expected (None, True and
   False are not counted as live objects), anything else leaked. */
size_t mal_finish(void)
{
    if (mal.growth != NULL)
        rcy_growth_free(mal.growth);
    rcy_root_remove(&mal.repl_env->ob);
    RCY_CLEAR(mal.repl_env);
    rcy_error_clear(mal.rt);
    rcy_object_t **specials[] = {&mal.s_def, &mal.s_let, &mal.s_do, &mal.s_if, &mal.s_fn,
                                 &mal.s_quote, &mal.s_quasiquote, &mal.s_unquote, &mal.s_splice_unquote,
                                 &mal.s_defmacro, &mal.s_try, &mal.s_catch, &mal.s_amp,
                                 &mal.s_debug_eval, &mal.s_cons, &mal.s_concat, &mal.s_vec,
                                 &mal.s_deref, &mal.s_with_meta};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        RCY_CLEAR(*specials[i]);
    RCY_CLEAR(mal.symtab);
    RCY_CLEAR(mal.kwtab);
    rcy_gc_set_debug(mal.rt, 0); /* the program's debug flags do not cover teardown */
    rcy_gc_unfreeze(mal.rt);     /* what (gc-freeze) left permanent is collectable again */
    rcy_gc_collect(mal.rt, 2);
    size_t live = rcy_runtime_live_objects(mal.rt);
    size_t expected = 1; /* the out-of-memory string */
    rcy_runtime_destroy(mal.rt);
    mal.rt = NULL;
    return live > expected ? live - expected : 0;
}
