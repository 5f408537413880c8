/*
 * Classes made at run time, and their instances. A class is an object of
 * type "type" holding class attributes; it owns a type of its own, named
 * after the class, for its instances, whose finalize (or legacy_del) slot
 * is set only when the class has such a finalizer: a trampoline that calls
 * the class's C function. Instances hold a reference to their class and
 * their attributes in a private, untracked dict created on the first
 * rcy_setattr (see instance_traverse).
 */
#include "types.h"
#include "lifecycle.h"

#include <string.h>

static inline rcyi_class_t *as_class(const rcy_object_t *o) { return (rcyi_class_t *)(uintptr_t)o; }
static inline rcyi_instance_t *as_instance(const rcy_object_t *o) { return (rcyi_instance_t *)(uintptr_t)o; }

/* ---- Class objects --------------------------------------------------- */

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

int rcyi_init_class_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "type";
    spec.basicsize = sizeof(rcyi_class_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = class_traverse;
    spec.clear = class_clear;
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

/* An instance's attribute dict is private and untracked: the instance
   reports the attributes as its own references (each labelled with its
   name), so an instance is one object for the collector, as in CPython
   3.11+, where attributes live inline until __dict__ is asked for. */
static int instance_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    rcyi_instance_t *inst = as_instance(self);
    RCY_VISIT_NAMED(inst->cls, "__class__");
    if (inst->dict != NULL)
        return inst->dict->type->traverse(inst->dict, visit, arg);
    return 0;
}

/* Breaks cycles through the attributes; the class reference stays until
   deallocation (as CPython keeps ob_type), so a cleared instance still
   knows its class. */
static int instance_clear(rcy_object_t *self)
{
    RCY_CLEAR(as_instance(self)->dict);
    return 0;
}

static void instance_dealloc(rcy_object_t *self)
{
    rcyi_instance_t *inst = as_instance(self);
    RCY_CLEAR(inst->dict);
    RCY_CLEAR(inst->cls);
}

static int instance_finalize(rcy_object_t *self)
{
    rcyi_class_t *c = as_class(as_instance(self)->cls);
    return c != NULL && c->finalize != NULL ? c->finalize(self, c->arg) : 0;
}

static int instance_legacy_del(rcy_object_t *self)
{
    rcyi_class_t *c = as_class(as_instance(self)->cls);
    return c != NULL && c->legacy_del != NULL ? c->legacy_del(self, c->arg) : 0;
}

static size_t instance_block_size(const rcy_object_t *o)
{
    (void)o;
    return sizeof(rcy_gc_head_t) + sizeof(rcyi_instance_t);
}

static const rcyi_death_t instance_death = {instance_dealloc, NULL, instance_block_size, true, true};

/* The on_death slot of the instances of a class without finalizers:
   lifecycle.h's steps with instance_dealloc inlined. */
static void instance_on_death(rcy_object_t *self)
{
    rcyi_dealloc_with(self, &instance_death);
}

bool rcyi_is_instance(const rcy_object_t *o)
{
    rcyi_check_live(o);
    return o->type->traverse == instance_traverse;
}

/* ---- The public API ---------------------------------------------------- */

rcy_object_t *rcy_class_new(rcy_runtime_t *rt, const char *name, const rcy_class_spec_t *spec)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    if (!rcyi_name_valid(name) ||
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

rcy_object_t *rcy_instance_new(rcy_object_t *cls)
{
    if (cls == NULL)
        return NULL;
    if (!rcyi_is_class(cls) || as_class(cls)->instance_type == NULL) { /* not one made by rcy_class_new */
        rcyi_set_error(cls->type->rt, RCY_ETYPE);
        return NULL;
    }
    rcyi_instance_t *inst = (rcyi_instance_t *)rcyi_object_new_sized(
        as_class(cls)->instance_type, sizeof(rcy_gc_head_t) + sizeof(rcyi_instance_t));
    if (inst == NULL)
        return NULL;
    inst->cls = rcy_newref(cls);
    return &inst->ob;
}

rcy_object_t *rcy_instance_class(const rcy_object_t *inst)
{
    if (inst == NULL || !rcyi_is_instance(inst))
        return NULL;
    return as_instance(inst)->cls;
}

/* The attribute dict slot of obj, or NULL (RCY_ETYPE) if it has none. */
static rcy_object_t **dict_slot(rcy_object_t *obj)
{
    if (rcyi_is_instance(obj))
        return &as_instance(obj)->dict;
    if (rcyi_is_class(obj))
        return &as_class(obj)->dict;
    return NULL;
}

int rcy_setattr(rcy_object_t *obj, const char *name, rcy_object_t *value)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL || value == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    size_t n = strlen(name);
    if (!rcyi_utf8_valid(name, n))
        return rcyi_set_error(rt, RCY_EINVAL);
    rcy_object_t **slot = dict_slot(obj);
    if (slot == NULL)
        return rcyi_set_error(rt, RCY_ETYPE);
    if (!rcyi_same_runtime(value, rt))
        return rcyi_set_error(rt, RCY_ERUNTIME);
    bool created = false;
    if (*slot == NULL) {
        rcy_object_t *d = rcy_dict_new(rt); /* may collect, and so run finalizers */
        if (d == NULL)
            return RCY_ENOMEM;
        if (*slot == NULL) {
            if (rcyi_is_instance(obj))
                rcy_gc_untrack(d); /* private to the instance (see instance_traverse) */
            *slot = d;
            created = true;
        } else {
            rcy_decref(d); /* a finalizer gave obj a dict meanwhile */
        }
    }
    int err = rcyi_dict_set_cstr(*slot, name, n, value);
    if (err < 0 && created)
        RCY_CLEAR(*slot); /* leave obj as it was */
    return err < 0 ? rcyi_set_error(rt, err) : 0;
}

rcy_object_t *rcy_getattr(rcy_object_t *obj, const char *name)
{
    if (obj == NULL)
        return NULL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcy_object_t **slot = dict_slot(obj);
    if (slot == NULL) {
        rcyi_set_error(rt, RCY_ETYPE);
        return NULL;
    }
    size_t n = strlen(name);
    rcy_object_t *v = *slot != NULL ? rcyi_dict_get_cstr(*slot, name, n) : NULL;
    if (v == NULL && rcyi_is_instance(obj)) {
        rcyi_class_t *c = as_class(as_instance(obj)->cls);
        if (c != NULL && c->dict != NULL)
            v = rcyi_dict_get_cstr(c->dict, name, n);
    }
    if (v == NULL)
        rcyi_set_error(rt, RCY_EKEY);
    return v;
}

int rcy_delattr(rcy_object_t *obj, const char *name)
{
    if (obj == NULL)
        return RCY_EINVAL;
    rcy_runtime_t *rt = obj->type->rt;
    if (name == NULL)
        return rcyi_set_error(rt, RCY_EINVAL);
    rcy_object_t **slot = dict_slot(obj);
    if (slot == NULL)
        return rcyi_set_error(rt, RCY_ETYPE);
    if (*slot == NULL)
        return rcyi_set_error(rt, RCY_EKEY);
    int err = rcyi_dict_del_cstr(*slot, name, strlen(name));
    return err < 0 ? rcyi_set_error(rt, err) : 0;
}
