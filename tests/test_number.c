/* int and float: values, the small-int cache, hashing and equality across
   the two types (as Python's), reprs, and error handling. */
#include "harness.h"

#include <math.h>

static char buf[256];

static const char *repr(rcy_object_t *o)
{
    rcy_describe(o, buf, sizeof buf);
    return buf;
}

TEST(test_int_values)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    int64_t values[] = {0, 1, -1, 42, 1000000, INT64_MAX, INT64_MIN, -6, 257};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        rcy_object_t *o = rcy_int_new(rt, values[i]);
        CHECK(o != NULL);
        CHECK(rcy_is_int(o));
        CHECK(!rcy_is_float(o));
        CHECK(rcy_type(o) == rcy_int_type(rt));
        int64_t v = 0;
        CHECK_EQ(rcy_int_value(o, &v), 0);
        CHECK(v == values[i]);
        CHECK(!rcy_gc_is_tracked(o)); /* ints are atoms */
        rcy_decref(o);
    }
    CHECK(!rcy_type_is_gc(rcy_int_type(rt)));
    CHECK(strcmp(rcy_type_name(rcy_int_type(rt)), "int") == 0);
    test_runtime_end(rt);
}

/* The seeds: "int 有常驻内存的值, -5 到 256 范围内的值会直接链接到已有的内存中". */
TEST(test_small_int_cache)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    size_t live = rcy_runtime_live_objects(rt);
    rcy_object_t *a = rcy_int_new(rt, 11);
    rcy_object_t *b = rcy_int_new(rt, 11);
    CHECK(a == b); /* creating 11 twice gives the same object */
    CHECK(rcy_is_immortal(a));
    CHECK_EQ(rcy_getrefcount(a), RCY_REFCNT_IMMORTAL);
    CHECK_EQ(rcy_runtime_live_objects(rt), live); /* not counted as live */
    rcy_decref(a);
    rcy_decref(b);
    CHECK_EQ(rcy_getrefcount(a), RCY_REFCNT_IMMORTAL);

    CHECK(rcy_int_new(rt, RCY_SMALL_INT_MIN) == rcy_int_new(rt, -5));
    CHECK(rcy_int_new(rt, RCY_SMALL_INT_MAX) == rcy_int_new(rt, 256));
    CHECK(rcy_is_immortal(rcy_int_new(rt, -5)));
    CHECK(rcy_is_immortal(rcy_int_new(rt, 256)));

    /* Outside the cache every call makes a new object. */
    rcy_object_t *c = rcy_int_new(rt, 257), *d = rcy_int_new(rt, 257);
    rcy_object_t *e = rcy_int_new(rt, -6);
    CHECK(c != d);
    CHECK_EQ(rcy_getrefcount(c), 1);
    CHECK(!rcy_is_immortal(e));
    CHECK_EQ(rcy_runtime_live_objects(rt), live + 3);
    CHECK_EQ(rcy_type_live_objects(rcy_int_type(rt)), 3);
    CHECK_EQ(rcy_equal(c, d), 1);
    rcy_decref(c);
    rcy_decref(d);
    rcy_decref(e);
    CHECK_EQ(rcy_runtime_live_objects(rt), live);

    /* Each runtime has its own cache. */
    rcy_runtime_t *rt2 = test_runtime(NULL);
    CHECK(rcy_int_new(rt2, 11) != a);
    CHECK(rcy_object_runtime(rcy_int_new(rt2, 11)) == rt2);
    test_runtime_end(rt2);
    test_runtime_end(rt);
}

TEST(test_float_values)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *f = rcy_float_new(rt, 2.5);
    CHECK(rcy_is_float(f));
    CHECK(!rcy_is_int(f));
    CHECK(!rcy_gc_is_tracked(f));
    double v = 0;
    CHECK_EQ(rcy_float_value(f, &v), 0);
    CHECK(v == 2.5);
    int64_t i;
    CHECK_EQ(rcy_int_value(f, &i), RCY_ETYPE);
    CHECK_EQ(rcy_last_error(rt), RCY_ETYPE);
    rcy_object_t *n = rcy_int_new(rt, 3);
    CHECK_EQ(rcy_float_value(n, &v), RCY_ETYPE);
    CHECK_EQ(rcy_float_value(NULL, &v), RCY_EINVAL);
    CHECK_EQ(rcy_float_value(f, NULL), RCY_EINVAL);
    CHECK_EQ(rcy_int_value(NULL, &i), RCY_EINVAL);
    CHECK(rcy_int_new(NULL, 5) == NULL);
    CHECK(rcy_float_new(NULL, 5) == NULL);
    rcy_decref(f);
    test_runtime_end(rt);
}

TEST(test_number_equality_and_hash)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *one = rcy_int_new(rt, 1), *onef = rcy_float_new(rt, 1.0);
    rcy_object_t *half = rcy_float_new(rt, 0.5), *big = rcy_int_new(rt, INT64_MAX);
    rcy_object_t *m1 = rcy_int_new(rt, -1), *m2 = rcy_int_new(rt, -2);
    rcy_object_t *p53 = rcy_int_new(rt, ((int64_t)1 << 53) + 1), *f53 = rcy_float_new(rt, 9007199254740992.0);
    rcy_object_t *nan = rcy_float_new(rt, NAN), *inf = rcy_float_new(rt, INFINITY),
                 *ninf = rcy_float_new(rt, -INFINITY);
    rcy_object_t *big_f = rcy_float_new(rt, 1e300);

    CHECK_EQ(rcy_equal(one, onef), 1); /* 1 == 1.0 */
    CHECK_EQ(rcy_equal(onef, one), 1);
    CHECK_EQ(rcy_equal(one, half), 0);
    CHECK_EQ(rcy_equal(p53, f53), 0); /* no rounding: 2**53 + 1 != 2.0**53 */
    CHECK_EQ(rcy_equal(nan, nan), 1); /* identity first, as in containers */
    rcy_object_t *nan2 = rcy_float_new(rt, NAN);
    CHECK_EQ(rcy_equal(nan, nan2), 0);
    CHECK_EQ(rcy_equal(big_f, big), 0);

    /* CPython's values: hash(1) == hash(1.0) == 1, hash(0.5) == 2**60,
       hash(-1) == -2, hash(2**63 - 1) == 3 (modulo 2**61 - 1),
       hash(inf) == 314159. */
    int64_t h1, h2;
    CHECK_EQ(rcy_hash(one, &h1), 0);
    CHECK_EQ(rcy_hash(onef, &h2), 0);
    CHECK_EQ(h1, 1);
    CHECK_EQ(h2, 1);
    CHECK_EQ(rcy_hash(half, &h1), 0);
    CHECK_EQ(h1, (int64_t)1 << 60);
    CHECK_EQ(rcy_hash(m1, &h1), 0);
    CHECK_EQ(h1, -2);
    CHECK_EQ(rcy_hash(m2, &h1), 0);
    CHECK_EQ(h1, -2);
    CHECK_EQ(rcy_hash(big, &h1), 0);
    CHECK_EQ(h1, 3);
    CHECK_EQ(rcy_hash(inf, &h1), 0);
    CHECK_EQ(h1, 314159);
    CHECK_EQ(rcy_hash(ninf, &h1), 0);
    CHECK_EQ(h1, -314159);
    /* Floats with integral values hash like the ints they equal. */
    rcy_object_t *f1e15 = rcy_float_new(rt, 1e15), *i1e15 = rcy_int_new(rt, 1000000000000000);
    CHECK_EQ(rcy_hash(f1e15, &h1), 0);
    CHECK_EQ(rcy_hash(i1e15, &h2), 0);
    CHECK_EQ(h1, h2);
    rcy_object_t *mf = rcy_float_new(rt, -3.0), *mi = rcy_int_new(rt, -3);
    CHECK_EQ(rcy_hash(mf, &h1), 0);
    CHECK_EQ(rcy_hash(mi, &h2), 0);
    CHECK_EQ(h1, h2);
    CHECK_EQ(rcy_hash(NULL, &h1), RCY_EINVAL);

    rcy_object_t *objs[] = {one, onef, half, big, m1, m2, p53, f53, nan, nan2, inf, ninf, big_f, f1e15, i1e15, mf, mi};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rcy_decref(objs[i]);
    test_runtime_end(rt);
}

TEST(test_number_repr)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    struct {
        double v;
        const char *text;
    } floats[] = {
        {0.1, "0.1"},
        {1.0, "1.0"},
        {-0.0, "-0.0"},
        {1.5, "1.5"},
        {123456789.0, "123456789.0"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {0.0001, "0.0001"},
        {1e-05, "1e-05"},
        {1.0 / 3, "0.3333333333333333"},
        {2.5e-300, "2.5e-300"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {NAN, "nan"},
        {1e22, "1e+22"},
        {-12.75, "-12.75"},
    };
    for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        rcy_object_t *f = rcy_float_new(rt, floats[i].v);
        if (strcmp(repr(f), floats[i].text) != 0) {
            fprintf(stderr, "repr(%.17g): got %s, want %s\n", floats[i].v, buf, floats[i].text);
            CHECK(0);
        }
        rcy_decref(f);
    }
    rcy_object_t *i = rcy_int_new(rt, -9000000000);
    CHECK(strcmp(repr(i), "-9000000000") == 0);
    rcy_decref(i);
    CHECK(strcmp(repr(rcy_int_new(rt, 11)), "11") == 0);
    test_runtime_end(rt);
}

/* Ints and floats by the hundred thousand, freed in scattered orders:
   every value survives its neighbours' deaths and every object goes. */
TEST(test_many_atoms)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    enum { N = 100000 };
    static rcy_object_t *objs[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++)
            objs[i] = i % 3 == 0 ? rcy_float_new(rt, i + 0.5) : rcy_int_new(rt, 1000 + (int64_t)i);
        CHECK_EQ(rcy_runtime_live_objects(rt), N);
        /* Free every other one (by a stride), then refill the holes. */
        for (int i = round; i < N; i += 2)
            RCY_CLEAR(objs[i]);
        for (int i = round; i < N; i += 2)
            objs[i] = rcy_int_new(rt, 1000 + (int64_t)i);
        int bad = 0;
        for (int i = 0; i < N; i++) {
            int64_t v;
            double f;
            if (rcy_int_value(objs[i], &v) == 0)
                bad += v != 1000 + i;
            else
                bad += rcy_float_value(objs[i], &f) != 0 || f != i + 0.5;
        }
        CHECK_EQ(bad, 0);
        /* Free from the end, from the front, from the middle out. */
        for (int i = 0; i < N; i++) {
            int k = round == 0 ? N - 1 - i : round == 1 ? i : (i % 2 ? N / 2 + i / 2 : N / 2 - 1 - i / 2);
            RCY_CLEAR(objs[k]);
        }
        CHECK_EQ(rcy_runtime_live_objects(rt), 0);
        CHECK_EQ(rcy_type_live_bytes(rcy_int_type(rt)), 0);
    }
    test_runtime_end(rt);
}

/* rcy_new on a built-in type gives a zero (or empty) object that lives and
   dies like the others: ints and floats then come from the same place as
   rcy_int_new's. */
TEST(test_rcy_new_on_builtin_types)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *i = rcy_new(rcy_int_type(rt)), *f = rcy_new(rcy_float_type(rt));
    rcy_object_t *l = rcy_new(rcy_list_type(rt)), *d = rcy_new(rcy_dict_type(rt));
    CHECK(i != NULL && f != NULL && l != NULL && d != NULL);
    int64_t v = -1;
    double x = -1;
    CHECK_EQ(rcy_int_value(i, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(rcy_float_value(f, &x), 0);
    CHECK(x == 0.0);
    CHECK_EQ(rcy_equal(i, rcy_int_new(rt, 0)), 1);
    CHECK_EQ(rcy_list_append(l, i), 0);
    CHECK_EQ(rcy_dict_set(d, i, f), 0);
    CHECK(rcy_new(rcy_str_type(rt)) == NULL); /* variable-size: rcy_str_new */
    CHECK(rcy_new(rcy_tuple_type(rt)) == NULL);
    rcy_decref(i);
    rcy_decref(f);
    rcy_decref(l);
    rcy_decref(d);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);
    test_runtime_end(rt);
}

int main(void)
{
    RUN(test_int_values);
    RUN(test_small_int_cache);
    RUN(test_float_values);
    RUN(test_number_equality_and_hash);
    RUN(test_number_repr);
    RUN(test_many_atoms);
    RUN(test_rcy_new_on_builtin_types);
    return harness_summary();
}
