/*
 * str: immutable UTF-8 text, its length in bytes, and a hash computed on
 * first use. Not containers.
 */
#include "types.h"
#include "pool.h"

#include <string.h>

int rcyi_init_str_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "str";
    spec.basicsize = offsetof(rcyi_str_t, data) + 1; /* the terminating NUL */
    spec.itemsize = 1;
    spec.describe = rcyi_describe_repr;
    b->str_type = rcy_type_new(rt, &spec);
    return b->str_type != NULL ? 0 : RCY_ENOMEM;
}

rcy_object_t *rcy_str_new_len(rcy_runtime_t *rt, const char *utf8, size_t len)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if ((utf8 == NULL && len > 0) || len > (size_t)INTPTR_MAX || !rcyi_utf8_valid(utf8, len)) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcyi_str_t *s = (rcyi_str_t *)rcy_new_var(rt->builtins->str_type, (intptr_t)len);
    if (s == NULL)
        return NULL;
    if (len > 0)
        memcpy(s->data, utf8, len);
    s->data[len] = '\0';
    s->hash = -1;
    return (rcy_object_t *)s;
}

rcy_object_t *rcy_str_new(rcy_runtime_t *rt, const char *utf8)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (utf8 == NULL) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    return rcy_str_new_len(rt, utf8, strlen(utf8));
}

const char *rcy_str_data(const rcy_object_t *o)
{
    if (o == NULL || !rcyi_is_str(o))
        return NULL;
    return ((const rcyi_str_t *)o)->data;
}

intptr_t rcy_str_len(const rcy_object_t *o)
{
    if (o == NULL)
        return RCY_EINVAL;
    if (!rcyi_is_str(o))
        return rcyi_set_error(o->type->rt, RCY_ETYPE);
    return ((const rcyi_str_t *)o)->ob.size;
}

/* FNV-1a over the bytes, then a final mix (splitmix64's) so that the low
   bits, which pick the dict slot, depend on every byte. Deterministic:
   there is no per-process seed as in CPython's SipHash. */
int64_t rcyi_str_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebu;
    h ^= h >> 31;
    int64_t r = (int64_t)h;
    return r == -1 ? -2 : r;
}

int64_t rcyi_str_hash(rcy_object_t *o)
{
    rcyi_str_t *s = (rcyi_str_t *)o;
    if (s->hash == -1)
        s->hash = rcyi_str_hash_bytes(s->data, (size_t)s->ob.size);
    return s->hash;
}

/* ---- Interned strs ---------------------------------------------------

   One str per text and runtime, as CPython's interned strings: an
   attribute name is compared by pointer once interned. They are immortal
   (CPython 3.12+ makes every interned str immortal; 3.13 and later keep
   those of sys.intern mortal but the names from code, which is what our
   attribute names are, immortal): made by hand like the small ints, not
   counted as live objects and in no census, and freed at the very end of
   teardown (rcyi_str_intern_fini, from rcyi_builtins_fini), so that the
   leak tools never show a name as growth. */

static size_t intern_block(size_t n) { return offsetof(rcyi_str_t, data) + n + 1; }

/* The slot of the bytes s[0..n) in the set: the one holding their str, or
   the empty slot where it would go. cap > 0. */
static size_t intern_slot(const rcyi_builtins_t *b, const char *s, size_t n, int64_t hash)
{
    size_t mask = b->intern.cap - 1;
    size_t i = (size_t)((uint64_t)hash & mask);
    for (size_t step = 1;; step++) {
        const rcyi_str_t *t = b->intern.slots[i];
        if (t == NULL ||
            (t->hash == hash && (size_t)t->ob.size == n && (n == 0 || memcmp(t->data, s, n) == 0)))
            return i;
        i = (i + step) & mask; /* triangular probing visits every slot of a power of two */
    }
}

rcy_object_t *rcyi_str_intern_find(const rcy_runtime_t *rt, const char *s, size_t n, int64_t hash)
{
    const rcyi_builtins_t *b = rt->builtins;
    if (b->intern.cap == 0)
        return NULL;
    return (rcy_object_t *)b->intern.slots[intern_slot(b, s, n, hash)];
}

/* Doubles the set (8 slots at first). 0 or RCY_ENOMEM, the set unchanged. */
static int intern_grow(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    size_t cap = rcyi_grow_cap(b->intern.cap, 8, sizeof(rcyi_str_t *));
    rcyi_str_t **slots = cap != 0 ? rcyi_malloc_array(rt, cap, sizeof *slots) : NULL;
    if (slots == NULL)
        return RCY_ENOMEM;
    memset(slots, 0, cap * sizeof *slots);
    rcyi_str_t **old = b->intern.slots;
    size_t oldcap = b->intern.cap;
    b->intern.slots = slots;
    b->intern.cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        rcyi_str_t *t = old[i];
        if (t != NULL)
            slots[intern_slot(b, t->data, (size_t)t->ob.size, t->hash)] = t;
    }
    rcyi_free(rt, old);
    return 0;
}

rcy_object_t *rcyi_str_intern(rcy_runtime_t *rt, const char *s, size_t n, int64_t hash)
{
    rcyi_builtins_t *b = rt->builtins;
    if (b->intern.cap != 0) {
        rcyi_str_t *t = b->intern.slots[intern_slot(b, s, n, hash)];
        if (t != NULL)
            return (rcy_object_t *)t;
    }
    /* At most 2/3 full, counting the one to add. */
    if ((b->intern.n + 1) * 3 > b->intern.cap * 2 && intern_grow(rt, b) < 0) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    rcyi_str_t *t = rcyi_mem_alloc(rt, intern_block(n));
    if (t == NULL) {
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    t->ob.ob.refcnt = RCY_REFCNT_IMMORTAL;
    t->ob.ob.type = b->str_type;
    t->ob.size = (intptr_t)n;
    t->hash = hash;
    if (n > 0)
        memcpy(t->data, s, n);
    t->data[n] = '\0';
    b->intern.slots[intern_slot(b, s, n, hash)] = t;
    b->intern.n++;
    return (rcy_object_t *)t;
}

rcy_object_t *rcyi_str_intern_obj(rcy_object_t *o)
{
    rcyi_str_t *s = (rcyi_str_t *)o;
    return rcyi_str_intern(o->type->rt, s->data, (size_t)s->ob.size, rcyi_str_hash(o));
}

void rcyi_str_intern_fini(rcy_runtime_t *rt)
{
    rcyi_builtins_t *b = rt->builtins;
    for (size_t i = 0; i < b->intern.cap; i++) {
        rcyi_str_t *t = b->intern.slots[i];
        if (t != NULL)
            rcyi_mem_free(rt, t, intern_block((size_t)t->ob.size));
    }
    rcyi_free(rt, b->intern.slots);
    b->intern.slots = NULL;
    b->intern.cap = b->intern.n = 0;
}

rcy_object_t *rcy_str_intern_len(rcy_runtime_t *rt, const char *utf8, size_t len)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if ((utf8 == NULL && len > 0) || len > (size_t)INTPTR_MAX - 64 || !rcyi_utf8_valid(utf8, len)) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    return rcyi_str_intern(rt, utf8, len, rcyi_str_hash_bytes(utf8, len));
}

rcy_object_t *rcy_str_intern(rcy_runtime_t *rt, const char *utf8)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (utf8 == NULL) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    return rcy_str_intern_len(rt, utf8, strlen(utf8));
}

int rcy_str_is_interned(const rcy_object_t *o)
{
    if (o == NULL || !rcyi_is_str(o) || !rcy_is_immortal(o))
        return 0;
    const rcyi_str_t *s = (const rcyi_str_t *)o;
    return s->hash != -1 && rcyi_str_intern_find(o->type->rt, s->data, (size_t)s->ob.size, s->hash) == o;
}

int rcyi_str_equal(const rcy_object_t *a, const rcy_object_t *b)
{
    const rcyi_str_t *x = (const rcyi_str_t *)a, *y = (const rcyi_str_t *)b;
    if (x->ob.size != y->ob.size)
        return 0;
    if (x->hash != -1 && y->hash != -1 && x->hash != y->hash)
        return 0;
    return memcmp(x->data, y->data, (size_t)x->ob.size) == 0;
}

/* Python's repr: single quotes unless the text holds a single quote and no
   double quote; backslash escapes for the quote, the backslash, \t \n \r
   and other control characters. Non-ASCII text is kept as it is. */
void rcyi_str_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    const rcyi_str_t *s = (const rcyi_str_t *)o;
    size_t n = (size_t)s->ob.size;
    char quote = '\'';
    if (memchr(s->data, '\'', n) != NULL && memchr(s->data, '"', n) == NULL)
        quote = '"';
    rcyi_write(w, &quote, 1);
    for (size_t i = 0; i < n && !w->full; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (c == (unsigned char)quote || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rcyi_write(w, esc, 2);
        } else if (c == '\n') {
            rcyi_writes(w, "\\n");
        } else if (c == '\t') {
            rcyi_writes(w, "\\t");
        } else if (c == '\r') {
            rcyi_writes(w, "\\r");
        } else if (c < 0x20 || c == 0x7F) {
            rcyi_writef(w, "\\x%02x", c);
        } else {
            rcyi_write(w, (const char *)&s->data[i], 1);
        }
    }
    rcyi_write(w, &quote, 1);
}
