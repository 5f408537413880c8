/* The object API a language runtime needs (issue 14): the None/True/False
   singletons, hash and equal slots of user types, getters that return new
   references, callable objects and C functions, the pending error state
   kept across callbacks, the inline fast paths and the conveniences. */
#include "harness.h"

#include <stdarg.h>

static int64_t int_of(rcy_object_t *o)
{
    int64_t v = -999;
    CHECK_EQ(rcy_int_value(o, &v), 0);
    return v;
}

static void repr_is(rcy_object_t *o, const char *want)
{
    char buf[256];
    rcy_describe(o, buf, sizeof buf);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "repr: got %s, want %s\n", buf, want);
    CHECK(strcmp(buf, want) == 0);
}

/* ---- Singletons ----------------------------------------------------- */

TEST(test_singletons)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *none = rcy_none(rt), *t = rcy_true(rt), *f = rcy_false(rt);
    CHECK(none != NULL && t != NULL && f != NULL && t != f);
    CHECK(rcy_bool(rt, 7) == t && rcy_bool(rt, 0) == f);
    CHECK(rcy_none(NULL) == NULL && rcy_true(NULL) == NULL && rcy_bool(NULL, 1) == NULL);
    CHECK(rcy_is_none(none) && !rcy_is_none(f) && !rcy_is_none(NULL));
    CHECK(rcy_is_bool(t) && rcy_is_bool(f) && !rcy_is_bool(none) && !rcy_is_bool(NULL));
    CHECK(rcy_is_true(t) && !rcy_is_true(f) && !rcy_is_true(NULL));
    CHECK(rcy_is_immortal(none) && rcy_is_immortal(t) && rcy_is_immortal(f));
    CHECK(!rcy_is_int(t)); /* exact check, as PyLong_CheckExact(True) */
    CHECK(strcmp(rcy_type_name(rcy_type(none)), "NoneType") == 0);
    CHECK(strcmp(rcy_type_name(rcy_type(t)), "bool") == 0);
    CHECK(rcy_none_type(rt) == rcy_type(none) && rcy_bool_type(rt) == rcy_type(f));
    CHECK(rcy_object_runtime(none) == rt);
    /* Not live objects; incref/decref leave them alone. */
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    rcy_incref(none);
    rcy_decref(none);
    rcy_decref(t);
    CHECK(rcy_is_immortal(t));
    CHECK_EQ(int_of(t), 1);
    CHECK_EQ(int_of(f), 0);
    /* As in CPython: True == 1 == 1.0, hash(True) == 1, False == 0, None == None only. */
    rcy_object_t *one = rcy_int_new(rt, 1), *onef = rcy_float_new(rt, 1.0), *zero = rcy_int_new(rt, 0);
    CHECK_EQ(rcy_equal(t, one), 1);
    CHECK_EQ(rcy_equal(onef, t), 1);
    CHECK_EQ(rcy_equal(f, zero), 1);
    CHECK_EQ(rcy_equal(t, f), 0);
    CHECK_EQ(rcy_equal(none, zero), 0);
    CHECK_EQ(rcy_equal(none, f), 0);
    CHECK_EQ(rcy_equal(none, none), 1);
    int64_t h = 0;
    CHECK_EQ(rcy_hash(t, &h), 0);
    CHECK_EQ(h, 1);
    CHECK_EQ(rcy_hash(f, &h), 0);
    CHECK_EQ(h, 0);
    CHECK_EQ(rcy_hash(none, &h), 0);
    /* {1: 'a'}; d[True] = 'b' replaces the value and keeps the key 1:
       >>> d = {1: 'a'}; d[True] = 'b'; d  ->  {1: 'b'} */
    rcy_object_t *d = rcy_dict_new(rt), *a = rcy_str_new(rt, "a"), *b = rcy_str_new(rt, "b");
    CHECK_EQ(rcy_dict_set(d, one, a), 0);
    CHECK_EQ(rcy_dict_set(d, t, b), 0);
    CHECK_EQ(rcy_dict_len(d), 1);
    repr_is(d, "{1: 'b'}");
    CHECK_EQ(rcy_dict_set(d, none, f), 0);
    CHECK(rcy_dict_get(d, none) == f);
    repr_is(d, "{1: 'b', None: False}");
    rcy_object_t *items[] = {none, t, f};
    rcy_object_t *tup = rcy_tuple_new(rt, 3, items);
    repr_is(tup, "(None, True, False)");
    /* (None, True, False) == (None, 1, 0.0) */
    rcy_object_t *fz = rcy_float_new(rt, 0.0);
    rcy_object_t *items2[] = {none, one, fz};
    rcy_object_t *tup2 = rcy_tuple_new(rt, 3, items2);
    CHECK_EQ(rcy_equal(tup, tup2), 1);
    int64_t h1 = 0, h2 = 1;
    CHECK_EQ(rcy_hash(tup, &h1), 0);
    CHECK_EQ(rcy_hash(tup2, &h2), 0);
    CHECK_EQ(h1, h2);
    rcy_object_t *objs[] = {tup, tup2, fz, d, a, b, one, onef, zero};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

/* Two runtimes have their own singletons. */
TEST(test_singletons_per_runtime)
{
    rcy_runtime_t *rt1 = test_runtime(NULL), *rt2 = test_runtime(NULL);
    CHECK(rcy_none(rt1) != rcy_none(rt2) && rcy_true(rt1) != rcy_true(rt2));
    CHECK(rcy_object_runtime(rcy_true(rt2)) == rt2);
    rcy_object_t *l = rcy_list_new(rt1);
    CHECK_EQ(rcy_list_append(l, rcy_none(rt2)), RCY_ERUNTIME);
    CHECK_EQ(rcy_list_append(l, rcy_none(rt1)), 0);
    rcy_decref(l);
    test_runtime_end(rt1);
    test_runtime_end(rt2);
}

/* ---- hash and equal slots -------------------------------------------- */

/* A symbol: equal to another symbol of the same name, hashing as its name. */
typedef struct sym_s {
    rcy_object_t ob;
    rcy_object_t *name; /* a str */
} sym_t;

static rcy_type_t *sym_type;
static int sym_equal_calls;

static int sym_hash(rcy_object_t *self, int64_t *out) { return rcy_hash(((sym_t *)self)->name, out); }
static int sym_equal(rcy_object_t *self, rcy_object_t *other)
{
    sym_equal_calls++;
    if (rcy_type(other) != sym_type)
        return RCY_NOTIMPLEMENTED;
    return rcy_equal(((sym_t *)self)->name, ((sym_t *)other)->name);
}
static void sym_dealloc(rcy_object_t *self) { RCY_CLEAR(((sym_t *)self)->name); }

static rcy_object_t *sym_new(rcy_runtime_t *rt, const char *name)
{
    sym_t *s = (sym_t *)rcy_new(sym_type);
    CHECK(s != NULL);
    s->name = rcy_str_new(rt, name);
    return &s->ob;
}

/* A big integer that fits in 64 bits: equal to the int of its value (both
   ways round) and hashing as it, as a bignum type of a Lisp would. */
typedef struct big_s {
    rcy_object_t ob;
    int64_t v;
} big_t;
static rcy_type_t *big_type;
static int big_hash(rcy_object_t *self, int64_t *out)
{
    rcy_runtime_t *rt = rcy_object_runtime(self);
    rcy_object_t *i = rcy_int_new(rt, ((big_t *)self)->v);
    if (i == NULL)
        return RCY_ENOMEM;
    int r = rcy_hash(i, out);
    rcy_decref(i);
    return r;
}
static int big_equal(rcy_object_t *self, rcy_object_t *other)
{
    int64_t v;
    if (rcy_type(other) == big_type)
        return ((big_t *)self)->v == ((big_t *)other)->v;
    if (rcy_int_value(other, &v) == 0)
        return ((big_t *)self)->v == v;
    return RCY_NOTIMPLEMENTED;
}
static rcy_object_t *big_new(int64_t v)
{
    big_t *b = (big_t *)rcy_new(big_type);
    b->v = v;
    return &b->ob;
}

/* Equality without a hash: unhashable, as __eq__ without __hash__. */
static rcy_type_t *eqonly_type;
static int eqonly_equal(rcy_object_t *self, rcy_object_t *other)
{
    (void)self;
    (void)other;
    return 1;
}

/* A slot that fails. */
static rcy_type_t *bad_type;
static int bad_hash(rcy_object_t *self, int64_t *out)
{
    (void)self;
    *out = 7;
    return 0;
}
static int bad_equal(rcy_object_t *self, rcy_object_t *other)
{
    (void)self;
    (void)other;
    return RCY_ECALLBACK;
}

static void value_types_init(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Symbol";
    spec.basicsize = sizeof(sym_t);
    spec.dealloc = sym_dealloc;
    spec.hash = sym_hash;
    spec.equal = sym_equal;
    sym_type = rcy_type_new(rt, &spec);
    memset(&spec, 0, sizeof spec);
    spec.name = "Big";
    spec.basicsize = sizeof(big_t);
    spec.hash = big_hash;
    spec.equal = big_equal;
    big_type = rcy_type_new(rt, &spec);
    memset(&spec, 0, sizeof spec);
    spec.name = "EqOnly";
    spec.basicsize = sizeof(rcy_object_t);
    spec.equal = eqonly_equal;
    eqonly_type = rcy_type_new(rt, &spec);
    memset(&spec, 0, sizeof spec);
    spec.name = "Bad";
    spec.basicsize = sizeof(rcy_object_t);
    spec.hash = bad_hash;
    spec.equal = bad_equal;
    bad_type = rcy_type_new(rt, &spec);
    CHECK(sym_type && big_type && eqonly_type && bad_type);
}

/* class Sym: __eq__ by name, __hash__ of the name; a dict keyed by one
   symbol finds another of the same name, and a tuple of symbols hashes and
   compares through them:
   >>> d = {Sym('a'): 1}; d[Sym('a')], (Sym('a'), 1) == (Sym('a'), 1.0)
   (1, True) */
TEST(test_value_slots_dict_keys)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    value_types_init(rt);
    rcy_object_t *a1 = sym_new(rt, "a"), *a2 = sym_new(rt, "a"), *b = sym_new(rt, "b");
    CHECK_EQ(rcy_equal(a1, a2), 1);
    CHECK_EQ(rcy_equal(a1, b), 0);
    int64_t h1, h2, hs;
    rcy_object_t *sa = rcy_str_new(rt, "a");
    CHECK_EQ(rcy_hash(a1, &h1), 0);
    CHECK_EQ(rcy_hash(a2, &h2), 0);
    CHECK_EQ(rcy_hash(sa, &hs), 0);
    CHECK_EQ(h1, h2);
    CHECK_EQ(h1, hs);
    /* A symbol and the str of its name: Sym says NotImplemented, str has
       no opinion: not equal, even with equal hashes (and both ways round). */
    CHECK_EQ(rcy_equal(a1, sa), 0);
    CHECK_EQ(rcy_equal(sa, a1), 0);
    rcy_object_t *d = rcy_dict_new(rt), *one = rcy_int_new(rt, 1), *two = rcy_int_new(rt, 2);
    CHECK_EQ(rcy_dict_set(d, a1, one), 0);
    CHECK_EQ(rcy_dict_set(d, sa, two), 0); /* a different key: same hash, not equal */
    CHECK_EQ(rcy_dict_len(d), 2);
    CHECK(rcy_dict_get(d, a2) == one);
    CHECK(rcy_dict_get(d, b) == NULL && rcy_last_error(rt) == RCY_EKEY);
    CHECK_EQ(rcy_dict_set(d, a2, two), 0); /* replaces: a1 stays the key */
    CHECK_EQ(rcy_dict_len(d), 2);
    rcy_object_t *k = NULL, *v = NULL;
    intptr_t pos = 0;
    CHECK_EQ(rcy_dict_next(d, &pos, &k, &v), 1);
    CHECK(k == a1 && v == two);
    CHECK_EQ(rcy_dict_del(d, a2), 0);
    CHECK_EQ(rcy_dict_len(d), 1);
    /* Tuples of symbols. */
    rcy_object_t *onef = rcy_float_new(rt, 1.0);
    rcy_object_t *i1[] = {a1, one}, *i2[] = {a2, onef};
    rcy_object_t *t1 = rcy_tuple_new(rt, 2, i1), *t2 = rcy_tuple_new(rt, 2, i2);
    CHECK_EQ(rcy_equal(t1, t2), 1);
    CHECK_EQ(rcy_hash(t1, &h1), 0);
    CHECK_EQ(rcy_hash(t2, &h2), 0);
    CHECK_EQ(h1, h2);
    CHECK_EQ(rcy_dict_set(d, t1, b), 0);
    CHECK(rcy_dict_get(d, t2) == b);
    /* Lists and dicts compare their items through the slots. */
    rcy_object_t *l1 = rcy_list_new_from(rt, 2, i1), *l2 = rcy_list_new_from(rt, 2, i2);
    CHECK_EQ(rcy_equal(l1, l2), 1);
    rcy_object_t *d2 = rcy_dict_new(rt);
    CHECK_EQ(rcy_dict_set(d2, sa, two), 0);
    CHECK_EQ(rcy_dict_set(d2, t2, b), 0);
    CHECK_EQ(rcy_equal(d, d2), 1);
    rcy_object_t *objs[] = {a1, a2, b, sa, d, one, two, onef, t1, t2, l1, l2, d2};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

/* A bignum equal to an int, both ways round (the reflected slot), and the
   same dict key:
   >>> class Big: __eq__ = lambda s, o: s.v == o; __hash__ = lambda s: hash(s.v)
   >>> 5 == Big(5), Big(5) == 5, {5: 'x'}[Big(5)]  ->  (True, True, 'x') */
TEST(test_value_slots_reflected)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    value_types_init(rt);
    rcy_object_t *five = rcy_int_new(rt, 5), *big5 = big_new(5), *big6 = big_new(6);
    CHECK_EQ(rcy_equal(five, big5), 1);
    CHECK_EQ(rcy_equal(big5, five), 1);
    CHECK_EQ(rcy_equal(big6, five), 0);
    CHECK_EQ(rcy_equal(rcy_true(rt), big5), 0);
    rcy_object_t *big1 = big_new(1);
    CHECK_EQ(rcy_equal(rcy_true(rt), big1), 1); /* a bool is an int */
    rcy_object_t *d = rcy_dict_new(rt), *x = rcy_str_new(rt, "x");
    CHECK_EQ(rcy_dict_set(d, five, x), 0);
    CHECK(rcy_dict_get(d, big5) == x);
    CHECK(rcy_dict_get(d, big6) == NULL);
    /* A symbol and a bignum: both say NotImplemented: identity. */
    rcy_object_t *s = sym_new(rt, "5");
    CHECK_EQ(rcy_equal(s, big5), 0);
    CHECK_EQ(rcy_equal(big5, s), 0);
    rcy_object_t *objs[] = {five, big5, big6, big1, d, x, s};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

/* Unhashable and failing slots: the errors come back as return codes. */
TEST(test_value_slots_errors)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    value_types_init(rt);
    rcy_object_t *e = rcy_new(eqonly_type), *bad1 = rcy_new(bad_type), *bad2 = rcy_new(bad_type);
    int64_t h;
    CHECK_EQ(rcy_hash(e, &h), RCY_EHASH);
    rcy_object_t *d = rcy_dict_new(rt), *one = rcy_int_new(rt, 1);
    CHECK_EQ(rcy_dict_set(d, e, one), RCY_EHASH);
    rcy_object_t *it[] = {e};
    rcy_object_t *t = rcy_tuple_new(rt, 1, it);
    CHECK_EQ(rcy_hash(t, &h), RCY_EHASH);
    CHECK_EQ(rcy_equal(e, one), 1); /* its slot says so */
    CHECK_EQ(rcy_equal(bad1, bad1), 1); /* identity, no slot asked */
    CHECK_EQ(rcy_equal(bad1, bad2), RCY_ECALLBACK);
    CHECK_EQ(rcy_dict_set(d, bad1, one), 0);
    CHECK_EQ(rcy_dict_set(d, bad2, one), RCY_ECALLBACK); /* same hash: compared, failed */
    CHECK_EQ(rcy_dict_len(d), 1);
    CHECK(rcy_dict_get(d, bad2) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ECALLBACK);
    CHECK_EQ(rcy_dict_del(d, bad2), RCY_ECALLBACK);
    rcy_object_t *l1 = rcy_list_new_from(rt, 1, &bad1), *l2 = rcy_list_new_from(rt, 1, &bad2);
    CHECK_EQ(rcy_equal(l1, l2), RCY_ECALLBACK);
    rcy_object_t *objs[] = {e, bad1, bad2, d, one, t, l1, l2};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

/* An equal slot that changes the dict being searched: the lookup starts
   again (CPython's lookdict) and nothing freed is read (ASan). */
static rcy_type_t *evil_type;
static rcy_object_t *evil_dict;
static int evil_mutations;
static int evil_hash(rcy_object_t *self, int64_t *out)
{
    (void)self;
    *out = 42;
    return 0;
}
static int evil_equal(rcy_object_t *self, rcy_object_t *other)
{
    if (evil_dict != NULL && evil_mutations > 0) {
        evil_mutations--;
        /* Empty the dict and fill it with fresh entries: the table moves. */
        rcy_runtime_t *rt = rcy_object_runtime(self);
        while (rcy_dict_len(evil_dict) > 0) {
            intptr_t pos = 0;
            rcy_object_t *k;
            rcy_dict_next(evil_dict, &pos, &k, NULL);
            rcy_incref(k);
            rcy_dict_del(evil_dict, k);
            rcy_decref(k);
        }
        for (int i = 0; i < 20; i++) {
            rcy_object_t *n = rcy_int_new(rt, 1000 + i);
            rcy_dict_set(evil_dict, n, n);
            rcy_decref(n);
        }
    }
    return self == other;
}

TEST(test_value_slots_mutating_lookup)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Evil";
    spec.basicsize = sizeof(rcy_object_t);
    spec.hash = evil_hash;
    spec.equal = evil_equal;
    evil_type = rcy_type_new(rt, &spec);
    rcy_object_t *d = rcy_dict_new(rt), *e1 = rcy_new(evil_type), *e2 = rcy_new(evil_type);
    CHECK_EQ(rcy_dict_set(d, e1, e1), 0);
    evil_dict = d;
    evil_mutations = 1;
    rcy_decref(e1); /* only the dict holds e1: the slot's deletion frees it */
    /* e2 is compared with e1 (same hash), whose slot empties the dict. */
    CHECK(rcy_dict_get(d, e2) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK_EQ(rcy_dict_len(d), 20);
    CHECK_EQ(rcy_dict_set(d, e2, e2), 0);
    CHECK_EQ(rcy_dict_len(d), 21);
    evil_dict = NULL;
    rcy_decref(d);
    rcy_decref(e2);
    test_runtime_end(rt);
}

/* A slot that recurses without end: bounded by the stack (RCY_EDEPTH). */
typedef struct loop_s {
    rcy_object_t ob;
    rcy_object_t *next;
} loop_t;
static int loop_equal(rcy_object_t *self, rcy_object_t *other)
{
    loop_t *o = (loop_t *)other;
    if (o->ob.type != self->type)
        return RCY_NOTIMPLEMENTED;
    /* Compares (self.next, other) as a tuple would: never ends. */
    return rcy_equal(((loop_t *)self)->next, other);
}
static int loop_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((loop_t *)self)->next);
    return 0;
}
static int loop_clear(rcy_object_t *self)
{
    RCY_CLEAR(((loop_t *)self)->next);
    return 0;
}

TEST(test_value_slots_recursion_bounded)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Loop";
    spec.basicsize = sizeof(loop_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = loop_traverse;
    spec.clear = loop_clear;
    spec.equal = loop_equal;
    rcy_type_t *lt = rcy_type_new(rt, &spec);
    loop_t *a = (loop_t *)rcy_new(lt), *b = (loop_t *)rcy_new(lt);
    a->next = rcy_newref(&a->ob); /* a cycle: a.next is a */
    CHECK_EQ(rcy_equal(&a->ob, &b->ob), RCY_EDEPTH);
    rcy_decref(&a->ob);
    rcy_decref(&b->ob);
    test_runtime_end(rt);
}

/* ---- New-reference getters and contains ------------------------------ */

/* Counts deaths, to show a get_ref reference outlives the container's. */
static int probe_deaths;
static int probe_finalize(rcy_object_t *self)
{
    (void)self;
    probe_deaths++;
    return 0;
}

TEST(test_get_ref)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_type_spec_t spec = {0};
    spec.name = "Probe";
    spec.basicsize = sizeof(rcy_object_t);
    spec.finalize = probe_finalize;
    rcy_type_t *pt = rcy_type_new(rt, &spec);
    rcy_object_t *d = rcy_dict_new(rt), *k = rcy_str_new(rt, "k"), *k2 = rcy_str_new(rt, "nope");
    rcy_object_t *p = rcy_new(pt), *out = (rcy_object_t *)1;
    CHECK_EQ(rcy_dict_set(d, k, p), 0);
    rcy_decref(p);
    CHECK_EQ(rcy_dict_get_ref(d, k, &out), 1);
    CHECK(out == p);
    CHECK_EQ(rcy_getrefcount(p), 2);
    /* The dict drops its value: the caller's reference keeps it alive. */
    CHECK_EQ(rcy_dict_del(d, k), 0);
    CHECK_EQ(probe_deaths, 0);
    rcy_decref(out);
    CHECK_EQ(probe_deaths, 1);
    /* Absent: 0, *out NULL, and the last error left as it was. */
    CHECK_EQ(rcy_dict_set(d, k, k), 0);
    rcy_object_t *l = rcy_list_new(rt);
    CHECK(rcy_list_get(l, 3) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);
    out = (rcy_object_t *)1;
    CHECK_EQ(rcy_dict_get_ref(d, k2, &out), 0);
    CHECK(out == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINDEX);
    CHECK_EQ(rcy_dict_contains(d, k), 1);
    CHECK_EQ(rcy_dict_contains(d, k2), 0);
    /* Errors: negative, *out NULL. */
    CHECK_EQ(rcy_dict_get_ref(d, l, &out), RCY_EHASH);
    CHECK(out == NULL);
    CHECK_EQ(rcy_dict_contains(d, l), RCY_EHASH);
    CHECK_EQ(rcy_dict_get_ref(l, k, &out), RCY_ETYPE);
    CHECK_EQ(rcy_dict_get_ref(NULL, k, &out), RCY_EINVAL);
    CHECK_EQ(rcy_dict_get_ref(d, k, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_dict_contains(NULL, k), RCY_EINVAL);
    /* Lists and tuples by index. */
    CHECK_EQ(rcy_list_append(l, k), 0);
    CHECK_EQ(rcy_list_get_ref(l, 0, &out), 1);
    CHECK(out == k);
    rcy_decref(out);
    CHECK_EQ(rcy_list_get_ref(l, -1, &out), 1);
    rcy_decref(out);
    CHECK_EQ(rcy_list_get_ref(l, 1, &out), 0);
    CHECK(out == NULL);
    CHECK_EQ(rcy_list_get_ref(l, -2, &out), 0);
    CHECK_EQ(rcy_list_get_ref(d, 0, &out), RCY_ETYPE);
    rcy_object_t *t = rcy_tuple_new(rt, 1, &k);
    CHECK_EQ(rcy_tuple_get_ref(t, 0, &out), 1);
    CHECK(out == k);
    rcy_decref(out);
    CHECK_EQ(rcy_tuple_get_ref(t, 1, &out), 0);
    CHECK_EQ(rcy_tuple_get_ref(l, 0, &out), RCY_ETYPE);
    /* contains: by equality (1 in [1.0], 'k' in ('k',)). */
    rcy_object_t *one = rcy_int_new(rt, 1), *onef = rcy_float_new(rt, 1.0), *k3 = rcy_str_new(rt, "k");
    CHECK_EQ(rcy_list_append(l, onef), 0);
    CHECK_EQ(rcy_list_contains(l, one), 1);
    CHECK_EQ(rcy_list_contains(l, k3), 1);
    CHECK_EQ(rcy_list_contains(l, k2), 0);
    CHECK_EQ(rcy_list_contains(l, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_list_contains(d, one), RCY_ETYPE);
    CHECK_EQ(rcy_tuple_contains(t, k3), 1);
    CHECK_EQ(rcy_tuple_contains(t, one), 0);
    CHECK_EQ(rcy_tuple_contains(l, one), RCY_ETYPE);
    /* Attributes. */
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL), *inst = rcy_instance_new(cls);
    CHECK_EQ(rcy_setattr(cls, "shared", one), 0);
    CHECK_EQ(rcy_setattr(inst, "x", k), 0);
    CHECK_EQ(rcy_getattr_ref(inst, "x", &out), 1);
    CHECK(out == k);
    rcy_decref(out);
    CHECK_EQ(rcy_getattr_ref(inst, "shared", &out), 1);
    CHECK(out == one);
    rcy_decref(out);
    CHECK_EQ(rcy_getattr_ref(inst, "y", &out), 0);
    CHECK(out == NULL);
    CHECK_EQ(rcy_getattr_ref(k, "y", &out), RCY_ETYPE);
    CHECK_EQ(rcy_getattr_ref(inst, NULL, &out), RCY_EINVAL);
    CHECK_EQ(rcy_hasattr(inst, "x"), 1);
    CHECK_EQ(rcy_hasattr(inst, "shared"), 1);
    CHECK_EQ(rcy_hasattr(inst, "y"), 0);
    CHECK_EQ(rcy_hasattr(one, "y"), RCY_ETYPE);
    rcy_object_t *objs[] = {d, k, k2, k3, l, t, one, onef, inst, cls};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
    capture_free(&cap);
}

/* An equal slot that empties the list being searched: the search holds the
   item it compares and stops at the new end (CPython's list_contains). */
static rcy_object_t *shrink_list;
static int shrink_equal(rcy_object_t *self, rcy_object_t *other)
{
    (void)other;
    if (shrink_list != NULL) {
        while (rcy_list_len(shrink_list) > 0) {
            rcy_object_t *x = rcy_list_pop(shrink_list, -1);
            rcy_decref(x);
        }
    }
    (void)self;
    return 0;
}

TEST(test_contains_mutating)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Shrink";
    spec.basicsize = sizeof(rcy_object_t);
    spec.equal = shrink_equal;
    rcy_type_t *st = rcy_type_new(rt, &spec);
    rcy_object_t *l = rcy_list_new(rt), *probe = rcy_int_new(rt, 1000);
    for (int i = 0; i < 5; i++) {
        rcy_object_t *x = rcy_new(st);
        rcy_list_append(l, x);
        rcy_decref(x);
    }
    shrink_list = l;
    CHECK_EQ(rcy_list_contains(l, probe), 0);
    CHECK_EQ(rcy_list_len(l), 0);
    shrink_list = NULL;
    rcy_decref(l);
    rcy_decref(probe);
    test_runtime_end(rt);
}

/* ---- Callable objects ------------------------------------------------ */

/* A container with three slots and weak references (test_weakref.c's C). */
typedef struct obj_s {
    rcy_object_t ob;
    rcy_object_t *a, *b, *c;
    rcy_object_t *weaklist;
} obj_t;
static rcy_type_t *obj_type;
static int obj_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    obj_t *o = (obj_t *)self;
    RCY_VISIT(o->a);
    RCY_VISIT(o->b);
    RCY_VISIT(o->c);
    return 0;
}
static int obj_clear(rcy_object_t *self)
{
    obj_t *o = (obj_t *)self;
    RCY_CLEAR(o->a);
    RCY_CLEAR(o->b);
    RCY_CLEAR(o->c);
    return 0;
}
static void obj_init(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Obj";
    spec.basicsize = sizeof(obj_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = obj_traverse;
    spec.clear = obj_clear;
    spec.weaklistoffset = offsetof(obj_t, weaklist);
    obj_type = rcy_type_new(rt, &spec);
}
static obj_t *obj_new(rcy_runtime_t *rt)
{
    CHECK(rcy_type_runtime(obj_type) == rt); /* obj_init(rt) first */
    return (obj_t *)rcy_new(obj_type);
}
#define SET(field, value) RCY_XSETREF(field, (rcy_object_t *)(value))

/* add(*args) on ints; a bound self is added too when it is an int. */
static rcy_object_t *c_add(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    int64_t sum = 0, v;
    rcy_runtime_t *rt = NULL;
    if (self != NULL && rcy_int_value(self, &v) == 0)
        sum += v;
    for (size_t i = 0; i < nargs; i++) {
        rt = rcy_object_runtime(args[i]);
        if (rcy_int_value(args[i], &v) < 0)
            return NULL; /* rcy_int_value recorded RCY_ETYPE */
        sum += v;
    }
    if (rt == NULL)
        rt = rcy_object_runtime(self);
    return rcy_int_new(rt, sum);
}

static rcy_object_t *c_null_no_error(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    return NULL;
}

TEST(test_call_basics)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *add = rcy_cfunction_new(rt, c_add, NULL);
    CHECK(add != NULL && rcy_is_callable(add) && rcy_gc_is_tracked(add));
    CHECK(strcmp(rcy_type_name(rcy_type(add)), "builtin_function_or_method") == 0);
    CHECK(rcy_type(add) == rcy_cfunction_type(rt));
    CHECK(rcy_cfunction_self(add) == NULL);
    CHECK(rcy_cfunction_function(add) == c_add);
    CHECK(rcy_cfunction_function(NULL) == NULL);
    rcy_object_t *two = rcy_int_new(rt, 2), *forty = rcy_int_new(rt, 40), *s = rcy_str_new(rt, "x");
    rcy_object_t *args[] = {two, forty};
    rcy_object_t *r = rcy_call(add, args, 2);
    CHECK(r != NULL && int_of(r) == 42);
    rcy_decref(r);
    r = rcy_call(add, &two, 1);
    CHECK(r != NULL && int_of(r) == 2);
    rcy_xdecref(r);
    /* Errors: the callee's code, not callable, bad arguments. */
    rcy_object_t *bad[] = {two, s};
    CHECK(rcy_call(add, bad, 2) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK(rcy_call(s, NULL, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK(!rcy_is_callable(s) && !rcy_is_callable(NULL));
    CHECK(rcy_call(add, NULL, 1) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_call(NULL, NULL, 0) == NULL);
    CHECK(rcy_cfunction_new(rt, NULL, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_cfunction_new(NULL, c_add, NULL) == NULL);
    rcy_error_clear(rt);
    rcy_object_t *nul = rcy_cfunction_new(rt, c_null_no_error, NULL);
    CHECK(rcy_call(nul, NULL, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ECALLBACK); /* NULL without an error */
    /* Bound: self is held, traversed, and passed. */
    rcy_object_t *hundred = rcy_int_new(rt, 100);
    rcy_object_t *add100 = rcy_cfunction_new(rt, c_add, hundred);
    CHECK(rcy_cfunction_self(add100) == hundred);
    r = rcy_call(add100, args, 2);
    CHECK(r != NULL && int_of(r) == 142);
    rcy_decref(r);
    CHECK(rcy_cfunction_function(hundred) == NULL);
    char buf[128];
    rcy_describe(add, buf, sizeof buf);
    CHECK(strncmp(buf, "<built-in function at ", 22) == 0);
    rcy_describe(add100, buf, sizeof buf);
    CHECK(strncmp(buf, "<built-in method of int object at ", 34) == 0);
    rcy_object_t *objs[] = {add, two, forty, s, nul, hundred, add100};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

/* Named C functions: CPython's reprs, the name copied, bad names refused,
   and a named function in a cycle through its bound object collected. */
TEST(test_call_named)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    char name[] = "add";
    rcy_object_t *add = rcy_cfunction_new_named(rt, name, c_add, NULL);
    CHECK(add != NULL && rcy_type(add) == rcy_cfunction_type(rt));
    name[0] = 'X'; /* copied: the caller's buffer is not kept */
    CHECK(rcy_cfunction_name(add) != NULL && strcmp(rcy_cfunction_name(add), "add") == 0);
    char buf[128];
    rcy_describe(add, buf, sizeof buf);
    CHECK(strcmp(buf, "<built-in function add>") == 0);
    rcy_object_t *two = rcy_int_new(rt, 2), *forty = rcy_int_new(rt, 40);
    rcy_object_t *args[] = {two, forty};
    rcy_object_t *r = rcy_call(add, args, 2);
    CHECK(r != NULL && int_of(r) == 42);
    rcy_xdecref(r);
    /* Unnamed ones, and what is not a C function, have no name. */
    rcy_object_t *anon = rcy_cfunction_new_named(rt, NULL, c_add, NULL);
    CHECK(anon != NULL && rcy_cfunction_name(anon) == NULL);
    rcy_describe(anon, buf, sizeof buf);
    CHECK(strncmp(buf, "<built-in function at ", 22) == 0);
    CHECK(rcy_cfunction_name(two) == NULL && rcy_cfunction_name(NULL) == NULL);
    /* A UTF-8 name is kept as it is. */
    rcy_object_t *uni = rcy_cfunction_new_named(rt, "caf\xc3\xa9", c_add, NULL);
    CHECK(uni != NULL && strcmp(rcy_cfunction_name(uni), "caf\xc3\xa9") == 0);
    /* Refused with RCY_EINVAL, nothing made: the names rcy_type_new refuses. */
    const char *bad[] = {"", "a\nb", "tab\there", "\xff", "caf\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rcy_error_clear(rt);
        CHECK(rcy_cfunction_new_named(rt, bad[i], c_add, NULL) == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    }
    rcy_error_clear(rt);
    CHECK(rcy_cfunction_new_named(rt, "f", NULL, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    rcy_error_clear(rt);
    CHECK(rcy_cfunction_new_named(NULL, "f", c_add, NULL) == NULL);
    /* Bound: CPython's method repr; a cycle self -> function -> self is
       collected (the name changes nothing of the traversal). */
    rcy_object_t *holder = rcy_list_new(rt);
    rcy_object_t *m = rcy_cfunction_new_named(rt, "append", c_add, holder);
    CHECK(m != NULL && rcy_cfunction_self(m) == holder);
    rcy_describe(m, buf, sizeof buf);
    char want[128];
    snprintf(want, sizeof want, "<built-in method append of list object at %p>", (void *)holder);
    CHECK(strcmp(buf, want) == 0);
    CHECK(rcy_list_append(holder, m) == 0);
    rcy_object_t *wr = rcy_weakref_new(m, NULL, NULL);
    CHECK(wr != NULL);
    rcy_decref(m);
    rcy_decref(holder);
    CHECK(rcy_weakref_is_alive(wr));
    /* (A full collection: under GC stress the pair may be older than
       generation 0 by now.) */
    CHECK(rcy_gc_collect(rt, 2) >= 2);
    CHECK(!rcy_weakref_is_alive(wr));
    rcy_object_t *objs[] = {add, anon, uni, two, forty, wr};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

/* A user type with a call slot that calls its own field: a cycle of
   callables calling each other without end fails with RCY_EDEPTH. */
typedef struct fwd_s {
    rcy_object_t ob;
    rcy_object_t *target;
} fwd_t;
static int fwd_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((fwd_t *)self)->target);
    return 0;
}
static int fwd_clear(rcy_object_t *self)
{
    RCY_CLEAR(((fwd_t *)self)->target);
    return 0;
}
static rcy_object_t *fwd_call(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    return rcy_call(((fwd_t *)self)->target, args, nargs);
}

TEST(test_call_slot_recursion)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "Forward";
    spec.basicsize = sizeof(fwd_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = fwd_traverse;
    spec.clear = fwd_clear;
    spec.call = fwd_call;
    rcy_type_t *ft = rcy_type_new(rt, &spec);
    fwd_t *f = (fwd_t *)rcy_new(ft);
    f->target = rcy_newref(&f->ob); /* calls itself */
    rcy_error_clear(rt);
    CHECK(rcy_call(&f->ob, NULL, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EDEPTH);
    /* A forward to add works. */
    rcy_object_t *add = rcy_cfunction_new(rt, c_add, NULL), *one = rcy_int_new(rt, 1);
    SET(f->target, add);
    rcy_object_t *r = rcy_call(&f->ob, &one, 1);
    CHECK(r != NULL && int_of(r) == 1);
    rcy_decref(r);
    rcy_decref(add);
    rcy_decref(one);
    rcy_decref(&f->ob);
    test_runtime_end(rt);
}

/* wr(): the referent, None once dead; a registration's call runs it. */
static int fin_runs;
static int fin_count(void *arg)
{
    (void)arg;
    fin_runs++;
    return 0;
}

TEST(test_call_weakref)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    obj_init(rt);
    obj_t *o = obj_new(rt);
    rcy_object_t *wr = rcy_weakref_new(&o->ob, NULL, NULL);
    CHECK(rcy_is_callable(wr));
    rcy_object_t *r = rcy_call(wr, NULL, 0);
    CHECK(r == &o->ob);
    rcy_decref(r);
    CHECK(rcy_call(wr, &wr, 1) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    fin_runs = 0;
    rcy_object_t *f = rcy_finalize_register(&o->ob, fin_count, NULL);
    r = rcy_call(f, NULL, 0);
    CHECK(r == rcy_none(rt));
    CHECK_EQ(fin_runs, 1);
    CHECK_EQ(rcy_finalize_alive(f), 0);
    rcy_decref(f);
    rcy_decref(&o->ob);
    r = rcy_call(wr, NULL, 0);
    CHECK(r == rcy_none(rt));
    rcy_decref(wr);
    test_runtime_end(rt);
}

/* A callable weak-reference callback: records the weak reference it was
   called with, as a Python bound method c.cb appending to a list. */
static int cb_calls;
static rcy_object_t *cb_last_wr;
static rcy_object_t *c_callback(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    CHECK_EQ(nargs, 1);
    CHECK(rcy_is_weakref(args[0]));
    cb_calls++;
    cb_last_wr = args[0];
    return rcy_newref(rcy_none(rcy_object_runtime(args[0])));
    (void)self;
}

/* CPython's test_callback_reachable_one_way, with the bound method as a
   callable: c2.me = c2; c2.c1 = c1; c2.wr = weakref.ref(c1, c2.cb).
   CPython 3.11 collects 4 (c1, c2, wr, the bound method) and never calls
   the callback (wr is garbage too). */
TEST(test_callable_callback_one_way)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    obj_init(rt);
    rcy_gc_disable(rt);
    cb_calls = 0;
    obj_t *c1 = obj_new(rt), *c2 = obj_new(rt);
    SET(c2->a, c2);
    SET(c2->b, c1);
    rcy_object_t *cb = rcy_cfunction_new(rt, c_callback, &c2->ob); /* c2.cb */
    rcy_object_t *w = rcy_weakref_new_callable(&c1->ob, cb);
    CHECK(w != NULL);
    rcy_decref(cb);
    SET(c2->c, w);
    rcy_decref(w);
    rcy_decref(&c1->ob);
    rcy_decref(&c2->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 4);
    CHECK_EQ(cb_calls, 0);
    test_runtime_end(rt);
}

/* A cycle through the callback: a.wr = weakref.ref(b, a.cb) makes a -> wr
   -> bound method -> a; CPython 3.11 collects the 3 and b lives on, its
   death calling nothing. With the C-function form the cycle cannot be
   seen: the callback's arg would leak. */
TEST(test_callable_callback_cycle_collected)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    obj_init(rt);
    rcy_gc_disable(rt);
    cb_calls = 0;
    obj_t *a = obj_new(rt), *b = obj_new(rt);
    rcy_object_t *cb = rcy_cfunction_new(rt, c_callback, &a->ob);
    rcy_object_t *w = rcy_weakref_new_callable(&b->ob, cb);
    rcy_decref(cb);
    SET(a->a, w);
    rcy_decref(w);
    rcy_decref(&a->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    CHECK_EQ(rcy_weakref_count(&b->ob), 0);
    rcy_decref(&b->ob);
    CHECK_EQ(cb_calls, 0);
    /* The same with the weak reference to a itself: a.wr = ref(a, a.cb). */
    a = obj_new(rt);
    cb = rcy_cfunction_new(rt, c_callback, &a->ob);
    w = rcy_weakref_new_callable(&a->ob, cb);
    rcy_decref(cb);
    SET(a->a, w);
    rcy_decref(w);
    rcy_decref(&a->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 3);
    CHECK_EQ(cb_calls, 0);
    test_runtime_end(rt);
}

/* The weak reference outlives its referent's cycle: its callable is
   called once with it, and keeps it (CPython: holder.wr.__callback__ is
   still set after a collection, None after a refcount death). */
TEST(test_callable_callback_called)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    obj_init(rt);
    rcy_gc_disable(rt);
    cb_calls = 0;
    cb_last_wr = NULL;
    obj_t *holder = obj_new(rt), *a = obj_new(rt), *x = obj_new(rt);
    SET(a->a, x);
    SET(x->a, a);
    rcy_object_t *cb = rcy_cfunction_new(rt, c_callback, &holder->ob);
    rcy_object_t *w = rcy_weakref_new_callable(&a->ob, cb);
    SET(holder->a, w);
    rcy_decref(&a->ob);
    rcy_decref(&x->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(cb_calls, 1);
    CHECK(cb_last_wr == w);
    rcy_objarray_t refs = {0};
    CHECK_EQ(rcy_gc_get_referents(rt, &w, 1, &refs), 0);
    CHECK(refs.len == 1 && refs.items[0] == cb); /* kept after a collection */
    rcy_objarray_release(&refs);
    rcy_decref(w);
    /* A refcount death: called, and the weak reference lets go of it. */
    obj_t *d = obj_new(rt);
    rcy_object_t *w2 = rcy_weakref_new_callable(&d->ob, cb);
    rcy_object_t *basic = rcy_weakref_new(&d->ob, NULL, NULL);
    CHECK(basic != w2); /* never the shared callback-less one */
    rcy_decref(basic);
    cb_calls = 0;
    rcy_decref(&d->ob);
    CHECK_EQ(cb_calls, 1);
    CHECK(cb_last_wr == w2);
    CHECK_EQ(rcy_gc_get_referents(rt, &w2, 1, &refs), 0);
    CHECK_EQ(refs.len, 0);
    rcy_objarray_release(&refs);
    rcy_decref(w2);
    rcy_decref(cb);
    rcy_decref(&holder->ob);
    test_runtime_end(rt);
}

/* weakref.finalize(obj, func, *args) with a callable: func(*args) once obj
   dies, its references held and traversed until then, released after. */
static int fin_call_calls;
static int64_t fin_call_sum;
static rcy_object_t *c_fin(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    fin_call_calls++;
    int64_t v;
    for (size_t i = 0; i < nargs; i++)
        if (rcy_int_value(args[i], &v) == 0)
            fin_call_sum += v;
    if (self != NULL && rcy_int_value(self, &v) == 0 && v < 0)
        return NULL; /* a failing callback: rcy_int_value succeeded, nothing recorded */
    return rcy_newref(rcy_none(rcy_object_runtime(args[0])));
}

TEST(test_finalize_callable)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    obj_init(rt);
    fin_call_calls = 0;
    fin_call_sum = 0;
    obj_t *o = obj_new(rt);
    rcy_object_t *fn = rcy_cfunction_new(rt, c_fin, NULL);
    rcy_object_t *a = rcy_int_new(rt, 1000), *b = rcy_int_new(rt, 2);
    rcy_object_t *args[] = {a, b};
    rcy_object_t *f = rcy_finalize_register_callable(&o->ob, fn, args, 2);
    CHECK(f != NULL && rcy_finalize_alive(f));
    rcy_objarray_t refs = {0};
    CHECK_EQ(rcy_gc_get_referents(rt, &f, 1, &refs), 0);
    CHECK_EQ(refs.len, 3); /* the callable and the arguments */
    CHECK(refs.len == 3 && refs.items[0] == fn && refs.items[1] == a && refs.items[2] == b);
    rcy_objarray_release(&refs);
    CHECK_EQ(rcy_getrefcount(a), 2);
    rcy_decref(&o->ob);
    CHECK_EQ(fin_call_calls, 1);
    CHECK_EQ(fin_call_sum, 1002);
    CHECK_EQ(rcy_finalize_alive(f), 0);
    CHECK_EQ(rcy_getrefcount(a), 1); /* released after the call */
    CHECK_EQ(rcy_gc_get_referents(rt, &f, 1, &refs), 0);
    CHECK_EQ(refs.len, 0);
    rcy_decref(f);
    /* Detach releases them without a call. */
    o = obj_new(rt);
    f = rcy_finalize_register_callable(&o->ob, fn, &a, 1);
    CHECK_EQ(rcy_getrefcount(a), 2);
    CHECK_EQ(rcy_finalize_detach(f), 1);
    CHECK_EQ(rcy_getrefcount(a), 1);
    rcy_decref(&o->ob);
    CHECK_EQ(fin_call_calls, 1);
    rcy_decref(f);
    /* A failing callable is reported. */
    rcy_object_t *neg = rcy_int_new(rt, -1);
    rcy_object_t *bad = rcy_cfunction_new(rt, c_fin, neg);
    o = obj_new(rt);
    f = rcy_finalize_register_callable(&o->ob, bad, &a, 1);
    capture_reset(&cap);
    rcy_decref(&o->ob);
    CHECK_EQ(fin_call_calls, 2);
    CHECK_STR_CONTAINS(cap.text, "Exception ignored in finalize callback");
    rcy_decref(f);
    /* Errors. */
    o = obj_new(rt);
    CHECK(rcy_finalize_register_callable(&o->ob, NULL, NULL, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_finalize_register_callable(&o->ob, fn, NULL, 1) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    rcy_object_t *nullarg[] = {a, NULL};
    CHECK(rcy_finalize_register_callable(&o->ob, fn, nullarg, 2) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_finalize_register_callable(a, fn, NULL, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK(rcy_weakref_new_callable(&o->ob, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    /* Any object is accepted, and fails when called (CPython's TypeError). */
    rcy_object_t *w = rcy_weakref_new_callable(&o->ob, a);
    CHECK(w != NULL);
    capture_reset(&cap);
    rcy_decref(&o->ob);
    CHECK_STR_CONTAINS(cap.text, "Exception ignored on calling weakref callback");
    rcy_decref(w);
    /* Alive at teardown: runs then, newest first, like the C form. */
    o = obj_new(rt);
    f = rcy_finalize_register_callable(&o->ob, fn, &b, 1);
    rcy_decref(f);
    CHECK_EQ(rcy_root_add(&o->ob, "o"), 0); /* alive until after the atexit calls */
    rcy_decref(&o->ob);
    rcy_object_t *objs[] = {fn, a, b, neg, bad};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    fin_call_sum = 0;
    rcy_runtime_destroy(rt); /* o still alive: the registration runs */
    CHECK_EQ(fin_call_calls, 3);
    CHECK_EQ(fin_call_sum, 2);
    capture_free(&cap);
}

/* Cross-runtime: a callable of another runtime is refused. */
TEST(test_callable_cross_runtime)
{
    rcy_runtime_t *rt1 = test_runtime(NULL), *rt2 = test_runtime(NULL);
    obj_init(rt1);
    obj_t *o = obj_new(rt1);
    rcy_object_t *fn2 = rcy_cfunction_new(rt2, c_callback, NULL);
    CHECK(rcy_weakref_new_callable(&o->ob, fn2) == NULL);
    CHECK_EQ(rcy_last_error(rt1), RCY_ERUNTIME);
    CHECK(rcy_finalize_register_callable(&o->ob, fn2, NULL, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt1), RCY_ERUNTIME);
    CHECK(rcy_cfunction_new(rt2, c_callback, &o->ob) == NULL);
    CHECK_EQ(rcy_last_error(rt2), RCY_ERUNTIME);
    rcy_decref(fn2);
    rcy_decref(&o->ob);
    test_runtime_end(rt1);
    test_runtime_end(rt2);
}

/* ---- The pending error survives callbacks ---------------------------- */

TEST(test_error_state_api)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    CHECK_EQ(rcy_last_error(rt), 0);
    CHECK(rcy_error_message(rt) == NULL && rcy_error_value(rt) == NULL);
    rcy_object_t *v = rcy_str_new(rt, "thrown");
    CHECK_EQ(rcy_error_set(rt, 0, "no"), RCY_EINVAL);
    CHECK_EQ(rcy_error_set(NULL, RCY_EKEY, "no"), RCY_EINVAL);
    CHECK_EQ(rcy_last_error(rt), 0);
    CHECK_EQ(rcy_error_set(rt, RCY_EKEY, "'abc' not found"), RCY_EKEY);
    CHECK_EQ(rcy_last_error(rt), RCY_EKEY);
    CHECK(rcy_error_message(rt) != NULL && strcmp(rcy_error_message(rt), "'abc' not found") == 0);
    CHECK_EQ(rcy_error_set_value(rt, -100, "thrown", v), -100);
    CHECK(rcy_error_value(rt) == v);
    CHECK_EQ(rcy_getrefcount(v), 2);
    /* Fetch and restore. */
    rcy_error_state_t st;
    rcy_error_fetch(rt, &st);
    CHECK_EQ(rcy_last_error(rt), 0);
    CHECK(rcy_error_message(rt) == NULL && rcy_error_value(rt) == NULL);
    CHECK_EQ(rcy_error_set(rt, RCY_ETYPE, "other"), RCY_ETYPE);
    rcy_error_restore(rt, &st);
    CHECK_EQ(rcy_last_error(rt), -100);
    CHECK(strcmp(rcy_error_message(rt), "thrown") == 0 && rcy_error_value(rt) == v);
    CHECK_EQ(st.code, 0);
    /* A library failure replaces the code: the message and value no
       longer belong to it. */
    CHECK(rcy_list_get(v, 0) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    CHECK(rcy_error_message(rt) == NULL && rcy_error_value(rt) == NULL);
    CHECK_EQ(rcy_getrefcount(v), 2); /* not released inside the failing call */
    rcy_error_fetch(rt, &st); /* releases the stale ones */
    CHECK_EQ(st.code, RCY_ETYPE);
    CHECK(st.message == NULL && st.value == NULL);
    CHECK_EQ(rcy_getrefcount(v), 1);
    rcy_error_restore(rt, &st);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    rcy_error_clear(rt);
    CHECK_EQ(rcy_last_error(rt), 0);
    CHECK_EQ(rcy_error_set_value(rt, -100, NULL, v), -100);
    CHECK(rcy_error_message(rt) == NULL && rcy_error_value(rt) == v);
    rcy_error_clear(rt);
    CHECK_EQ(rcy_getrefcount(v), 1);
    /* A value held at teardown is released then, not reported. */
    CHECK_EQ(rcy_error_set_value(rt, -100, "at exit", v), -100);
    rcy_decref(v);
    CHECK_EQ(rcy_runtime_live_objects(rt), 1);
    rcy_runtime_destroy(rt);
    CHECK(cap.text == NULL || strstr(cap.text, "alive") == NULL);
    capture_free(&cap);
}

/* A container whose finalizer and dealloc run the runtime's error calls:
   each checks it starts with no pending error, fails a lookup, sets and
   clears errors of its own, and (noisy_fail) fails with a message. */
typedef struct noisy_s {
    rcy_object_t ob;
    rcy_object_t *next;
    rcy_object_t *weaklist;
} noisy_t;
static rcy_type_t *noisy_type;
static int noisy_fail = 1;
static int noisy_calls, noisy_saw_pending;
static void noisy_mess(rcy_runtime_t *rt)
{
    noisy_calls++;
    if (rcy_last_error(rt) != 0 || rcy_error_message(rt) != NULL)
        noisy_saw_pending++;
    rcy_object_t *d = rcy_dict_new(rt), *k = rcy_str_new(rt, "missing");
    CHECK(rcy_dict_get(d, k) == NULL); /* records RCY_EKEY */
    rcy_decref(k);
    rcy_decref(d);
    rcy_error_set(rt, RCY_ECALLBACK, "scratch");
    rcy_error_clear(rt);
    rcy_error_set_value(rt, RCY_ECALLBACK, "noisy says no", rcy_true(rt));
}
static int noisy_finalize(rcy_object_t *self)
{
    noisy_mess(rcy_object_runtime(self));
    return noisy_fail ? -1 : 0;
}
static int noisy_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((noisy_t *)self)->next);
    return 0;
}
static int noisy_clear(rcy_object_t *self)
{
    noisy_mess(rcy_object_runtime(self)); /* a user clear slot, run by dealloc and the collector */
    RCY_CLEAR(((noisy_t *)self)->next);
    return 0;
}
static noisy_t *noisy_new(void) { return (noisy_t *)rcy_new(noisy_type); }

static rcy_object_t *c_failing_callback(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    (void)self;
    (void)nargs;
    rcy_runtime_t *rt = rcy_object_runtime(args[0]);
    noisy_mess(rt);
    rcy_error_set(rt, RCY_ECALLBACK, "weakref callback says no");
    return NULL;
}
static int gc_cb_calls;
static int failing_gc_callback(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)info;
    (void)arg;
    gc_cb_calls++;
    noisy_mess(rt);
    if (phase == RCY_GC_STOP) {
        rcy_error_set(rt, RCY_ECALLBACK, "gc callback says no");
        return -1;
    }
    return 0;
}

static void check_pending_intact(rcy_runtime_t *rt, rcy_object_t *value)
{
    CHECK_EQ(rcy_last_error(rt), -100);
    CHECK(rcy_error_message(rt) != NULL && strcmp(rcy_error_message(rt), "'abc' not found") == 0);
    CHECK(rcy_error_value(rt) == value);
}

TEST(test_error_survives_callbacks)
{
    capture_t cap = {0};
    rcy_runtime_t *rt = test_runtime(&cap);
    rcy_gc_disable(rt);
    rcy_type_spec_t spec = {0};
    spec.name = "Noisy";
    spec.basicsize = sizeof(noisy_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = noisy_traverse;
    spec.clear = noisy_clear;
    spec.finalize = noisy_finalize;
    spec.weaklistoffset = offsetof(noisy_t, weaklist);
    noisy_type = rcy_type_new(rt, &spec);
    noisy_calls = noisy_saw_pending = 0;
    rcy_object_t *thrown = rcy_str_new(rt, "abc");
    /* A Lisp unwinding with "'abc' not found" pending. */
    rcy_error_set_value(rt, -100, "'abc' not found", thrown);

    /* 1. Inside rcy_decref: the finalizer and the clear slot. */
    noisy_t *n = noisy_new();
    capture_reset(&cap);
    rcy_decref(&n->ob);
    check_pending_intact(rt, thrown);
    CHECK_EQ(noisy_calls, 2);
    CHECK_STR_CONTAINS(cap.text, "Exception ignored in: <Noisy ");
    CHECK_STR_CONTAINS(cap.text, ">: noisy says no\n");

    /* 2. Dict value replacement. */
    rcy_object_t *d = rcy_dict_new(rt), *k = rcy_str_new(rt, "k");
    n = noisy_new();
    rcy_dict_set(d, k, &n->ob);
    rcy_decref(&n->ob);
    rcy_error_set_value(rt, -100, "'abc' not found", thrown); /* the sets above succeeded: still pending */
    capture_reset(&cap);
    CHECK_EQ(rcy_dict_set(d, k, k), 0);
    check_pending_intact(rt, thrown);
    CHECK_EQ(noisy_calls, 4);
    CHECK_STR_CONTAINS(cap.text, ">: noisy says no\n");

    /* 3. List item replacement. */
    rcy_object_t *l = rcy_list_new(rt);
    n = noisy_new();
    rcy_list_append(l, &n->ob);
    rcy_decref(&n->ob);
    check_pending_intact(rt, thrown);
    CHECK_EQ(rcy_list_set(l, 0, k), 0);
    check_pending_intact(rt, thrown);
    CHECK_EQ(noisy_calls, 6);

    /* 4. An automatic collection: a garbage cycle of two, a weak reference
       with a failing callable callback, a failing gc callback. */
    noisy_t *a = noisy_new(), *b = noisy_new();
    a->next = rcy_newref(&b->ob);
    b->next = rcy_newref(&a->ob);
    rcy_object_t *cb = rcy_cfunction_new(rt, c_failing_callback, NULL);
    rcy_object_t *w = rcy_weakref_new_callable(&a->ob, cb);
    rcy_decref(cb);
    rcy_decref(&a->ob);
    rcy_decref(&b->ob);
    CHECK_EQ(rcy_gc_callback_add(rt, failing_gc_callback, NULL), 0);
    gc_cb_calls = 0;
    noisy_calls = 0;
    rcy_gc_set_threshold(rt, 1, 10, 10);
    rcy_gc_enable(rt);
    capture_reset(&cap);
    check_pending_intact(rt, thrown);
    rcy_object_t *trigger1 = rcy_list_new(rt), *trigger2 = rcy_list_new(rt); /* allocations collect */
    check_pending_intact(rt, thrown);
    rcy_gc_disable(rt);
    CHECK(gc_cb_calls >= 2);
    CHECK(noisy_calls >= 2 + 2 + 1 + 2); /* two finalizers, two clears, the weakref callback, gc callbacks */
    CHECK_STR_CONTAINS(cap.text, ">: noisy says no\n");
    CHECK_STR_CONTAINS(cap.text, "Exception ignored on calling weakref callback: <weakref at ");
    CHECK_STR_CONTAINS(cap.text, "; dead>: weakref callback says no\n");
    CHECK_STR_CONTAINS(cap.text, "(phase stop): gc callback says no\n");
    CHECK_EQ(rcy_gc_callback_remove(rt, failing_gc_callback, NULL), 0);
    CHECK_EQ(noisy_saw_pending, 0); /* every callback started with none */

    /* Without a message, the report is as before. */
    noisy_fail = 1;
    n = noisy_new();
    rcy_error_clear(rt);
    capture_reset(&cap);
    rcy_decref(&n->ob);
    CHECK_EQ(rcy_last_error(rt), 0); /* nothing pending before, nothing after */
    rcy_object_t *objs[] = {w, d, k, l, trigger1, trigger2, thrown};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
    capture_free(&cap);
}

/* ---- Fast paths ------------------------------------------------------ */

TEST(test_inline_checks_and_accessors)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *i = rcy_int_new(rt, 1000), *f = rcy_float_new(rt, 1.5), *s = rcy_str_new(rt, "s");
    rcy_object_t *l = rcy_list_new(rt), *d = rcy_dict_new(rt), *cls = rcy_class_new(rt, "K", NULL);
    rcy_object_t *items[] = {i, f, s};
    rcy_object_t *t = rcy_tuple_new(rt, 3, items);
    rcy_object_t *fn = rcy_cfunction_new(rt, c_add, NULL);
    CHECK(rcy_is_int(i) && !rcy_is_int(f) && !rcy_is_int(NULL));
    CHECK(rcy_is_float(f) && rcy_is_str(s) && rcy_is_tuple(t) && rcy_is_list(l) && rcy_is_dict(d));
    CHECK(rcy_is_class(cls) && !rcy_is_class(l) && rcy_is_cfunction(fn) && !rcy_is_cfunction(cls));
    CHECK(rcy_is_none(rcy_none(rt)) && !rcy_is_none(i));
    CHECK(rcy_is_true(rcy_true(rt)) && !rcy_is_true(rcy_false(rt)) && !rcy_is_true(i));
    CHECK_EQ(rcy_kind(i), RCY_KIND_INT);
    CHECK_EQ(rcy_kind(cls), RCY_KIND_CLASS);
    rcy_object_t *inst = rcy_instance_new(cls);
    CHECK_EQ(rcy_kind(inst), RCY_KIND_USER);
    CHECK(rcy_is_instance(inst));
    /* No second None or bool can be made (the kind alone tells them). */
    CHECK(rcy_new(rcy_none_type(rt)) == NULL && rcy_last_error(rt) == RCY_EINVAL);
    CHECK(rcy_new(rcy_bool_type(rt)) == NULL && rcy_last_error(rt) == RCY_EINVAL);
    /* Unchecked accessors. */
    CHECK_EQ(rcy_tuple_size_fast(t), 3);
    CHECK(rcy_tuple_item_fast(t, 2) == s && rcy_tuple_items_fast(t)[0] == i);
    CHECK_EQ(rcy_list_append(l, s), 0);
    CHECK_EQ(rcy_list_append(l, i), 0);
    CHECK_EQ(rcy_list_size_fast(l), 2);
    CHECK(rcy_list_item_fast(l, 1) == i && rcy_list_items_fast(l)[0] == s);
    /* list(tuple) in one call. */
    rcy_object_t *lt = rcy_list_new_from(rt, rcy_tuple_size_fast(t), rcy_tuple_items_fast(t));
    CHECK(lt != NULL && rcy_list_len(lt) == 3 && rcy_list_item_fast(lt, 1) == f);
    rcy_object_t *objs[] = {i, f, s, l, d, cls, t, fn, inst, lt};
    for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
        rcy_decref(objs[k]);
    test_runtime_end(rt);
}

static rcy_object_t *range_list(rcy_runtime_t *rt, int n)
{
    rcy_object_t *l = rcy_list_new(rt);
    for (int k = 0; k < n; k++) {
        rcy_object_t *v = rcy_int_new(rt, k);
        rcy_list_append(l, v);
        rcy_decref(v);
    }
    return l;
}

static void check_ints(rcy_object_t *seq, const int64_t *want, intptr_t n)
{
    intptr_t len = rcy_is_list(seq) ? rcy_list_len(seq) : rcy_tuple_len(seq);
    CHECK_EQ(len, n);
    for (intptr_t k = 0; k < n && k < len; k++) {
        rcy_object_t *x = rcy_is_list(seq) ? rcy_list_get(seq, k) : rcy_tuple_get(seq, k);
        CHECK_EQ(int_of(x), want[k]);
    }
}

/* l = list(range(10)); l[a:b] for CPython's cases, printed by python3:
   (2,5) [2,3,4]; (-3,100) [7,8,9]; (5,2) []; (-100,3) [0,1,2];
   (0,-1) [0..8]; (8,-8) []; (10,20) []. */
TEST(test_bulk_operations)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *l = range_list(rt, 10);
    struct {
        intptr_t a, b;
        int64_t want[10];
        intptr_t n;
    } cases[] = {{2, 5, {2, 3, 4}, 3},       {-3, 100, {7, 8, 9}, 3}, {5, 2, {0}, 0},
                 {-100, 3, {0, 1, 2}, 3},    {0, -1, {0, 1, 2, 3, 4, 5, 6, 7, 8}, 9},
                 {8, -8, {0}, 0},            {10, 20, {0}, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rcy_object_t *sl = rcy_list_slice(l, cases[k].a, cases[k].b);
        CHECK(sl != NULL && rcy_is_list(sl));
        check_ints(sl, cases[k].want, cases[k].n);
        rcy_decref(sl);
    }
    rcy_object_t *t = rcy_list_to_tuple(l);
    int64_t all[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    check_ints(t, all, 10);
    rcy_object_t *ts = rcy_tuple_slice(t, -2, 10);
    int64_t last2[] = {8, 9};
    check_ints(ts, last2, 2);
    rcy_object_t *whole = rcy_tuple_slice(t, 0, 10);
    CHECK(whole == t); /* t[:] is t */
    rcy_object_t *none = rcy_tuple_slice(t, 3, 3);
    CHECK(none != NULL && rcy_tuple_len(none) == 0);
    CHECK(rcy_tuple_slice(l, 0, 1) == NULL && rcy_last_error(rt) == RCY_ETYPE);
    CHECK(rcy_list_slice(t, 0, 1) == NULL && rcy_last_error(rt) == RCY_ETYPE);
    CHECK(rcy_list_to_tuple(t) == NULL && rcy_last_error(rt) == RCY_ETYPE);
    /* extend: by a tuple, by itself (l = [1, 2]; l.extend(l) -> [1, 2, 1, 2]). */
    rcy_object_t *l2 = range_list(rt, 2);
    CHECK_EQ(rcy_list_extend(l2, l2), 0);
    int64_t doubled[] = {0, 1, 0, 1};
    check_ints(l2, doubled, 4);
    CHECK_EQ(rcy_list_extend(l2, ts), 0);
    int64_t more[] = {0, 1, 0, 1, 8, 9};
    check_ints(l2, more, 6);
    CHECK_EQ(rcy_list_extend(l2, none), 0);
    CHECK_EQ(rcy_list_extend(l2, rcy_true(rt)), RCY_ETYPE);
    CHECK_EQ(rcy_list_extend(t, l2), RCY_ETYPE);
    CHECK_EQ(rcy_list_extend(l2, NULL), RCY_EINVAL);
    /* Larger than the held array's stack part. */
    rcy_object_t *big = range_list(rt, 100), *bt = rcy_list_to_tuple(big);
    CHECK(bt != NULL && rcy_tuple_len(bt) == 100 && int_of(rcy_tuple_get(bt, 99)) == 99);
    rcy_object_t *objs[] = {l, t, ts, whole, none, l2, big, bt};
    for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
        rcy_decref(objs[k]);
    test_runtime_end(rt);
}

/* Release hooks of the C forms' arg. */
static int releases;
static void *released_arg;
static void count_release(void *arg)
{
    releases++;
    released_arg = arg;
}
static int c_weak_cb(rcy_object_t *wr, void *arg)
{
    (void)wr;
    CHECK_EQ(releases, 0); /* not released before its call */
    (void)arg;
    return 0;
}
static int c_fin_cb(void *arg)
{
    (void)arg;
    CHECK_EQ(releases, 0);
    return 0;
}

TEST(test_release_hooks)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    obj_init(rt);
    int tag = 0;
    /* Refcount death: after the call. */
    releases = 0;
    obj_t *o = obj_new(rt);
    rcy_object_t *w = rcy_weakref_new_ex(&o->ob, c_weak_cb, &tag, count_release);
    CHECK(w != NULL);
    rcy_decref(&o->ob);
    CHECK_EQ(releases, 1);
    CHECK(released_arg == &tag);
    rcy_decref(w);
    CHECK_EQ(releases, 1); /* once */
    /* The weak reference dies first: released then, never called. */
    releases = 0;
    o = obj_new(rt);
    w = rcy_weakref_new_ex(&o->ob, c_weak_cb, &tag, count_release);
    rcy_decref(w);
    CHECK_EQ(releases, 1);
    rcy_decref(&o->ob);
    CHECK_EQ(releases, 1);
    /* Collected with its referent (a garbage weak reference). */
    releases = 0;
    o = obj_new(rt);
    w = rcy_weakref_new_ex(&o->ob, c_weak_cb, &tag, count_release);
    SET(o->a, w);
    SET(o->b, o);
    rcy_decref(w);
    rcy_decref(&o->ob);
    CHECK_EQ(rcy_gc_collect(rt, 2), 2);
    CHECK_EQ(releases, 1);
    /* Registrations: after the run, on detach, and dropped at teardown. */
    releases = 0;
    o = obj_new(rt);
    rcy_object_t *f = rcy_finalize_register_ex(&o->ob, c_fin_cb, &tag, count_release);
    rcy_decref(&o->ob);
    CHECK_EQ(releases, 1);
    rcy_decref(f);
    releases = 0;
    o = obj_new(rt);
    f = rcy_finalize_register_ex(&o->ob, c_fin_cb, &tag, count_release);
    CHECK_EQ(rcy_finalize_detach(f), 1);
    CHECK_EQ(releases, 1);
    CHECK_EQ(rcy_finalize_detach(f), 0);
    rcy_decref(f);
    CHECK(rcy_weakref_new_ex(&o->ob, NULL, &tag, count_release) == NULL && rcy_last_error(rt) == RCY_EINVAL);
    rcy_decref(&o->ob);
    CHECK_EQ(releases, 1);
    /* Not at exit: dropped unrun, released. */
    releases = 0;
    o = obj_new(rt);
    f = rcy_finalize_register_ex(&o->ob, c_fin_cb, &tag, count_release);
    rcy_finalize_set_atexit(f, 0);
    rcy_decref(f);
    CHECK_EQ(rcy_root_add(&o->ob, "o"), 0);
    rcy_decref(&o->ob);
    rcy_runtime_destroy(rt);
    CHECK_EQ(releases, 1);
}

/* ---- Conveniences ---------------------------------------------------- */

/* l.clear(): emptied first, then the items released last first.
   >>> class D:
   ...     def __init__(s, n): s.n = n
   ...     def __del__(s): print(s.n, len(l))
   >>> l = [D(0), D(1), D(2)]; l.clear()
   2 0
   1 0
   0 0 */
typedef struct tagged_s {
    rcy_object_t ob;
    int n;
} tagged_t;
static rcy_object_t *clear_list;
static int clear_order[8], clear_seen_len[8], n_cleared;
static int tagged_finalize(rcy_object_t *self)
{
    clear_order[n_cleared] = ((tagged_t *)self)->n;
    clear_seen_len[n_cleared] = (int)rcy_list_len(clear_list);
    n_cleared++;
    return 0;
}

TEST(test_list_clear)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_type_spec_t spec = {0};
    spec.name = "D";
    spec.basicsize = sizeof(tagged_t);
    spec.finalize = tagged_finalize;
    rcy_type_t *dt = rcy_type_new(rt, &spec);
    clear_list = rcy_list_new(rt);
    for (int k = 0; k < 3; k++) {
        tagged_t *x = (tagged_t *)rcy_new(dt);
        x->n = k;
        rcy_list_append(clear_list, &x->ob);
        rcy_decref(&x->ob);
    }
    n_cleared = 0;
    CHECK_EQ(rcy_list_clear(clear_list), 0);
    CHECK_EQ(n_cleared, 3);
    CHECK(clear_order[0] == 2 && clear_order[1] == 1 && clear_order[2] == 0);
    CHECK(clear_seen_len[0] == 0 && clear_seen_len[1] == 0 && clear_seen_len[2] == 0);
    CHECK_EQ(rcy_list_len(clear_list), 0);
    CHECK_EQ(rcy_list_clear(clear_list), 0); /* an empty list */
    rcy_object_t *one = rcy_int_new(rt, 1);
    CHECK_EQ(rcy_list_append(clear_list, one), 0); /* usable again */
    CHECK_EQ(rcy_list_clear(one), RCY_ETYPE);
    CHECK_EQ(rcy_list_clear(NULL), RCY_EINVAL);
    rcy_decref(clear_list);
    clear_list = NULL;
    test_runtime_end(rt);
}

TEST(test_pack)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_int_new(rt, 1000), *b = rcy_str_new(rt, "b");
    rcy_object_t *t = rcy_tuple_pack(rt, 2, a, b);
    CHECK(t != NULL && rcy_tuple_len(t) == 2 && rcy_tuple_get(t, 0) == a && rcy_tuple_get(t, 1) == b);
    CHECK_EQ(rcy_getrefcount(a), 2); /* borrowed: the tuple took its own */
    rcy_object_t *l = rcy_list_pack(rt, 3, a, b, a);
    CHECK(l != NULL && rcy_list_len(l) == 3 && rcy_list_get(l, 2) == a);
    CHECK_EQ(rcy_getrefcount(a), 4);
    rcy_object_t *e = rcy_tuple_pack(rt, 0);
    CHECK(e != NULL && rcy_tuple_len(e) == 0);
    CHECK(rcy_tuple_pack(rt, 2, a, NULL) == NULL && rcy_last_error(rt) == RCY_EINVAL);
    CHECK(rcy_list_pack(rt, -1) == NULL && rcy_last_error(rt) == RCY_EINVAL);
    CHECK_EQ(rcy_getrefcount(a), 4);
    /* Stealing: fresh objects straight from their constructors. */
    rcy_object_t *ts = rcy_tuple_pack_steal(rt, 2, rcy_int_new(rt, 5000), rcy_str_new(rt, "x"));
    CHECK(ts != NULL && int_of(rcy_tuple_get(ts, 0)) == 5000);
    CHECK_EQ(rcy_getrefcount(rcy_tuple_get(ts, 0)), 1); /* only the tuple's */
    rcy_object_t *ls = rcy_list_pack_steal(rt, 2, rcy_newref(a), rcy_newref(b));
    CHECK(ls != NULL && rcy_getrefcount(a) == 5);
    /* A NULL among them: fails, the others released. */
    size_t live = rcy_runtime_live_objects(rt);
    CHECK(rcy_list_pack_steal(rt, 3, rcy_int_new(rt, 7000), NULL, rcy_str_new(rt, "y")) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK_EQ(rcy_runtime_live_objects(rt), live);
    /* More than the small array. */
    rcy_object_t *big = rcy_tuple_pack(rt, 20, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, b);
    CHECK(big != NULL && rcy_tuple_len(big) == 20 && rcy_tuple_get(big, 19) == b);
    rcy_object_t *objs[] = {a, b, t, l, e, ts, ls, big};
    for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
        rcy_decref(objs[k]);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_singletons);
    RUN(test_singletons_per_runtime);
    RUN(test_value_slots_dict_keys);
    RUN(test_value_slots_reflected);
    RUN(test_value_slots_errors);
    RUN(test_value_slots_mutating_lookup);
    RUN(test_value_slots_recursion_bounded);
    RUN(test_get_ref);
    RUN(test_contains_mutating);
    RUN(test_call_basics);
    RUN(test_call_named);
    RUN(test_call_slot_recursion);
    RUN(test_call_weakref);
    RUN(test_callable_callback_one_way);
    RUN(test_callable_callback_cycle_collected);
    RUN(test_callable_callback_called);
    RUN(test_finalize_callable);
    RUN(test_callable_cross_runtime);
    RUN(test_error_state_api);
    RUN(test_error_survives_callbacks);
    RUN(test_inline_checks_and_accessors);
    RUN(test_bulk_operations);
    RUN(test_release_hooks);
    RUN(test_list_clear);
    RUN(test_pack);
    return harness_summary();
}
