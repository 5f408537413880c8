/*
 * The built-in callables: C functions (CPython's builtin_function_or_method),
 * which wrap a C function and an optional bound object, traversed so that a
 * cycle through a callback's captured state is collected, and the call slot
 * of weak references. rcy_call itself is object.c's (it is a slot call).
 */
#include "types.h"

#include <stdio.h>
#include <string.h>

/* ---- C functions ----------------------------------------------------- */

typedef struct rcyi_cfunction_s {
    rcy_varobject_t ob; /* size: the bytes of name, its NUL included (0: unnamed) */
    rcy_cfunction_fn fn;
    rcy_object_t *self; /* strong, may be NULL */
    rcy_object_t *weaklist;
    char name[]; /* CPython's __name__, copied */
} rcyi_cfunction_t;

static int cfunction_traverse(rcy_object_t *o, rcy_visit_fn visit, void *arg)
{
    RCY_VISIT(((rcyi_cfunction_t *)o)->self);
    return 0;
}

static int cfunction_clear(rcy_object_t *o)
{
    RCY_CLEAR(((rcyi_cfunction_t *)o)->self);
    return 0;
}

static rcy_object_t *cfunction_call(rcy_object_t *o, rcy_object_t *const *args, size_t nargs)
{
    rcyi_cfunction_t *cf = (rcyi_cfunction_t *)o;
    return cf->fn(cf->self, args, nargs);
}

/* CPython's repr of a builtin_function_or_method ("<built-in function
   len>", "<built-in method append of list object at 0x...>"); an unnamed
   function is told apart by its own address. */
static int cfunction_describe(rcy_object_t *o, char *buf, size_t size)
{
    rcyi_cfunction_t *cf = (rcyi_cfunction_t *)o;
    bool named = cf->ob.size > 0;
    if (cf->self == NULL)
        return named ? snprintf(buf, size, "<built-in function %s>", cf->name)
                     : snprintf(buf, size, "<built-in function at %p>", (void *)o);
    if (named)
        return snprintf(buf, size, "<built-in method %s of %s object at %p>", cf->name, cf->self->type->name,
                        (void *)cf->self);
    return snprintf(buf, size, "<built-in method of %s object at %p>", cf->self->type->name, (void *)cf->self);
}

int rcyi_init_cfunction_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "builtin_function_or_method";
    spec.basicsize = sizeof(rcyi_cfunction_t);
    spec.itemsize = 1; /* the name's bytes */
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = cfunction_traverse;
    spec.clear = cfunction_clear;
    spec.describe = cfunction_describe;
    spec.call = cfunction_call;
    spec.weaklistoffset = offsetof(rcyi_cfunction_t, weaklist);
    b->cfunction_type = rcy_type_new(rt, &spec);
    return b->cfunction_type != NULL ? 0 : RCY_ENOMEM;
}

rcy_object_t *rcy_cfunction_new(rcy_runtime_t *rt, rcy_cfunction_fn fn, rcy_object_t *self)
{
    return rcy_cfunction_new_named(rt, NULL, fn, self);
}

rcy_object_t *rcy_cfunction_new_named(rcy_runtime_t *rt, const char *name, rcy_cfunction_fn fn, rcy_object_t *self)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    size_t len = name != NULL ? strlen(name) : 0;
    if (fn == NULL || (name != NULL && (!rcyi_name_valid(name) || len >= INTPTR_MAX))) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    if (self != NULL) {
        rcyi_check_live(self);
        if (!rcyi_same_runtime(self, rt)) {
            rcyi_set_error(rt, RCY_ERUNTIME);
            return NULL;
        }
    }
    intptr_t size = name != NULL ? (intptr_t)len + 1 : 0;
    rcyi_cfunction_t *cf = (rcyi_cfunction_t *)rcy_new_var(rt->builtins->cfunction_type, size);
    if (cf == NULL)
        return NULL;
    cf->fn = fn;
    cf->self = rcy_xnewref(self); /* self and name are the caller's: alive across the allocation */
    if (size > 0)
        memcpy(cf->name, name, (size_t)size);
    return &cf->ob.ob;
}

const char *rcy_cfunction_name(const rcy_object_t *o)
{
    if (o == NULL)
        return NULL;
    rcyi_check_live(o);
    if (o->type != rcyi_builtins(o)->cfunction_type)
        return NULL;
    const rcyi_cfunction_t *cf = (const rcyi_cfunction_t *)o;
    return cf->ob.size > 0 ? cf->name : NULL;
}

rcy_object_t *rcy_cfunction_self(const rcy_object_t *o)
{
    if (o == NULL)
        return NULL;
    rcyi_check_live(o);
    if (o->type != rcyi_builtins(o)->cfunction_type)
        return NULL;
    return ((const rcyi_cfunction_t *)o)->self;
}

/* ---- Calling a weak reference ---------------------------------------- */

/* The weakref type's call slot (rcy_runtime_new sets it once the built-in
   types exist): wr() gives the referent, or None once it is gone
   (weakref.__call__); a finalize registration's call runs it now
   (finalize.__call__) and gives None. */
rcy_object_t *rcyi_weakref_call(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    (void)args;
    rcy_runtime_t *rt = self->type->rt;
    if (nargs != 0) {
        rcyi_set_error(rt, RCY_EINVAL); /* TypeError: takes no arguments */
        return NULL;
    }
    if (rcy_finalize_call(self) != RCY_EINVAL)
        return rcy_none(rt); /* a registration: run (or already dead) */
    rcy_object_t *o = rcy_weakref_get(self);
    return o != NULL ? o : rcy_none(rt);
}

rcy_cfunction_fn rcy_cfunction_function(const rcy_object_t *o)
{
    if (o == NULL)
        return NULL;
    rcyi_check_live(o);
    if (o->type != rcyi_builtins(o)->cfunction_type)
        return NULL;
    return ((const rcyi_cfunction_t *)o)->fn;
}
