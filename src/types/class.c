/*
 * Classes made at run time, and their instances. A class is an object of
 * type "type" holding class attributes; it owns a type of its own, named
 * after the class, for its instances, whose finalize (or legacy_del) slot
 * is set only when the class has such a finalizer: a trampoline that calls
 * the class's C function.
 *
 * Instances are compact, in the manner of CPython 3.11-3.13 (shared keys
 * and inline values, docs/design.md "Instance layout"): a class keeps one
 * table of attribute names (interned strs) shared by all its instances,
 * and an instance keeps only the values, inline, in the slots of the
 * names' indices. A dict for an instance is made only when asked for
 * (rcy_instance_dict) or when its attributes no longer fit the compact form
 * (a name past the shared table's or the instance's capacity, more
 * attributes than the layout word can order); from then on the instance
 * uses that dict, as CPython 3.11/3.12 do.
 */
#include "types.h"
#include "lifecycle.h"

#include <string.h>

static inline rcyi_class_t *as_class(const rcy_object_t *o) { return (rcyi_class_t *)(uintptr_t)o; }
static inline rcyi_instance_t *as_instance(const rcy_object_t *o) { return (rcyi_instance_t *)(uintptr_t)o; }

/* ---- The layout word of an instance ------------------------------------

   bit 0: DICT (values[0] holds the instance's dict); while not DICT, bits
   1-5: the number of attributes, and from bit 6 their key indices in
   insertion order, 5 bits each (ORDER_MAX of them: 10 on 64-bit targets,
   4 on 32-bit ones). The top six bits: the capacity (value slots, 1 to
   RCYI_SHARED_KEYS_MAX), then the top bit COMPACT (set exactly when DICT
   is not), so that the word shifted right by L_CAP_SHIFT is 32 + the
   capacity for a compact instance and the capacity alone (below 32) with a
   dict: one comparison tells "compact, and ix is one of its slots" (the
   fast paths, compact_has). CPython keeps the insertion order in a byte
   array before the values; one word keeps the instance at 64 bytes. */
#define L_BITS ((int)(sizeof(uintptr_t) * 8))
#define L_DICT ((uintptr_t)1)
#define L_FIELD ((uintptr_t)31)
#define L_COUNT_SHIFT 1
#define L_ORDER_SHIFT 6
#define L_ORDER_BITS 5
#define L_CAP_SHIFT (L_BITS - 6)
#define L_COMPACT ((uintptr_t)1 << (L_BITS - 1))
#define ORDER_MAX ((L_CAP_SHIFT - L_ORDER_SHIFT) / L_ORDER_BITS)
#define L_ORDER_MASK ((((uintptr_t)1 << (L_ORDER_BITS * ORDER_MAX)) - 1) << L_ORDER_SHIFT)

static inline int l_cap(uintptr_t l) { return (int)((l >> L_CAP_SHIFT) & L_FIELD); }
static inline int l_count(uintptr_t l) { return (int)((l >> L_COUNT_SHIFT) & L_FIELD); }
static inline int l_order(uintptr_t l, int p) { return (int)((l >> (L_ORDER_SHIFT + L_ORDER_BITS * p)) & L_FIELD); }

/* The layout with key index ix appended to the insertion order. */
static inline uintptr_t l_append(uintptr_t l, int ix)
{
    int n = l_count(l);
    return (l + ((uintptr_t)1 << L_COUNT_SHIFT)) | ((uintptr_t)ix << (L_ORDER_SHIFT + L_ORDER_BITS * n));
}

/* The layout with key index ix (present) removed from the order: the
   indices after it move down one place; the capacity and flags stay. */
static inline uintptr_t l_remove(uintptr_t l, int ix)
{
    int n = l_count(l), p = 0;
    while (p < n && l_order(l, p) != ix)
        p++;
    unsigned at = L_ORDER_SHIFT + L_ORDER_BITS * (unsigned)p;
    uintptr_t order = l & L_ORDER_MASK;
    uintptr_t low = order & (((uintptr_t)1 << at) - 1);
    uintptr_t high = ((order >> (at + L_ORDER_BITS)) << at) & L_ORDER_MASK;
    return ((l & ~L_ORDER_MASK) | low | high) - ((uintptr_t)1 << L_COUNT_SHIFT);
}

/* A compact layout with no attributes. */
static inline uintptr_t l_empty(int cap) { return L_COMPACT | (uintptr_t)cap << L_CAP_SHIFT; }

/* The layout of an instance with a dict. */
static inline uintptr_t l_dict(int cap) { return L_DICT | (uintptr_t)cap << L_CAP_SHIFT; }

static inline rcyi_class_t *class_of(const rcy_object_t *inst) { return as_class(inst->type->owner); }

/* The index of the interned str key in c's shared keys, or -1. */
static inline int keys_find(const rcyi_class_t *c, const rcy_object_t *key)
{
    for (int i = 0; i < c->nkeys; i++)
        if (c->keys[i] == key)
            return i;
    return -1;
}

/* The pieces of the attribute calls' fast paths, inlined into each (clang
   would otherwise keep a shared copy, and a call and a stack frame). */
#define FAST_INLINE static RCYI_ALWAYS_INLINE

/* ---- Class objects --------------------------------------------------- */

/* What an empty entry of a class's name cache holds: a pointer no caller
   has (so the fast paths need no test of a NULL name: it misses). */
static const char class_no_name[1];


static int class_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    rcyi_class_t *c = as_class(self);
    RCY_VISIT_NAMED(c->dict, "__dict__");
    return 0;
}

static int class_clear(rcy_object_t *self)
{
    RCY_CLEAR(as_class(self)->dict);
    return 0;
}

/* The class dies (its instances are gone: each held a reference); its
   instance type stays with the runtime, and forgets it, so that rcy_new of
   the type refuses. Not when teardown releases the immortals (the count is
   then not 0): instances may still be collected after this slot ran, and
   their traverse needs their class, whose memory stays until the end. */
static void class_dealloc(rcy_object_t *self)
{
    rcyi_class_t *c = as_class(self);
    if (c->instance_type != NULL && self->refcnt == 0)
        c->instance_type->owner = NULL;
    RCY_CLEAR(c->dict);
}

int rcyi_init_class_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "type";
    spec.basicsize = sizeof(rcyi_class_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = class_traverse;
    spec.clear = class_clear;
    spec.dealloc = class_dealloc;
    spec.describe = rcyi_describe_repr;
    spec.weaklistoffset = offsetof(rcyi_class_t, weaklist);
    b->class_type = rcy_type_new(rt, &spec);
    return b->class_type != NULL ? 0 : RCY_ENOMEM;
}

void rcyi_class_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    rcy_type_t *t = as_class(o)->instance_type;
    rcyi_writef(w, "<class '%s'>", t != NULL ? t->name : "?");
}

/* ---- Instances ------------------------------------------------------- */

/* An instance is one object for the collector, as in CPython 3.11+: it
   reports each attribute as its own reference, labelled with the
   attribute's name, then its class; once it has a dict, the dict (which
   reports the attributes), then its class. The order is CPython 3.11's
   subtype_traverse: the values in the order of the class's keys, the type
   last (python3.11: gc.get_referents(o) == [o.b, o.a, C] when C's first
   instance set b first, whatever order o set them in). */
static int instance_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    rcyi_instance_t *inst = as_instance(self);
    rcyi_class_t *c = class_of(self);
    uintptr_t l = inst->layout;
    if (l & L_DICT) {
        RCY_VISIT_NAMED(inst->values[0], "__dict__");
    } else if (l_count(l) > 0) {
        int cap = l_cap(l);
        for (int ix = 0; ix < cap; ix++)
            RCY_VISIT_NAMED(inst->values[ix], ((const rcyi_str_t *)c->keys[ix])->data);
    }
    RCY_VISIT_NAMED(c, "__class__");
    return 0;
}

/* Breaks cycles through the attributes: the instance is left compact and
   empty before anything is released, so that finalizers run by the
   releases see a consistent instance (and may even set attributes again).
   The class reference stays until deallocation (as CPython keeps ob_type),
   so a cleared instance still knows its class. */
static int instance_clear(rcy_object_t *self)
{
    rcyi_instance_t *inst = as_instance(self);
    uintptr_t l = inst->layout;
    int cap = l_cap(l);
    rcy_object_t *old[RCYI_SHARED_KEYS_MAX];
    int n = 0;
    if (l & L_DICT) {
        old[n++] = inst->values[0];
    } else {
        int count = l_count(l);
        for (int p = 0; p < count; p++)
            old[n++] = inst->values[l_order(l, p)];
    }
    for (int i = 0; i < cap; i++)
        inst->values[i] = NULL;
    inst->layout = l_empty(cap);
    for (int i = 0; i < n; i++)
        rcy_decref(old[i]);
    return 0;
}

/* Deallocation: nothing can reach the dying instance (its count is 0 and
   its weak references are cleared), so its references are released where
   they are, without detaching them first; then the class's. */
static inline void instance_release(rcy_object_t *self)
{
    rcyi_instance_t *inst = as_instance(self);
    rcyi_class_t *c = class_of(self);
    uintptr_t l = inst->layout;
    if (l & L_DICT) {
        rcy_xdecref(inst->values[0]);
    } else {
        int n = l_count(l);
        for (int p = 0; p < n; p++)
            rcy_decref(inst->values[l_order(l, p)]);
    }
    rcy_decref(&c->ob);
}

static void instance_dealloc(rcy_object_t *self) { instance_release(self); }

static int instance_finalize(rcy_object_t *self)
{
    rcyi_class_t *c = class_of(self);
    return c->finalize != NULL ? c->finalize(self, c->arg) : 0;
}

static int instance_legacy_del(rcy_object_t *self)
{
    rcyi_class_t *c = class_of(self);
    return c->legacy_del != NULL ? c->legacy_del(self, c->arg) : 0;
}

static inline size_t instance_bytes(int cap)
{
    return sizeof(rcy_gc_head_t) + sizeof(rcyi_instance_t) + (size_t)cap * sizeof(rcy_object_t *);
}

static size_t instance_block_size(const rcy_object_t *o) { return instance_bytes(l_cap(as_instance(o)->layout)); }

static const rcyi_death_t instance_death = {instance_release, NULL, instance_block_size,
                                            offsetof(rcyi_instance_t, weaklist), true, false};

/* instance_on_death's general path: lifecycle.h's steps with
   instance_dealloc inlined. */
static RCYI_NOINLINE void instance_death_general(rcy_object_t *self)
{
    rcyi_dealloc_with(self, &instance_death);
}

/* The on_death slot of the instances of a class without finalizers. An
   instance without attributes nor weak references, whose class outlives
   the release of its reference, dies without a call (so without a stack
   frame): untracked, its class's count lowered, its memory back to the
   pools, the census and the collector's count updated. It nests no other
   death (the class only loses one of several references), so the
   trashcan has nothing to bound (the depth is not raised; the death runs
   where it would not be deferred, below RCYI_TRASH_DEPTH levels), and
   nothing can see the order of those steps. Anything else takes
   instance_death_general. */
static void instance_on_death(rcy_object_t *self)
{
    rcyi_instance_t *inst = as_instance(self);
    rcy_type_t *type = self->type;
    rcy_runtime_t *rt = type->rt;
    rcy_object_t *cls = type->owner;
    uintptr_t l = inst->layout;
    intptr_t r = cls->refcnt;
    rcy_gc_head_t *g = rcyi_as_gc(self);
    rcyi_poolhdr_t *pool = rcyi_pool_of(g); /* read only once rt->pool is known */
    if (RCY_UNLIKELY(inst->weaklist != NULL || (l & (L_DICT | (L_FIELD << L_COUNT_SHIFT))) != 0 || r <= 1 ||
                     rt->dealloc_depth >= RCYI_TRASH_DEPTH || (g->next & RCYI_NEXT_INCR) != 0 ||
                     rt->pool == NULL || !rcyi_pool_free_is_quick(pool))) {
        instance_death_general(self);
        return;
    }
    if (RCY_LIKELY(g->next != 0)) { /* rcyi_list_remove, the incremental pass's case excluded above */
        rcy_gc_head_t *prev = rcyi_gc_prev(g), *next = rcyi_gc_next(g);
        rcyi_gc_set_next(prev, next);
        rcyi_gc_set_prev(next, prev);
    }
    if (r < RCY_REFCNT_IMMORTAL)
        cls->refcnt = r - 1;
    size_t bytes = instance_bytes(l_cap(l)); /* at most 288: from the pools */
    type->held_objects--;
    type->held_bytes -= bytes;
    self->refcnt = RCY_REFCNT_FREED;
    rcyi_gc_on_free(rt);
    rcyi_pool_free_quick(pool, g); /* the header's next word becomes the pool's link; prev is left */
}

/* The alloc slot of instance types (rcy_new and rcy_instance_new): an
   instance with as many value slots as its class has names, plus the
   class's spare ones, holding a reference to its class. */
static inline rcy_object_t *instance_make(rcy_type_t *type)
{
    rcyi_class_t *c = as_class(type->owner);
    if (c == NULL) { /* the class is gone: nothing to instantiate */
        rcyi_set_error(type->rt, RCY_ETYPE);
        return NULL;
    }
    int cap = c->nkeys + c->spare;
    if (cap < 1)
        cap = 1; /* values[0] holds the dict once there is one */
    if (cap > RCYI_SHARED_KEYS_MAX)
        cap = RCYI_SHARED_KEYS_MAX;
    rcy_incref(&c->ob); /* before the allocation, which may collect */
    rcyi_instance_t *inst;
    /* The common capacities as constants, so that the zeroing is inlined. */
    switch (cap) {
    case 1:
        inst = (rcyi_instance_t *)rcyi_object_new_sized(type, instance_bytes(1));
        break;
    case 2:
        inst = (rcyi_instance_t *)rcyi_object_new_sized(type, instance_bytes(2));
        break;
    case 3:
        inst = (rcyi_instance_t *)rcyi_object_new_sized(type, instance_bytes(3));
        break;
    case 4:
        inst = (rcyi_instance_t *)rcyi_object_new_sized(type, instance_bytes(4));
        break;
    default:
        inst = (rcyi_instance_t *)rcyi_object_new_sized(type, instance_bytes(cap));
        break;
    }
    if (inst == NULL) {
        rcy_decref(&c->ob);
        rcyi_set_error(type->rt, RCY_ENOMEM);
        return NULL;
    }
    inst->layout = l_empty(cap);
    if (c->spare > 0)
        c->spare--;
    return &inst->ob;
}

static rcy_object_t *instance_alloc(rcy_type_t *type) { return instance_make(type); }

bool rcyi_is_instance(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type->traverse == instance_traverse;
}

/* Gives the instance obj a dict holding its attributes, and key = value
   when key is not NULL, and switches it to that dict. Nothing changes on
   failure (RCY_ENOMEM). Making the dict may collect, and so run finalizers
   that change obj: the attributes are read after it. */
static int instance_to_dict(rcy_object_t *obj, rcy_object_t *key, rcy_object_t *value)
{
    rcyi_instance_t *inst = as_instance(obj);
    rcy_object_t *d = rcy_dict_new(obj->type->rt);
    if (d == NULL)
        return RCY_ENOMEM;
    uintptr_t l = inst->layout;
    if (l & L_DICT) { /* a finalizer gave obj its dict meanwhile */
        rcy_decref(d);
        return key != NULL ? rcy_dict_set(inst->values[0], key, value) : 0;
    }
    const rcyi_class_t *c = class_of(obj);
    int n = l_count(l);
    for (int p = 0; p < n; p++) {
        int ix = l_order(l, p);
        if (rcy_dict_set(d, c->keys[ix], inst->values[ix]) < 0) {
            rcy_decref(d); /* its references are obj's too: nothing dies */
            return RCY_ENOMEM;
        }
    }
    if (key != NULL && rcy_dict_set(d, key, value) < 0) {
        rcy_decref(d);
        return RCY_ENOMEM;
    }
    /* The dict holds every value now: release the slots' references after
       the switch (a value key replaced dies here, and may run code). */
    rcy_object_t *old[RCYI_SHARED_KEYS_MAX];
    for (int p = 0; p < n; p++) {
        int ix = l_order(l, p);
        old[p] = inst->values[ix];
        inst->values[ix] = NULL;
    }
    inst->values[0] = d;
    inst->layout = l_dict(l_cap(l));
    for (int p = 0; p < n; p++)
        rcy_decref(old[p]);
    return 0;
}

/* obj.key = value for an instance, key an interned str. */
static int instance_set(rcy_object_t *obj, rcy_object_t *key, rcy_object_t *value)
{
    rcyi_instance_t *inst = as_instance(obj);
    uintptr_t l = inst->layout;
    if (l & L_DICT)
        return rcy_dict_set(inst->values[0], key, value);
    rcyi_class_t *c = class_of(obj);
    int ix = keys_find(c, key);
    if (ix < 0 && c->nkeys < RCYI_SHARED_KEYS_MAX) {
        ix = c->nkeys++; /* a new name for the class (immortal: no reference) */
        c->keys[ix] = key;
    }
    if (ix >= 0 && ix < l_cap(l)) {
        rcy_object_t *old = inst->values[ix];
        if (old != NULL) {
            inst->values[ix] = rcy_newref(value);
            rcy_decref(old);
            return 0;
        }
        if (l_count(l) < ORDER_MAX) {
            inst->values[ix] = rcy_newref(value);
            inst->layout = l_append(l, ix);
            return 0;
        }
    }
    /* The shared keys are full, the name's slot lies past this instance's
       capacity (it was made before its class knew the name), or the
       layout word cannot order one more attribute: a dict from now on. */
    return instance_to_dict(obj, key, value);
}

/* The instance's own attribute key (an interned str, or NULL when the
   name was never interned) with the text s[0..n): borrowed, or NULL. */
static rcy_object_t *instance_get(rcy_object_t *obj, rcy_object_t *key, const char *s, size_t n)
{
    rcyi_instance_t *inst = as_instance(obj);
    uintptr_t l = inst->layout;
    if (l & L_DICT)
        return rcyi_dict_get_cstr(inst->values[0], s, n);
    if (key == NULL)
        return NULL;
    int ix = keys_find(class_of(obj), key);
    return ix >= 0 && ix < l_cap(l) ? inst->values[ix] : NULL;
}

/* del obj.key: 0 or RCY_EKEY. */
static int instance_del(rcy_object_t *obj, rcy_object_t *key, const char *s, size_t n)
{
    rcyi_instance_t *inst = as_instance(obj);
    uintptr_t l = inst->layout;
    if (l & L_DICT)
        return rcyi_dict_del_cstr(inst->values[0], s, n);
    int ix = key != NULL ? keys_find(class_of(obj), key) : -1;
    if (ix < 0 || ix >= l_cap(l) || inst->values[ix] == NULL)
        return RCY_EKEY;
    rcy_object_t *old = inst->values[ix];
    inst->values[ix] = NULL;
    inst->layout = l_remove(l, ix);
    rcy_decref(old);
    return 0;
}

/* ---- The public API ---------------------------------------------------- */

/* The attribute calls' general paths (after their fast paths failed), out
   of line so that the fast paths need no stack frame. */
static RCYI_NOINLINE int setattr_slow(rcy_object_t *obj, const char *name, rcy_object_t *value);
static RCYI_NOINLINE rcy_object_t *getattr_slow(rcy_object_t *obj, const char *name);
static RCYI_NOINLINE int setattr_str_slow(rcy_object_t *obj, rcy_object_t *name, rcy_object_t *value);
static RCYI_NOINLINE rcy_object_t *getattr_str_slow(rcy_object_t *obj, rcy_object_t *name);

/* rcy_class_new is the macro passing sizeof(rcy_class_spec_t): another
   version's size is refused before the spec is read, even a NULL one. */
rcy_object_t *rcy_class_new_sized(rcy_runtime_t *rt, const char *name, const rcy_class_spec_t *spec,
                                  size_t spec_size)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (spec_size != sizeof(rcy_class_spec_t) || !rcyi_name_valid(name) ||
        (spec != NULL && spec->finalize != NULL && spec->legacy_del != NULL)) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcyi_class_t *c = (rcyi_class_t *)rcy_new(rt->builtins->class_type);
    if (c == NULL)
        return NULL;
    if (spec != NULL) {
        c->finalize = spec->finalize;
        c->legacy_del = spec->legacy_del;
        c->arg = spec->arg;
    }
    c->spare = RCYI_SHARED_KEYS_MAX; /* CPython's new shared keys: 30 usable */
    for (int i = 0; i < RCYI_CLASS_NAME_CACHE; i++)
        c->name_ptr[i] = class_no_name; /* so that no pointer, NULL included, hits an empty entry */
    rcy_type_spec_t ispec = {0};
    ispec.name = name;
    ispec.basicsize = sizeof(rcyi_instance_t);
    ispec.flags = RCY_TPFLAGS_GC;
    ispec.traverse = instance_traverse;
    ispec.clear = instance_clear;
    ispec.dealloc = instance_dealloc;
    ispec.finalize = c->finalize != NULL ? instance_finalize : NULL;
    ispec.legacy_del = c->legacy_del != NULL ? instance_legacy_del : NULL;
    ispec.weaklistoffset = offsetof(rcyi_instance_t, weaklist);
    c->instance_type = rcy_type_new(rt, &ispec);
    if (c->instance_type == NULL) {
        rcy_decref(&c->ob);
        rcyi_set_error(rt, RCY_ENOMEM);
        return NULL;
    }
    c->instance_type->owner = &c->ob;
    c->instance_type->alloc = instance_alloc;
    c->instance_type->size_of = instance_block_size;
    if (ispec.finalize == NULL && ispec.legacy_del == NULL)
        c->instance_type->on_death = instance_on_death;
    return &c->ob;
}

rcy_type_t *rcy_class_instance_type(const rcy_object_t *cls)
{
    if (cls == NULL || !rcyi_is_class(cls))
        return NULL;
    return as_class(cls)->instance_type;
}

/* rcy_instance_new when its fast path cannot serve. */
static RCYI_NOINLINE rcy_object_t *instance_new_general(rcy_object_t *cls)
{
    if (!rcyi_is_class(cls) || as_class(cls)->instance_type == NULL) { /* not one made by rcy_class_new */
        rcyi_set_error(cls->type->rt, RCY_ETYPE);
        return NULL;
    }
    return instance_make(as_class(cls)->instance_type);
}

/* The value slots the fast path of rcy_instance_new fills in. */
#define INSTANCE_QUICK_CAP 8

/* The common case makes no call, so it needs no stack frame: a block from
   the pools' quick path, an allocation that does not reach the collector's
   threshold, a mortal class whose count is below RCY_REFCNT_MAX, at most
   INSTANCE_QUICK_CAP value slots. It does what instance_make does, in the
   same order as far as anything can tell (nothing runs in between), and
   writes every word of the object instead of zeroing its block first;
   anything else goes to instance_new_general. */
rcy_object_t *rcy_instance_new(rcy_object_t *cls)
{
    if (cls == NULL)
        return NULL;
    /* A count from 0 to RCY_REFCNT_MAX - 1: a live, mortal class that
       takes one more reference without overflowing. A freed one (negative)
       is reported by instance_new_general's type check, an immortal one
       served there too. */
    intptr_t r = cls->refcnt;
    if (RCY_UNLIKELY((uintptr_t)r >= (uintptr_t)RCY_REFCNT_MAX || rcy_kind(cls) != RCY_KIND_CLASS))
        return instance_new_general(cls);
    rcyi_class_t *c = as_class(cls);
    rcy_type_t *type = c->instance_type;
    int cap = c->nkeys + c->spare;
    cap = cap < 1 ? 1 : cap; /* values[0] holds the dict once there is one */
    if (RCY_UNLIKELY(type == NULL || cap > INSTANCE_QUICK_CAP))
        return instance_new_general(cls);
    rcy_runtime_t *rt = type->rt;
    size_t bytes = instance_bytes(cap);
    if (RCY_UNLIKELY(rt->pool == NULL || !rcyi_gc_alloc_quiet(rt)))
        return instance_new_general(cls);
    char *mem = rcyi_pool_alloc_quick(rt->pool, rcyi_pool_class(bytes));
    if (RCY_UNLIKELY(mem == NULL))
        return instance_new_general(cls);
    rcyi_instance_t *inst = (rcyi_instance_t *)(void *)(mem + sizeof(rcy_gc_head_t));
    inst->ob.refcnt = 1;
    inst->ob.type = type;
    inst->weaklist = NULL;
    inst->layout = l_empty(cap);
    /* The value slots, by pairs: the block's size is a multiple of 16
       bytes, the values start 16-aligned, so a pair's second slot past
       cap is still inside the block (and no object's). */
    inst->values[0] = NULL;
    inst->values[1] = NULL;
    if (cap > 2) {
        inst->values[2] = NULL;
        inst->values[3] = NULL;
        if (cap > 4) {
            inst->values[4] = NULL;
            inst->values[5] = NULL;
            if (cap > 6) {
                inst->values[6] = NULL;
                inst->values[7] = NULL;
            }
        }
    }
    type->held_objects++;
    type->held_bytes += bytes;
    rt->gens[0].count++;
    rcyi_list_append_new((rcy_gc_head_t *)(void *)mem, &rt->gens[0].head);
    cls->refcnt = r + 1; /* rcy_incref of a mortal count below RCY_REFCNT_MAX */
    if (c->spare > 0)
        c->spare--;
    return &inst->ob;
}

rcy_object_t *rcy_instance_class(const rcy_object_t *inst)
{
    if (inst == NULL || !rcyi_is_instance(inst))
        return NULL;
    return inst->type->owner;
}

rcy_object_t *rcy_instance_dict(rcy_object_t *obj)
{
    if (obj == NULL)
        return NULL;
    if (!rcyi_is_instance(obj)) {
        rcyi_set_error(obj->type->rt, RCY_ETYPE);
        return NULL;
    }
    if (RCY_UNLIKELY(obj->refcnt == 0)) { /* being deallocated: see attr_check */
        rcyi_set_error(obj->type->rt, RCY_ESTATE);
        return NULL;
    }
    if (!(as_instance(obj)->layout & L_DICT)) {
        int err = instance_to_dict(obj, NULL, NULL);
        if (err < 0) {
            rcyi_set_error(obj->type->rt, err);
            return NULL;
        }
    }
    return rcy_newref(as_instance(obj)->values[0]);
}

/* The checks every attribute call makes, in the documented order: 0, or
   the error (already set) to return. */
static int attr_check(rcy_object_t *obj)
{
    if (!rcyi_is_instance(obj) && !rcyi_is_class(obj))
        return rcyi_set_error(obj->type->rt, RCY_ETYPE);
    /* An object being deallocated (reached from code its release runs,
       through a C pointer): its values are being released where they are,
       so a read could return one already freed, and a store would be lost
       or release a value a second time. */
    if (RCY_UNLIKELY(obj->refcnt == 0))
        return rcyi_set_error(obj->type->rt, RCY_ESTATE);
    return 0;
}

/* obj.key = value, key an interned str. */
static int setattr_interned(rcy_object_t *obj, rcy_object_t *key, rcy_object_t *value)
{
    rcy_runtime_t *rt = obj->type->rt;
    int err;
    if (rcyi_is_instance(obj)) {
        err = instance_set(obj, key, value);
    } else {
        rcyi_class_t *c = as_class(obj);
        bool created = false;
        if (c->dict == NULL) {
            rcy_object_t *d = rcy_dict_new(rt); /* may collect, and so run finalizers */
            if (d == NULL)
                return RCY_ENOMEM;
            if (c->dict == NULL) {
                c->dict = d;
                created = true;
            } else {
                rcy_decref(d); /* a finalizer gave the class a dict meanwhile */
            }
        }
        err = rcy_dict_set(c->dict, key, value);
        if (err < 0 && created)
            RCY_CLEAR(c->dict); /* leave the class as it was */
    }
    return err < 0 ? rcyi_set_error(rt, err) : 0;
}

/* obj.s (the text s[0..n), key its interned str or NULL): looks in the
   instance, then in its class. Borrowed, or NULL with RCY_EKEY. */
static rcy_object_t *getattr_text(rcy_object_t *obj, rcy_object_t *key, const char *s, size_t n)
{
    rcy_object_t *v;
    if (rcyi_is_instance(obj)) {
        v = instance_get(obj, key, s, n);
        if (v == NULL) {
            rcyi_class_t *c = class_of(obj);
            if (c->dict != NULL)
                v = rcyi_dict_get_cstr(c->dict, s, n);
        }
    } else {
        rcyi_class_t *c = as_class(obj);
        v = c->dict != NULL ? rcyi_dict_get_cstr(c->dict, s, n) : NULL;
    }
    if (v == NULL)
        rcyi_set_error(obj->type->rt, RCY_EKEY);
    return v;
}

static int delattr_text(rcy_object_t *obj, rcy_object_t *key, const char *s, size_t n)
{
    int err;
    if (rcyi_is_instance(obj)) {
        err = instance_del(obj, key, s, n);
    } else {
        rcyi_class_t *c = as_class(obj);
        err = c->dict != NULL ? rcyi_dict_del_cstr(c->dict, s, n) : RCY_EKEY;
    }
    return err < 0 ? rcyi_set_error(obj->type->rt, err) : 0;
}

/* The runtime's name cache of the char * forms: the interned str whose
   text the caller's name pointer holds, if the cache remembers it (NULL if
   not). Comparing the bytes with the NUL (the str has no NUL before its
   end, or it could not have been cached) proves the text is the same. It
   spares the slow paths the validation, hashing and interning of a name
   the runtime has seen at that pointer (class attributes, an instance
   whose class's cache lost the pointer). */
static inline size_t name_slot(const char *name) { return ((uintptr_t)name >> 3) & 63; }

/* Whether the interned str key, which has no NUL inside (neither cache
   holds such a key), has the text of the C string name: byte by byte up
   to the key's NUL, so that a mismatch stops the loop at name's NUL at
   the latest and nothing past name's end is read. */
/* Whether name's text from byte k on is d's (NUL-terminated, no NUL
   inside), the bytes before k having matched non-NUL bytes of d: a
   mismatch stops at name's NUL at the latest. */
static inline bool text_rest_is(const char *name, const char *d, size_t k)
{
    for (;; k++) {
        if (name[k] != d[k])
            return false;
        if (d[k] == '\0')
            return true;
    }
}

static inline bool key_text_is(const rcy_object_t *key, const char *name)
{
    const char *d = ((const rcyi_str_t *)key)->data;
    /* The first two bytes straight: most names are short. */
    if (name[0] != d[0])
        return false;
    if (d[0] == '\0')
        return true; /* the key's NUL: its text ends, and name's */
    if (name[1] != d[1])
        return false;
    if (d[1] == '\0')
        return true;
    return text_rest_is(name, d, 2);
}

static inline rcy_object_t *name_cached(const rcyi_builtins_t *b, const char *name)
{
    size_t i = name_slot(name);
    rcy_object_t *key = b->name_cache[i].key;
    if (b->name_cache[i].name != name || key == NULL)
        return NULL;
    return key_text_is(key, name) ? key : NULL;
}

static inline void name_remember(rcyi_builtins_t *b, const char *name, rcy_object_t *key)
{
    const rcyi_str_t *s = (const rcyi_str_t *)key;
    if (memchr(s->data, '\0', (size_t)s->ob.size) != NULL)
        return; /* a name with a NUL inside is never a C string's text */
    size_t i = name_slot(name);
    b->name_cache[i].name = name;
    b->name_cache[i].key = key;
}

/* The class's cache of the char * forms (rcyi_class_t.name_ptr): the entry
   of a name pointer, by Fibonacci hashing of its address (string literals
   may lie a byte or two apart, so low bits alone would collide). */
static inline size_t class_slot(const char *name)
{
    uint64_t h = (uint64_t)(uintptr_t)name * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 60) & (RCYI_CLASS_NAME_CACHE - 1);
}

/* Whether c's cache knows the pointer name and the text there is still
   that key's: then *ix is the key's index in c's keys. The bytes are
   compared in order, against the copy in the cache (no load of the key on
   the way) and past it against the key, each only once the ones before
   matched non-NUL bytes of the key (which has no NUL inside), so nothing
   past name's NUL is read. */
FAST_INLINE bool class_cached(const rcyi_class_t *c, const char *name, size_t *ix)
{
    size_t h = class_slot(name);
    if (c->name_ptr[h] != name)
        return false;
    *ix = c->name_ix[h];
    const char *t = c->name_text[h];
    /* The first two bytes straight: most names are short. */
    if (name[0] != t[0])
        return false;
    if (t[0] == '\0')
        return true; /* the key's NUL: its text ends, and name's */
    if (name[1] != t[1])
        return false;
    if (t[1] == '\0')
        return true;
    size_t k = 2;
    for (; k < RCYI_NAME_TEXT; k++) {
        if (name[k] != t[k])
            return false;
        if (t[k] == '\0')
            return true;
    }
    return text_rest_is(name, ((const rcyi_str_t *)c->keys[*ix])->data, k);
}

/* After a slow path found key (interned from the text at name) for the
   instance obj: remembers name -> key's index in its class's cache when
   the class knows key. obj is the caller's (alive, with its class). */
static void class_learn(rcy_object_t *obj, const char *name, rcy_object_t *key)
{
    if (key == NULL || obj->type->traverse != instance_traverse)
        return;
    rcyi_class_t *c = class_of(obj);
    int ix = keys_find(c, key);
    if (ix < 0)
        return;
    const rcyi_str_t *s = (const rcyi_str_t *)key;
    size_t h = class_slot(name), n = (size_t)s->ob.size + 1; /* with its NUL */
    c->name_ptr[h] = name;
    c->name_ix[h] = (uint8_t)ix;
    memcpy(c->name_text[h], s->data, n < RCYI_NAME_TEXT ? n : RCYI_NAME_TEXT);
}

/* ---- The fast paths ----------------------------------------------------

   A live instance without a dict whose class knows the name, whose slot is
   within the instance's capacity and (to store) holds a value already:
   load the slot, or replace its value. Written so that every call they
   make is a tail call (no stack frame, no saved registers): the slow
   paths, and the release of a replaced value that dies. */

/* The freed-object check of every attribute call, and whether obj is an
   instance. */
static inline bool instance_fast(const rcy_object_t *obj)
{
    if (RCY_UNLIKELY(obj->refcnt <= 0)) {
        rcyi_check_live(obj); /* a freed object aborts here */
        return false;         /* one being deallocated: attr_check refuses it */
    }
    return obj->type->traverse == instance_traverse;
}

/* rcy_incref for a fast store: one comparison for an immortal count, two
   for a mortal one (the comparisons of the release below are the other
   way round: each call pays three for a mortal or an immortal value
   replacing its like); false, with nothing done, for a count of
   RCY_REFCNT_MAX (the slow path's rcy_incref saturates it) or a negative
   one (a freed value, which the slow path's freed-object check reports). */
static inline bool incref_fast(rcy_object_t *o)
{
    intptr_t r = o->refcnt;
    if (r > RCY_REFCNT_MAX) /* immortal: nothing to count */
        return true;
    if (RCY_UNLIKELY((uintptr_t)r >= (uintptr_t)RCY_REFCNT_MAX))
        return false;
    o->refcnt = r + 1;
    return true;
}

/* The replaced value's death, out of line so that the fast paths call it
   as a tail call. */
static RCYI_NOINLINE int release_replaced(rcy_object_t *old)
{
    rcy_decref_slow(old);
    return 0;
}

/* rcy_decref of the replaced value old, then 0: one comparison for a
   mortal count above one, two otherwise. */
static inline int decref_then_0(rcy_object_t *old)
{
    intptr_t r = old->refcnt, above = r - 2;
    if (RCY_LIKELY((uintptr_t)above < (uintptr_t)RCY_REFCNT_IMMORTAL - 2)) {
        old->refcnt = r - 1;
        return 0;
    }
    if (above < 0) /* 1: it dies; 0 or negative: a corrupt count (aborts) */
        return release_replaced(old);
    return 0; /* immortal */
}

/* Whether obj (an instance) is compact and ix one of its slots: one
   comparison with the top bits of the layout word (COMPACT and the
   capacity). */
static inline bool compact_has(const rcy_object_t *obj, size_t ix)
{
    return ix + 32 < as_instance(obj)->layout >> L_CAP_SHIFT;
}

int rcy_setattr(rcy_object_t *obj, const char *name, rcy_object_t *value)
{
    if (RCY_UNLIKELY(obj == NULL))
        return RCY_EINVAL;
    /* A NULL name misses the class's cache: the slow path refuses it. */
    if (RCY_UNLIKELY(value == NULL) || !instance_fast(obj) || !rcyi_same_runtime(value, obj->type->rt))
        return setattr_slow(obj, name, value);
    size_t ix;
    if (RCY_UNLIKELY(!class_cached(class_of(obj), name, &ix)) || RCY_UNLIKELY(!compact_has(obj, ix)))
        return setattr_slow(obj, name, value);
    rcy_object_t **slot = &as_instance(obj)->values[ix];
    rcy_object_t *old = *slot;
    if (RCY_UNLIKELY(old == NULL) || RCY_UNLIKELY(!incref_fast(value)))
        return setattr_slow(obj, name, value);
    *slot = value;
    return decref_then_0(old);
}

static int setattr_slow(rcy_object_t *obj, const char *name, rcy_object_t *value)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL || value == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    rcyi_check_live(value); /* the fast path sends a freed value here */
    /* A name the runtime's cache knows has valid text, interned already. */
    rcy_object_t *key = name_cached(rt->builtins, name);
    size_t n = 0;
    if (key == NULL) {
        n = strlen(name);
        if (!rcyi_utf8_valid(name, n))
            return rcyi_set_error(rt, RCY_EINVAL);
    }
    int err = attr_check(obj);
    if (err < 0)
        return err;
    if (!rcyi_same_runtime(value, rt))
        return rcyi_set_error(rt, RCY_ERUNTIME);
    if (key == NULL) {
        key = rcyi_str_intern(rt, name, n, rcyi_str_hash_bytes(name, n));
        if (key == NULL)
            return RCY_ENOMEM;
        name_remember(rt->builtins, name, key);
    }
    err = setattr_interned(obj, key, value);
    if (err == 0)
        class_learn(obj, name, key);
    return err;
}

/* The fast path of rcy_getattr: the value (borrowed), or NULL when the
   fast path does not apply (nothing recorded). obj is not NULL. */
FAST_INLINE rcy_object_t *getattr_fast(rcy_object_t *obj, const char *name)
{
    if (!instance_fast(obj)) /* a NULL name misses the class's cache */
        return NULL;
    size_t ix;
    if (RCY_UNLIKELY(!class_cached(class_of(obj), name, &ix)) || RCY_UNLIKELY(!compact_has(obj, ix)))
        return NULL;
    return as_instance(obj)->values[ix];
}

rcy_object_t *rcy_getattr(rcy_object_t *obj, const char *name)
{
    if (RCY_UNLIKELY(obj == NULL))
        return NULL;
    rcy_object_t *v = getattr_fast(obj, name);
    if (RCY_UNLIKELY(v == NULL))
        return getattr_slow(obj, name);
    return v;
}

rcy_object_t *rcyi_getattr_fast(rcy_object_t *obj, const char *name) { return getattr_fast(obj, name); }

/* rcy_getattr_ref (the rest is in access.c with the other getters of new
   references): found by the fast path, nothing is recorded, so there is no
   last error to put back. */
int rcy_getattr_ref(rcy_object_t *obj, const char *name, rcy_object_t **out)
{
    if (RCY_LIKELY(obj != NULL) && RCY_LIKELY(out != NULL)) {
        rcy_object_t *v = getattr_fast(obj, name);
        if (RCY_LIKELY(v != NULL) && RCY_LIKELY(incref_fast(v))) {
            *out = v;
            return 1;
        }
    }
    return rcyi_getattr_ref_slow(obj, name, out);
}

static rcy_object_t *getattr_slow(rcy_object_t *obj, const char *name)
{
    if (obj == NULL)
        return NULL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    if (attr_check(obj) < 0)
        return NULL;
    rcy_object_t *key = name_cached(rt->builtins, name);
    size_t n;
    if (key != NULL) {
        n = (size_t)((const rcyi_str_t *)key)->ob.size;
    } else {
        n = strlen(name);
        key = rcyi_str_intern_find(rt, name, n, rcyi_str_hash_bytes(name, n));
        if (key != NULL)
            name_remember(rt->builtins, name, key);
    }
    class_learn(obj, name, key);
    return getattr_text(obj, key, name, n);
}

int rcy_delattr(rcy_object_t *obj, const char *name)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    int err = attr_check(obj);
    if (err < 0)
        return err;
    size_t n = strlen(name);
    rcy_object_t *key = rcyi_str_intern_find(rt, name, n, rcyi_str_hash_bytes(name, n));
    return delattr_text(obj, key, name, n);
}

/* The str-object forms. The name's interned str: name itself when it is
   one of the class's shared keys (an interned name, the common case: one
   scan, no hashing), else the one found by text (NULL: never interned). */
static rcy_object_t *name_key(rcy_object_t *obj, rcy_object_t *name)
{
    if (rcyi_is_instance(obj) && keys_find(class_of(obj), name) >= 0)
        return name;
    const rcyi_str_t *s = (const rcyi_str_t *)name;
    return rcyi_str_intern_find(obj->type->rt, s->data, (size_t)s->ob.size, rcyi_str_hash(name));
}

/* The fast paths of the str forms need no check of name: finding it among
   the class's keys (by pointer) proves it an interned str of obj's
   runtime, immortal and so never freed. */
int rcy_setattr_str(rcy_object_t *obj, rcy_object_t *name, rcy_object_t *value)
{
    if (RCY_UNLIKELY(obj == NULL))
        return RCY_EINVAL;
    /* A NULL name is no key of the class: the slow path refuses it. */
    if (RCY_UNLIKELY(value == NULL) || !instance_fast(obj) || !rcyi_same_runtime(value, obj->type->rt))
        return setattr_str_slow(obj, name, value);
    int ix = keys_find(class_of(obj), name);
    if (RCY_UNLIKELY(ix < 0) || RCY_UNLIKELY(!compact_has(obj, (size_t)ix)))
        return setattr_str_slow(obj, name, value);
    rcy_object_t **slot = &as_instance(obj)->values[ix];
    rcy_object_t *old = *slot;
    if (RCY_UNLIKELY(old == NULL) || RCY_UNLIKELY(!incref_fast(value)))
        return setattr_str_slow(obj, name, value);
    *slot = value;
    return decref_then_0(old);
}

static int setattr_str_slow(rcy_object_t *obj, rcy_object_t *name, rcy_object_t *value)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL || value == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    rcyi_check_live(value); /* the fast path sends a freed value here */
    if (!rcyi_is_str(name))
        return rcyi_set_error(rt, RCY_ETYPE);
    int err = attr_check(obj);
    if (err < 0)
        return err;
    if (!rcyi_same_runtime(name, rt) || !rcyi_same_runtime(value, rt))
        return rcyi_set_error(rt, RCY_ERUNTIME);
    rcy_object_t *key = rcyi_is_instance(obj) && keys_find(class_of(obj), name) >= 0 ? name : rcyi_str_intern_obj(name);
    if (key == NULL)
        return RCY_ENOMEM;
    return setattr_interned(obj, key, value);
}

rcy_object_t *rcy_getattr_str(rcy_object_t *obj, rcy_object_t *name)
{
    if (RCY_UNLIKELY(obj == NULL))
        return NULL;
    if (!instance_fast(obj)) /* a NULL name is no key: the slow path refuses it */
        return getattr_str_slow(obj, name);
    int ix = keys_find(class_of(obj), name);
    if (RCY_UNLIKELY(ix < 0) || RCY_UNLIKELY(!compact_has(obj, (size_t)ix)))
        return getattr_str_slow(obj, name);
    rcy_object_t *v = as_instance(obj)->values[ix];
    if (RCY_UNLIKELY(v == NULL))
        return getattr_str_slow(obj, name);
    return v;
}

static rcy_object_t *getattr_str_slow(rcy_object_t *obj, rcy_object_t *name)
{
    if (obj == NULL)
        return NULL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    if (!rcyi_is_str(name)) {
        rcyi_set_error(rt, RCY_ETYPE);
        return NULL;
    }
    if (attr_check(obj) < 0)
        return NULL;
    if (!rcyi_same_runtime(name, rt)) { /* equals no name of obj's */
        rcyi_set_error(rt, RCY_EKEY);
        return NULL;
    }
    const rcyi_str_t *s = (const rcyi_str_t *)name;
    return getattr_text(obj, name_key(obj, name), s->data, (size_t)s->ob.size);
}

int rcy_delattr_str(rcy_object_t *obj, rcy_object_t *name)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    if (!rcyi_is_str(name))
        return rcyi_set_error(rt, RCY_ETYPE);
    int err = attr_check(obj);
    if (err < 0)
        return err;
    if (!rcyi_same_runtime(name, rt))
        return rcyi_set_error(rt, RCY_EKEY);
    const rcyi_str_t *s = (const rcyi_str_t *)name;
    return delattr_text(obj, name_key(obj, name), s->data, (size_t)s->ob.size);
}
