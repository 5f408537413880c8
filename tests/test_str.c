/* str: UTF-8 text with a length and a hash; validation, equality, reprs,
   error handling and allocation failures. */
#include "harness.h"
#include "oom_alloc.h"

static char buf[256];

static const char *repr(rcy_object_t *o)
{
    rcy_describe(o, buf, sizeof buf);
    return buf;
}

TEST(test_str_basics)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *s = rcy_str_new(rt, "h\xc3\xa9llo"); /* "héllo" */
    CHECK(s != NULL);
    CHECK(rcy_is_str(s));
    CHECK(!rcy_gc_is_tracked(s));
    CHECK(!rcy_type_is_gc(rcy_str_type(rt)));
    CHECK_EQ(rcy_str_len(s), 6); /* bytes */
    CHECK(strcmp(rcy_str_data(s), "h\xc3\xa9llo") == 0);
    CHECK_EQ(rcy_type_live_objects(rcy_str_type(rt)), 1);

    rcy_object_t *e = rcy_str_new(rt, "");
    CHECK_EQ(rcy_str_len(e), 0);
    CHECK(strcmp(rcy_str_data(e), "") == 0);

    rcy_object_t *z = rcy_str_new_len(rt, "a\0b", 3); /* embedded NUL */
    CHECK_EQ(rcy_str_len(z), 3);
    CHECK(memcmp(rcy_str_data(z), "a\0b", 4) == 0);
    CHECK(strcmp(repr(z), "'a\\x00b'") == 0);
    rcy_object_t *z2 = rcy_str_new_len(rt, "a\0c", 3);
    CHECK_EQ(rcy_equal(z, z2), 0);
    rcy_object_t *empty = rcy_str_new_len(rt, NULL, 0);
    CHECK(empty != NULL);
    CHECK_EQ(rcy_equal(empty, e), 1);

    rcy_decref(s);
    rcy_decref(e);
    rcy_decref(z);
    rcy_decref(z2);
    rcy_decref(empty);
    test_runtime_end(rt);
}

TEST(test_str_invalid_utf8)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    const char *bad[] = {
        "\xc0\x80",         /* overlong NUL */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* a surrogate */
        "\xe2\x82",         /* truncated */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\x80",             /* a lone continuation byte */
        "\xff",
        "abc\xc3",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(rcy_str_new(rt, bad[i]) == NULL);
        CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    }
    const char *good[] = {"\xf0\x9f\x90\x8d", "\xe2\x82\xac", "\xf4\x8f\xbf\xbf", "\x7f", "\xc2\x80"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        rcy_object_t *s = rcy_str_new(rt, good[i]);
        CHECK(s != NULL);
        rcy_xdecref(s);
    }
    CHECK(rcy_str_new(rt, NULL) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_EINVAL);
    CHECK(rcy_str_new_len(rt, NULL, 3) == NULL);
    CHECK(rcy_str_new(NULL, "x") == NULL);
    CHECK_EQ(rcy_runtime_live_objects(rt), 0);

    rcy_object_t *n = rcy_int_new(rt, 300);
    CHECK(rcy_str_data(n) == NULL);
    CHECK_EQ(rcy_str_len(n), RCY_ETYPE);
    CHECK_EQ(rcy_str_len(NULL), RCY_EINVAL);
    CHECK(rcy_str_data(NULL) == NULL);
    rcy_decref(n);
    test_runtime_end(rt);
}

TEST(test_str_equality_and_hash)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    rcy_object_t *a = rcy_str_new(rt, "spam"), *b = rcy_str_new(rt, "spam"), *c = rcy_str_new(rt, "spa");
    rcy_object_t *d = rcy_str_new(rt, "maps");
    CHECK(a != b);
    CHECK_EQ(rcy_equal(a, b), 1);
    CHECK_EQ(rcy_equal(a, c), 0);
    CHECK_EQ(rcy_equal(a, d), 0);
    int64_t ha, hb, hd;
    CHECK_EQ(rcy_hash(a, &ha), 0);
    CHECK_EQ(rcy_hash(b, &hb), 0);
    CHECK_EQ(rcy_hash(d, &hd), 0);
    CHECK(ha == hb);
    CHECK(ha != hd);
    CHECK(ha != -1);
    /* A str never equals a number, even one with the same text. */
    rcy_object_t *one = rcy_int_new(rt, 1), *s1 = rcy_str_new(rt, "1");
    CHECK_EQ(rcy_equal(one, s1), 0);
    rcy_decref(a);
    rcy_decref(b);
    rcy_decref(c);
    rcy_decref(d);
    rcy_decref(s1);
    test_runtime_end(rt);
}

TEST(test_str_repr)
{
    rcy_runtime_t *rt = test_runtime(NULL);
    struct {
        const char *text, *want;
    } cases[] = {
        {"abc", "'abc'"},
        {"it's", "\"it's\""},
        {"say \"hi\"", "'say \"hi\"'"},
        {"it's \"x\"", "'it\\'s \"x\"'"},
        {"a\nb\tc\r", "'a\\nb\\tc\\r'"},
        {"back\\slash", "'back\\\\slash'"},
        {"\x01\x7f", "'\\x01\\x7f'"},
        {"caf\xc3\xa9", "'caf\xc3\xa9'"},
        {"", "''"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rcy_object_t *s = rcy_str_new(rt, cases[i].text);
        if (strcmp(repr(s), cases[i].want) != 0) {
            fprintf(stderr, "repr: got %s, want %s\n", buf, cases[i].want);
            CHECK(0);
        }
        rcy_decref(s);
    }
    /* A repr cut short by the buffer ends in "...". */
    rcy_object_t *s = rcy_str_new(rt, "abcdefghijklmnopqrstuvwxyz");
    char small[10];
    int n = rcy_describe(s, small, sizeof small);
    CHECK_EQ(n, 9);
    CHECK(strcmp(small, "'abcde...") == 0);
    rcy_decref(s);
    test_runtime_end(rt);
}

TEST(test_str_out_of_memory)
{
    oom_alloc_t a = {0};
    rcy_runtime_t *rt = oom_runtime(&a, NULL);
    long live = a.live;
    a.failing = true;
    CHECK(rcy_str_new(rt, "x") == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK(rcy_int_new(rt, 1000) == NULL);
    CHECK_EQ(rcy_last_error(rt), RCY_ENOMEM);
    CHECK(rcy_int_new(rt, 10) != NULL); /* cached: no allocation */
    CHECK(rcy_float_new(rt, 1.0) == NULL);
    a.failing = false;
    CHECK_EQ(a.live, live);
    test_runtime_end(rt);
    CHECK_EQ(a.live, 0);
}

int main(void)
{
    RUN(test_str_basics);
    RUN(test_str_invalid_utf8);
    RUN(test_str_equality_and_hash);
    RUN(test_str_repr);
    RUN(test_str_out_of_memory);
    return harness_summary();
}
