/*
 * Equality, hashing and repr across the built-in types: the public entry
 * points, the dispatch to each type's own function, and the bounded writer
 * the reprs share.
 */
#include "types.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- Equality -------------------------------------------------------- */

/* Calls one equal slot: user code, in a callback frame, one level deeper
   on the stack (the slot may compare other objects in turn). */
static RCYI_NOINLINE int call_equal_slot(rcy_equal_fn fn, rcy_object_t *self, rcy_object_t *other)
{
    rcy_runtime_t *rt = self->type->rt;
    if (RCY_UNLIKELY(rcyi_stack_low()))
        return rcyi_set_error(rt, RCY_EDEPTH);
    rcyi_running_t f;
    rcyi_enter(rt, &f, "an equal slot", self);
    int r = fn(self, other);
    rcyi_leave(rt, &f);
    if (r < 0)
        return rcyi_set_error(rt, r);
    return r;
}

/* a == b through the equal slots (at least one type has one): a's, then
   b's reflected; RCY_NOTIMPLEMENTED from both (or the only one) leaves
   identity, and a and b are not identical here. */
static RCYI_NOINLINE int equal_by_slots(rcy_object_t *a, rcy_object_t *b)
{
    rcy_equal_fn ea = a->type->equal, eb = b->type->equal;
    if (ea != NULL) {
        int r = call_equal_slot(ea, a, b);
        if (r != RCY_NOTIMPLEMENTED)
            return r < 0 ? r : r != 0;
    }
    if (eb != NULL && (eb != ea || a->type != b->type)) {
        int r = call_equal_slot(eb, b, a);
        if (r != RCY_NOTIMPLEMENTED)
            return r < 0 ? r : r != 0;
    }
    return 0;
}

int rcyi_equal(rcy_object_t *a, rcy_object_t *b, int depth)
{
    if (a == b)
        return 1;
    if (a == NULL || b == NULL)
        return 0; /* a cleared slot equals nothing */
    if (depth > RCYI_MAX_DEPTH)
        return rcyi_set_error(a->type->rt, RCY_EDEPTH);
    rcy_type_t *ta = a->type, *tb = b->type;
    if (RCY_UNLIKELY(ta->equal != NULL || tb->equal != NULL))
        return equal_by_slots(a, b);
    rcyi_builtins_t *bt = rcyi_builtins(a);
    bool num_a = ta == bt->int_type || ta == bt->float_type || ta == bt->bool_type;
    bool num_b = tb == bt->int_type || tb == bt->float_type || tb == bt->bool_type;
    if (num_a && num_b)
        return rcyi_number_equal(a, b);
    if (ta != tb)
        return 0;
    if (ta == bt->str_type)
        return rcyi_str_equal(a, b);
    /* Each container checks the stack before comparing its items. */
    if (ta == bt->tuple_type)
        return rcyi_tuple_equal(a, b, depth + 1);
    if (ta == bt->list_type)
        return rcyi_listobj_equal(a, b, depth + 1);
    if (ta == bt->dict_type)
        return rcyi_dict_equal(a, b, depth + 1);
    return 0; /* identity only */
}

int rcy_equal(rcy_object_t *a, rcy_object_t *b)
{
    if (a == NULL || b == NULL)
        return RCY_EINVAL;
    rcyi_check_live(a);
    rcyi_check_live(b);
    return rcyi_equal(a, b, 0);
}

/* ---- Hashing --------------------------------------------------------- */

/* Ints and floats hash to their value modulo the Mersenne prime 2**61 - 1,
   as in CPython, so that equal numbers of either type hash alike. */
#define HASH_BITS 61
#define HASH_MODULUS (((uint64_t)1 << HASH_BITS) - 1)
#define HASH_INF 314159

int64_t rcyi_int_hash_value(int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t h = (int64_t)(mag % HASH_MODULUS);
    if (v < 0)
        h = -h;
    return h == -1 ? -2 : h; /* -1 is reserved for errors in CPython */
}

int64_t rcyi_pointer_hash(const void *p)
{
    /* Objects are aligned: rotate the always-zero low bits away. */
    uint64_t x = (uint64_t)(uintptr_t)p;
    x = (x >> 4) | (x << 60);
    int64_t h = (int64_t)x;
    return h == -1 ? -2 : h;
}

int64_t rcyi_float_hash_value(double v, const rcy_object_t *o)
{
    /* A finite double is exactly mant * 2**e with an integer mant < 2**53.
       Modulo 2**61 - 1, multiplying by 2**e (e of either sign, since
       2**61 == 1) rotates the 61-bit residue left by e mod 61. */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7ff);
    uint64_t mant = bits & (((uint64_t)1 << 52) - 1);
    bool negative = (bits >> 63) != 0;
    if (biased == 0x7ff) {
        if (mant != 0)
            return rcyi_pointer_hash(o); /* NaN: by identity, as CPython 3.10+ */
        return negative ? -HASH_INF : HASH_INF;
    }
    int e;
    if (biased == 0) {
        e = -1074; /* subnormal */
    } else {
        mant |= (uint64_t)1 << 52;
        e = biased - 1075;
    }
    int r = e % HASH_BITS;
    if (r < 0)
        r += HASH_BITS;
    uint64_t h = mant; /* already below the modulus */
    if (r != 0)
        h = ((h << r) & HASH_MODULUS) | (h >> (HASH_BITS - r));
    int64_t s = negative ? -(int64_t)h : (int64_t)h;
    return s == -1 ? -2 : s;
}

/* A user type's hash: its slot in a callback frame, or unhashable when it
   defines equality alone. */
static RCYI_NOINLINE int hash_by_slot(rcy_object_t *o, int64_t *out)
{
    rcy_type_t *t = o->type;
    rcy_runtime_t *rt = t->rt;
    if (t->hash == NULL)
        return rcyi_set_error(rt, RCY_EHASH); /* __eq__ without __hash__ */
    if (RCY_UNLIKELY(rcyi_stack_low()))
        return rcyi_set_error(rt, RCY_EDEPTH);
    int64_t h = 0;
    rcyi_running_t f;
    rcyi_enter(rt, &f, "a hash slot", o);
    int r = t->hash(o, &h);
    rcyi_leave(rt, &f);
    if (r < 0)
        return rcyi_set_error(rt, r);
    *out = h == -1 ? -2 : h;
    return 0;
}

int rcyi_hash(rcy_object_t *o, int64_t *out, int depth)
{
    if (depth > RCYI_MAX_DEPTH)
        return rcyi_set_error(o->type->rt, RCY_EDEPTH);
    rcy_type_t *t = o->type;
    if (RCY_UNLIKELY(t->hash != NULL || t->equal != NULL))
        return hash_by_slot(o, out);
    rcyi_builtins_t *b = rcyi_builtins(o);
    if (t == b->int_type || t == b->bool_type) {
        *out = rcyi_int_hash_value(((rcyi_int_t *)o)->value);
        return 0;
    }
    if (t == b->float_type) {
        *out = rcyi_float_hash_value(((rcyi_float_t *)o)->value, o);
        return 0;
    }
    if (t == b->str_type) {
        *out = rcyi_str_hash(o);
        return 0;
    }
    if (t == b->tuple_type)
        return rcyi_tuple_hash(o, out, depth + 1); /* checks the stack */
    if (t == b->list_type || t == b->dict_type)
        return rcyi_set_error(t->rt, RCY_EHASH);
    *out = rcyi_pointer_hash(o);
    return 0;
}

int rcy_hash(rcy_object_t *o, int64_t *out)
{
    if (o == NULL || out == NULL)
        return RCY_EINVAL;
    rcyi_check_live(o);
    return rcyi_hash(o, out, 0);
}

/* ---- The repr writer ------------------------------------------------- */

void rcyi_write(rcyi_writer_t *w, const char *s, size_t n)
{
    if (w->full)
        return;
    size_t room = w->size - 1 - w->len;
    if (n > room) {
        n = room;
        w->full = true;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void rcyi_writes(rcyi_writer_t *w, const char *s) { rcyi_write(w, s, strlen(s)); }

void rcyi_writef(rcyi_writer_t *w, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        rcyi_write(w, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

bool rcyi_repr_enter(rcyi_writer_t *w, const rcy_object_t *o)
{
    if (w->depth >= RCYI_REPR_DEPTH || rcyi_stack_low())
        return false;
    for (int i = 0; i < w->depth; i++) {
        if (w->stack[i] == o)
            return false;
    }
    w->stack[w->depth++] = o;
    return true;
}

void rcyi_repr_leave(rcyi_writer_t *w) { w->depth--; }

/* Another type's object: its describe slot. Out of line, so that the
   buffer is not part of every level of a nested repr's frames. */
static RCYI_NOINLINE void repr_other(rcyi_writer_t *w, rcy_object_t *o)
{
    char tmp[256];
    int n = rcy_describe(o, tmp, sizeof tmp);
    if (n > 0)
        rcyi_write(w, tmp, strlen(tmp));
}

void rcyi_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    if (w->full)
        return;
    if (o == NULL) {
        rcyi_writes(w, "<NULL>");
        return;
    }
    rcyi_builtins_t *b = rcyi_builtins(o);
    rcy_type_t *t = o->type;
    if (t == b->int_type)
        rcyi_int_repr(w, o);
    else if (t == b->float_type)
        rcyi_float_repr(w, o);
    else if (t == b->str_type)
        rcyi_str_repr(w, o);
    else if (t == b->tuple_type)
        rcyi_tuple_repr(w, o);
    else if (t == b->list_type)
        rcyi_listobj_repr(w, o);
    else if (t == b->dict_type)
        rcyi_dict_repr(w, o);
    else if (t == b->class_type)
        rcyi_class_repr(w, o);
    else if (t == b->none_type || t == b->bool_type)
        rcyi_singleton_repr(w, o);
    else
        repr_other(w, o);
}

int rcyi_describe_repr(rcy_object_t *o, char *buf, size_t size)
{
    rcyi_writer_t w;
    w.buf = buf;
    w.size = size;
    w.len = 0;
    w.full = false;
    w.depth = 0;
    buf[0] = '\0';
    rcyi_repr(&w, o);
    if (w.full && size >= 4) {
        memcpy(buf + size - 4, "...", 4);
        w.len = size - 1;
    }
    return (int)w.len;
}
