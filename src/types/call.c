/*
 * The built-in callables: C functions (CPython's builtin_function_or_method),
 * which wrap a C function and an optional bound object, traversed so that a
 * cycle through a callback's captured state is collected, and the call slot
 * of weak references. rcy_call itself is object.c's (it is a slot call).
 */
#include "types.h"

#include <stdio.h>

/* ---- C functions ----------------------------------------------------- */

typedef struct rcyi_cfunction_s {
    rcy_object_t ob;
    rcy_cfunction_fn fn;
    rcy_object_t *self; /* strong, may be NULL */
    rcy_object_t *weaklist;
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

static int cfunction_describe(rcy_object_t *o, char *buf, size_t size)
{
    rcyi_cfunction_t *cf = (rcyi_cfunction_t *)o;
    if (cf->self == NULL)
        return snprintf(buf, size, "<built-in function at %p>", (void *)o);
    return snprintf(buf, size, "<built-in method of %s object at %p>", cf->self->type->name, (void *)cf->self);
}

int rcyi_init_cfunction_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "builtin_function_or_method";
    spec.basicsize = sizeof(rcyi_cfunction_t);
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
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (fn == NULL) {
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
    rcyi_cfunction_t *cf = (rcyi_cfunction_t *)rcy_new(rt->builtins->cfunction_type);
    if (cf == NULL)
        return NULL;
    cf->fn = fn;
    cf->self = rcy_xnewref(self); /* self is the caller's: alive across the allocation */
    return &cf->ob;
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
