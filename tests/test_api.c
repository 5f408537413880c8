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

int main(void)
{
    RUN(test_singletons);
    RUN(test_singletons_per_runtime);
    return harness_summary();
}
