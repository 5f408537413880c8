/*
 * Weak references with callbacks, and finalize registrations (in the
 * manner of weakref.finalize), cleared and called under CPython's rules:
 *
 * - Refcount death (PyObject_ClearWeakRefs): all weak references to the
 *   object are cleared first, then the callbacks run, newest first.
 * - Cyclic garbage (gc.c step 8, handle_weakrefs): every weak reference to
 *   an unreachable object, and every weak reference that is itself
 *   unreachable, is cleared before any finalizer runs; a callback runs only
 *   if the weak reference is not part of the garbage. After finalizers and
 *   resurrection, weak references that finalizers created to the final
 *   garbage are cleared too, without callbacks (GH-91636), so no callback
 *   can see a cleared object.
 *
 * The referent holds the head of a doubly linked list of its weak
 * references at its type's weaklistoffset. Callback-less references come
 * first (at most one, shared), then the others, newest first, so walking
 * the list from the head gives CPython's callback order.
 */
#include "internal.h"
#include "lifecycle.h"

#include <string.h>

typedef struct rcyi_weakref_s {
    rcy_object_t ob;
    rcy_object_t *referent; /* borrowed; NULL once cleared */
    rcy_weakref_callback_fn callback;
    void *arg;
    /* A callable object instead of the C callback (strong, traversed), and
       for a registration the arguments it is called with (a tuple or NULL). */
    rcy_object_t *callable;
    rcy_object_t **call_args; /* private array of n_call_args references */
    size_t n_call_args;
    /* Called once with the C form's arg (or fin_arg) when the weak
       reference or registration lets go of it (_ex calls), else NULL. */
    rcy_release_fn release;
    struct rcyi_weakref_s *prev, *next; /* in the referent's list */
    struct rcyi_weakref_s *pending;     /* chain of callbacks to call */
    rcy_object_t *key; /* strong; weak maps' entry key (CPython's KeyedRef) */
    /* Finalize registrations only. */
    bool is_finalizer;
    bool registered; /* in the runtime's registry, which holds a reference */
    bool atexit;
    rcy_finalize_callback_fn fin_fn;
    void *fin_arg;
    struct rcyi_weakref_s *reg_prev, *reg_next;
} rcyi_weakref_t;

/* Also the freed-object check of the functions taking a weak reference or
   a finalize registration. */
static inline bool is_weakref(const rcy_object_t *o)
{
    if (o == NULL)
        return false;
    rcyi_check_live(o);
    return o->type == o->type->rt->weakref_type;
}
static inline rcyi_weakref_t *as_wr(rcy_object_t *o) { return (rcyi_weakref_t *)o; }

/* ---- Referent lists -------------------------------------------------- */

/* Unlinks wr from its referent's list and forgets the referent; the
   callback is kept (_PyWeakref_ClearRef). */
static void clear_ref(rcyi_weakref_t *wr)
{
    if (wr->referent == NULL)
        return;
    rcyi_weakref_t **head = rcyi_weaklist(wr->referent);
    if (wr->prev != NULL)
        wr->prev->next = wr->next;
    else
        *head = wr->next;
    if (wr->next != NULL)
        wr->next->prev = wr->prev;
    wr->prev = wr->next = NULL;
    wr->referent = NULL;
}

static void insert_after(rcyi_weakref_t **head, rcyi_weakref_t *after, rcyi_weakref_t *wr)
{
    wr->prev = after;
    wr->next = after ? after->next : *head;
    if (wr->next != NULL)
        wr->next->prev = wr;
    if (after != NULL)
        after->next = wr;
    else
        *head = wr;
}

static bool is_basic(const rcyi_weakref_t *wr)
{
    return wr->callback == NULL && wr->callable == NULL && !wr->is_finalizer;
}

/* ---- The weakref type ------------------------------------------------ */

static void registry_unlink(rcy_runtime_t *rt, rcyi_weakref_t *wr)
{
    if (wr->reg_prev)
        wr->reg_prev->reg_next = wr->reg_next;
    else
        rt->registry_head = wr->reg_next;
    if (wr->reg_next)
        wr->reg_next->reg_prev = wr->reg_prev;
    else
        rt->registry_tail = wr->reg_prev;
    wr->reg_prev = wr->reg_next = NULL;
    wr->registered = false;
}

static int weakref_traverse(rcy_object_t *self, rcy_visit_fn visit, void *arg)
{
    /* A weak reference owns no strong reference to its referent, only a
       weak map's key and a callable callback (with a registration's
       arguments): the collector sees what a callback holds, so a cycle
       through it is collected, as CPython's weakref traverses
       wr_callback. It is a container also so that the collector can tell
       when it is garbage. */
    rcyi_weakref_t *wr = as_wr(self);
    RCY_VISIT(wr->key);
    RCY_VISIT(wr->callable);
    for (size_t i = 0; i < wr->n_call_args; i++)
        RCY_VISIT_ITEM(wr->call_args[i], i);
    return 0;
}

/* Lets go of the C form's arg: its release hook (user code, in a
   callback frame, the pending error kept aside) runs once. */
static void release_arg(rcyi_weakref_t *wr)
{
    rcy_release_fn fn = wr->release;
    if (fn == NULL)
        return;
    wr->release = NULL;
    void *arg = wr->is_finalizer ? wr->fin_arg : wr->arg;
    rcy_runtime_t *rt = wr->ob.type->rt;
    rcyi_errsave_t es;
    rcyi_err_save(rt, &es);
    rcyi_running_t f;
    rcyi_enter(rt, &f, "a release hook", &wr->ob);
    fn(arg);
    rcyi_leave(rt, &f);
    rcyi_err_restore(rt, &es);
}

/* Releases a registration's arguments taken out of it, last first. */
static void release_args(rcy_runtime_t *rt, rcy_object_t **args, size_t n)
{
    for (size_t i = n; i-- > 0;)
        rcy_decref(args[i]);
    rcyi_free(rt, args);
}

static int weakref_clear(rcy_object_t *self)
{
    rcyi_weakref_t *wr = as_wr(self);
    clear_ref(wr);
    release_arg(wr);
    wr->callback = NULL;
    RCY_CLEAR(wr->key);
    RCY_CLEAR(wr->callable);
    rcy_object_t **args = wr->call_args;
    size_t n = wr->n_call_args;
    wr->call_args = NULL;
    wr->n_call_args = 0;
    release_args(self->type->rt, args, n);
    return 0;
}

static int weakref_describe(rcy_object_t *self, char *buf, size_t size)
{
    rcyi_weakref_t *wr = as_wr(self);
    const char *kind = wr->is_finalizer ? "finalize" : "weakref";
    if (wr->referent == NULL)
        return snprintf(buf, size, "<%s at %p; dead>", kind, (void *)self);
    return snprintf(buf, size, "<%s at %p; to '%s' at %p>", kind, (void *)self, wr->referent->type->name,
                    (void *)wr->referent);
}

int rcyi_weakref_init(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.name = "weakref";
    spec.basicsize = sizeof(rcyi_weakref_t);
    spec.flags = RCY_TPFLAGS_GC;
    spec.traverse = weakref_traverse;
    spec.clear = weakref_clear;
    spec.describe = weakref_describe;
    rt->weakref_type = rcy_type_new(rt, &spec);
    return rt->weakref_type ? 0 : RCY_ENOMEM;
}

static rcyi_weakref_t *weakref_alloc(rcy_object_t *obj)
{
    if (obj == NULL)
        return NULL;
    rcy_runtime_t *rt = obj->type->rt;
    if (rcyi_weaklist(obj) == NULL) {
        rcyi_set_error(rt, RCY_ETYPE);
        return NULL;
    }
    return (rcyi_weakref_t *)rcy_new(rt->weakref_type);
}

/* A weak reference to obj with a C callback, a callable one, or none. */
static rcy_object_t *weakref_new(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg,
                                 rcy_object_t *callable)
{
    if (obj == NULL)
        return NULL;
    rcyi_check_live(obj); /* a freed object's weak-reference list is gone */
    rcyi_weakref_t **head = rcyi_weaklist(obj);
    if (head == NULL) {
        rcyi_set_error(obj->type->rt, RCY_ETYPE);
        return NULL;
    }
    if (callable != NULL) {
        rcyi_check_live(callable);
        if (!rcyi_same_runtime(callable, obj->type->rt)) {
            rcyi_set_error(obj->type->rt, RCY_ERUNTIME);
            return NULL;
        }
    }
    bool basic = callback == NULL && callable == NULL;
    if (basic && *head != NULL && is_basic(*head))
        return rcy_newref(&(*head)->ob);
    rcyi_weakref_t *wr = weakref_alloc(obj);
    if (wr == NULL)
        return NULL;
    wr->referent = obj;
    wr->callback = callback;
    wr->arg = arg;
    wr->callable = rcy_xnewref(callable); /* the caller's: alive across the allocation */
    if (basic) {
        /* The allocation may have run a collection that created a basic
           reference; keep only one. */
        if (*head != NULL && is_basic(*head)) {
            rcy_object_t *existing = rcy_newref(&(*head)->ob);
            wr->referent = NULL;
            rcy_decref(&wr->ob);
            return existing;
        }
        insert_after(head, NULL, wr);
    } else {
        insert_after(head, (*head != NULL && is_basic(*head)) ? *head : NULL, wr);
    }
    return &wr->ob;
}

rcy_object_t *rcy_weakref_new(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg)
{
    return weakref_new(obj, callback, arg, NULL);
}

rcy_object_t *rcy_weakref_new_ex(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg,
                                 rcy_release_fn release)
{
    if (obj != NULL && callback == NULL && release != NULL) {
        rcyi_set_error(obj->type->rt, RCY_EINVAL); /* a hook with nothing to release */
        return NULL;
    }
    rcy_object_t *wr = weakref_new(obj, callback, arg, NULL);
    if (wr != NULL)
        as_wr(wr)->release = release;
    return wr;
}

rcy_object_t *rcy_weakref_new_callable(rcy_object_t *obj, rcy_object_t *callable)
{
    if (obj != NULL && callable == NULL) {
        rcyi_set_error(obj->type->rt, RCY_EINVAL);
        return NULL;
    }
    return weakref_new(obj, NULL, NULL, callable);
}

rcy_object_t *rcyi_weakref_new_keyed(rcy_object_t *obj, rcy_weakref_callback_fn callback, void *arg,
                                     rcy_object_t *key)
{
    if (obj != NULL && !rcyi_same_runtime(key, obj->type->rt)) {
        rcyi_set_error(obj->type->rt, RCY_ERUNTIME);
        return NULL;
    }
    rcy_object_t *wr = rcy_weakref_new(obj, callback, arg);
    if (wr != NULL)
        as_wr(wr)->key = rcy_newref(key);
    return wr;
}

rcy_object_t *rcyi_weakref_key(rcy_object_t *wr) { return as_wr(wr)->key; }

void rcyi_weakref_drop_callback(rcy_object_t *wr) { as_wr(wr)->callback = NULL; }

rcy_object_t *rcyi_weakref_referent(rcy_object_t *wr) { return as_wr(wr)->referent; }

/* The referent of wr, or NULL: cleared, or dying with its weak references
   still set, which happens only while the trashcan holds its whole death
   (count 0, before its finalizer, which may yet resurrect it: then it is
   back). CPython's PyWeakref_GET_OBJECT checks the count alike; handing
   the object out would revive it on the trash list. */
static rcy_object_t *live_referent(const rcyi_weakref_t *wr)
{
    rcy_object_t *o = wr->referent;
    return o != NULL && o->refcnt > 0 ? o : NULL;
}

rcy_object_t *rcy_weakref_get(rcy_object_t *wr)
{
    if (!is_weakref(wr))
        return NULL;
    rcy_object_t *o = live_referent(as_wr(wr));
    return o != NULL ? rcy_newref(o) : NULL;
}

int rcy_weakref_is_alive(const rcy_object_t *wr)
{
    return is_weakref(wr) && live_referent((const rcyi_weakref_t *)wr) != NULL;
}

int rcy_is_weakref(const rcy_object_t *o) { return is_weakref(o); }

size_t rcy_weakref_count(const rcy_object_t *obj)
{
    if (obj == NULL)
        return 0;
    rcyi_check_live(obj);
    if (rcyi_weaklist(obj) == NULL)
        return 0;
    size_t n = 0;
    for (rcyi_weakref_t *wr = *rcyi_weaklist(obj); wr != NULL; wr = wr->next)
        n++;
    return n;
}

/* ---- Calling callbacks ----------------------------------------------- */

/* Called before the pending error is restored: the callback's message
   (rcy_error_set) goes with the report. */
static void report_callback_error(rcyi_weakref_t *wr, const char *what)
{
    char desc[160];
    rcy_runtime_t *rt = wr->ob.type->rt;
    rcy_describe(&wr->ob, desc, sizeof desc);
    const char *detail = rcyi_error_detail(rt);
    rcyi_report_error(rt, "Exception ignored %s: %s%s%s", what, desc, detail ? ": " : "", detail ? detail : "");
}

/* Calls a callable callback with nargs arguments; false when it failed
   (returned NULL). The result is released. */
static bool call_object(rcy_object_t *callable, rcy_object_t *const *args, size_t nargs)
{
    rcy_object_t *res = rcy_call(callable, args, nargs);
    if (res == NULL)
        return false;
    rcy_decref(res);
    return true;
}

/* Calls wr's callback (wr is cleared; the caller holds a reference). Once
   teardown stopped the finalizers that kept making garbage (teardown_cut),
   no callback runs either: a registration is dropped unrun. A callable
   callback is held for the call; on a refcount death (drop) the weak
   reference lets go of it first, as CPython's PyObject_ClearWeakRefs
   (clear_weakref) does, while in a collection it keeps it until it dies
   itself (handle_weakrefs). A registration always lets go of its callable
   and arguments (finalize.__call__ pops them from the registry). */
static void call_callback_inner(rcyi_weakref_t *wr, bool drop);

/* Every callback runs with the pending error kept aside (PyErr_Fetch /
   PyErr_Restore around handle_callback), its failure reported in between. */
static void call_callback(rcyi_weakref_t *wr, bool drop)
{
    rcy_runtime_t *rt = wr->ob.type->rt;
    rcyi_errsave_t es;
    rcyi_err_save(rt, &es);
    call_callback_inner(wr, drop);
    rcyi_err_restore(rt, &es);
}

static void call_callback_inner(rcyi_weakref_t *wr, bool drop)
{
    rcy_runtime_t *rt = wr->ob.type->rt;
    rcyi_running_t f;
    if (wr->is_finalizer) {
        if (wr->registered) {
            rcy_finalize_callback_fn fn = wr->fin_fn;
            void *fin_arg = wr->fin_arg;
            rcy_object_t *callable = wr->callable, **args = wr->call_args;
            size_t nargs = wr->n_call_args;
            wr->callable = NULL; /* now ours */
            wr->call_args = NULL;
            wr->n_call_args = 0;
            registry_unlink(rt, wr);
            wr->fin_fn = NULL;
            bool ok = true;
            if (!rt->teardown_cut) {
                rcyi_enter(rt, &f, "a finalize callback", &wr->ob);
                if (callable != NULL) {
                    ok = call_object(callable, args, nargs); /* ours, held for the call */
                } else {
                    ok = fn(fin_arg) >= 0;
                }
                rcyi_leave(rt, &f);
            }
            if (!ok)
                report_callback_error(wr, "in finalize callback");
            release_arg(wr);
            rcy_xdecref(callable);
            release_args(rt, args, nargs);
            rcy_decref(&wr->ob); /* the registry's reference */
        }
        return;
    }
    if (rt->teardown_cut)
        return;
    if (wr->callable != NULL) {
        rcy_object_t *callable = rcy_newref(wr->callable);
        if (drop)
            RCY_CLEAR(wr->callable); /* ours holds it */
        rcyi_enter(rt, &f, "a weakref callback", &wr->ob);
        rcy_object_t *self = &wr->ob;
        bool ok = call_object(callable, &self, 1);
        rcyi_leave(rt, &f);
        if (!ok)
            report_callback_error(wr, "on calling weakref callback");
        rcy_decref(callable);
        return;
    }
    if (wr->callback == NULL)
        return;
    rcyi_enter(rt, &f, "a weakref callback", &wr->ob);
    int ret = wr->callback(&wr->ob, wr->arg);
    rcyi_leave(rt, &f);
    if (ret < 0)
        report_callback_error(wr, "on calling weakref callback");
    if (drop && wr->release != NULL) {
        wr->callback = NULL; /* as the callable form: let go after a refcount death's call */
        release_arg(wr);
    }
}

/* Appends wr (with a new reference) to the pending chain. */
static void pend(rcyi_weakref_t ***tail, rcyi_weakref_t *wr)
{
    rcy_incref(&wr->ob);
    wr->pending = NULL;
    **tail = wr;
    *tail = &wr->pending;
}

/* Calls and releases every weak reference of a pending chain. Returns how
   many of them were freed by the release. In a collection (old != NULL), a
   weak reference that outlives its callback moves to the end of old, the
   generation the survivors went to, as CPython's handle_weakrefs does (it
   takes each such weak reference out of its generation into wrcb_to_call
   and then puts it in old). */
static intptr_t call_pending(rcyi_weakref_t *chain, rcy_gc_head_t *old)
{
    intptr_t freed = 0;
    while (chain != NULL) {
        rcyi_weakref_t *wr = chain;
        chain = wr->pending;
        wr->pending = NULL;
        call_callback(wr, old == NULL);
        if (rcy_getrefcount(&wr->ob) == 1) {
            freed++;
        } else if (old != NULL && rcyi_as_gc(&wr->ob)->next != 0 && !(rcyi_as_gc(&wr->ob)->next & RCYI_NEXT_INCR)) {
            /* (One in the incremental pass's array stays there.) */
            rcyi_list_move(rcyi_as_gc(&wr->ob), old);
        }
        rcy_decref(&wr->ob);
    }
    return freed;
}

static bool wants_call(const rcyi_weakref_t *wr)
{
    return wr->ob.refcnt > 0 && (wr->is_finalizer ? wr->registered : wr->callback != NULL || wr->callable != NULL);
}

void rcyi_weakrefs_clear_silently(rcy_object_t *o)
{
    rcyi_weakref_t **head = rcyi_weaklist(o);
    while (head != NULL && *head != NULL)
        clear_ref(*head);
}

void rcyi_weakrefs_clear_on_death(rcy_object_t *o)
{
    rcy_runtime_t *rt = o->type->rt;
    rcyi_weakref_t **head = rcyi_weaklist(o);
    rcyi_weakref_t *chain = NULL, **tail = &chain;
    while (*head != NULL) {
        rcyi_weakref_t *wr = *head;
        clear_ref(wr);
        if (wants_call(wr))
            pend(&tail, wr);
    }
    if (chain == NULL)
        return;
    /* A callback may release the last reference to another object with
       weak references, whose callbacks may do the same (a chain of
       weak-map entries, test_trashcan_16602): deaths nest through
       callbacks as they do through released references, and are bounded
       by the same depth. The references are cleared already, so nothing
       can see o while its callbacks wait. */
    bool may_resurrect = o->type->legacy_del != NULL && !rt->tearing_down_final;
    if (rt->dealloc_depth >= RCYI_TRASH_DEPTH && !may_resurrect) {
        if (rt->deferred_head == NULL)
            rt->deferred_tail = &rt->deferred_head;
        *rt->deferred_tail = chain;
        rt->deferred_tail = tail;
        return;
    }
    rt->dealloc_depth++;
    call_pending(chain, NULL);
    rt->dealloc_depth--;
    if (rt->dealloc_depth == 0 && rt->trash != NULL)
        rcyi_trash_drain(rt);
}

bool rcyi_weakrefs_call_deferred(rcy_runtime_t *rt)
{
    rcyi_weakref_t *chain = rt->deferred_head;
    if (chain == NULL)
        return false;
    rt->deferred_head = NULL;
    rt->deferred_tail = &rt->deferred_head;
    rt->dealloc_depth++;
    call_pending(chain, NULL);
    rt->dealloc_depth--;
    return true;
}

/* ---- Collector steps ------------------------------------------------- */

static bool is_collecting(rcy_object_t *o)
{
    return rcyi_is_gc(o) && rcyi_as_gc(o)->next != 0 && (rcyi_as_gc(o)->prev & RCYI_PREV_COLLECTING) != 0;
}

intptr_t rcyi_gc_handle_weakrefs(rcy_gc_head_t *unreachable, rcy_gc_head_t *old)
{
    rcyi_weakref_t *chain = NULL, **tail = &chain;
    for (rcy_gc_head_t *g = rcyi_gc_next(unreachable); g != unreachable; g = rcyi_gc_next(g)) {
        rcy_object_t *o = rcyi_from_gc(g);
        /* A weak reference inside the garbage is cleared: its callback
           must never see objects that are being cleared (bpo-38006). */
        if (is_weakref(o))
            clear_ref(as_wr(o));
        rcyi_weakref_t **head = rcyi_weaklist(o);
        if (head == NULL)
            continue;
        while (*head != NULL) {
            rcyi_weakref_t *wr = *head;
            clear_ref(wr);
            /* A weak reference that is garbage too never calls back: it is
               legitimate to pretend it went away first. */
            if (!wants_call(wr) || is_collecting(&wr->ob))
                continue;
            pend(&tail, wr);
        }
    }
    return call_pending(chain, old);
}

void rcyi_gc_clear_weakrefs(rcy_gc_head_t *list)
{
    for (rcy_gc_head_t *g = rcyi_gc_next(list); g != list; g = rcyi_gc_next(g)) {
        rcy_object_t *o = rcyi_from_gc(g);
        if (is_weakref(o))
            clear_ref(as_wr(o));
        rcyi_weakref_t **head = rcyi_weaklist(o);
        while (head != NULL && *head != NULL)
            clear_ref(*head);
    }
}

/* ---- Finalize registrations ------------------------------------------ */

/* A registration calling fn(arg), or callable(*args) (args a tuple that
   the registration takes, or NULL). */
static rcy_object_t *finalize_register(rcy_object_t *obj, rcy_finalize_callback_fn fn, void *arg,
                                       rcy_object_t *callable, rcy_object_t **args, size_t nargs)
{
    rcy_runtime_t *rt = obj->type->rt;
    rcyi_weakref_t **head = rcyi_weaklist(obj);
    rcyi_weakref_t *wr = weakref_alloc(obj);
    if (wr == NULL)
        return NULL;
    wr->referent = obj;
    wr->is_finalizer = true;
    wr->atexit = true;
    wr->fin_fn = fn;
    wr->fin_arg = arg;
    wr->callable = rcy_xnewref(callable);
    wr->call_args = args; /* the references in it are ours already */
    wr->n_call_args = nargs;
    insert_after(head, (*head != NULL && is_basic(*head)) ? *head : NULL, wr);
    /* The registry keeps the registration alive: it is never garbage, so
       its callback runs even when obj dies in a cycle. */
    rcy_incref(&wr->ob);
    wr->registered = true;
    wr->reg_prev = rt->registry_tail;
    if (rt->registry_tail)
        rt->registry_tail->reg_next = wr;
    else
        rt->registry_head = wr;
    rt->registry_tail = wr;
    return &wr->ob;
}

rcy_object_t *rcy_finalize_register(rcy_object_t *obj, rcy_finalize_callback_fn fn, void *arg)
{
    if (obj == NULL)
        return NULL;
    rcyi_check_live(obj);
    rcy_runtime_t *rt = obj->type->rt;
    if (fn == NULL) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    if (rcyi_weaklist(obj) == NULL) {
        rcyi_set_error(rt, RCY_ETYPE);
        return NULL;
    }
    return finalize_register(obj, fn, arg, NULL, NULL, 0);
}

rcy_object_t *rcy_finalize_register_ex(rcy_object_t *obj, rcy_finalize_callback_fn fn, void *arg,
                                       rcy_release_fn release)
{
    rcy_object_t *f = rcy_finalize_register(obj, fn, arg);
    if (f != NULL)
        as_wr(f)->release = release;
    return f;
}

rcy_object_t *rcy_finalize_register_callable(rcy_object_t *obj, rcy_object_t *callable, rcy_object_t *const *args,
                                             size_t nargs)
{
    if (obj == NULL)
        return NULL;
    rcyi_check_live(obj);
    rcy_runtime_t *rt = obj->type->rt;
    if (callable == NULL || (nargs > 0 && args == NULL) || nargs > (size_t)INTPTR_MAX) {
        rcyi_set_error(rt, RCY_EINVAL);
        return NULL;
    }
    rcyi_check_live(callable);
    if (rcyi_weaklist(obj) == NULL) {
        rcyi_set_error(rt, RCY_ETYPE);
        return NULL;
    }
    if (!rcyi_same_runtime(callable, rt)) {
        rcyi_set_error(rt, RCY_ERUNTIME);
        return NULL;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (args[i] == NULL) {
            rcyi_set_error(rt, RCY_EINVAL);
            return NULL;
        }
        rcyi_check_live(args[i]);
        if (!rcyi_same_runtime(args[i], rt)) {
            rcyi_set_error(rt, RCY_ERUNTIME);
            return NULL;
        }
    }
    /* A private array (which never collects) of references to the
       arguments, taken before the registration's allocation may run a
       collection (obj, callable and args are the caller's meanwhile). */
    rcy_object_t **held = NULL;
    if (nargs > 0) {
        held = rcyi_malloc_array(rt, nargs, sizeof *held);
        if (held == NULL)
            return NULL;
        for (size_t i = 0; i < nargs; i++)
            held[i] = rcy_newref(args[i]);
    }
    rcy_object_t *f = finalize_register(obj, NULL, NULL, callable, held, nargs);
    if (f == NULL)
        release_args(rt, held, nargs);
    return f;
}

static rcyi_weakref_t *as_finalizer(const rcy_object_t *f)
{
    return is_weakref(f) && ((const rcyi_weakref_t *)f)->is_finalizer ? (rcyi_weakref_t *)(uintptr_t)f : NULL;
}

int rcy_finalize_call(rcy_object_t *f)
{
    rcyi_weakref_t *wr = as_finalizer(f);
    if (wr == NULL)
        return RCY_EINVAL;
    if (!wr->registered)
        return 0;
    rcy_incref(f);
    clear_ref(wr);
    call_callback(wr, true);
    rcy_decref(f);
    return 1;
}

int rcy_finalize_detach(rcy_object_t *f)
{
    rcyi_weakref_t *wr = as_finalizer(f);
    if (wr == NULL)
        return RCY_EINVAL;
    if (!wr->registered)
        return 0;
    clear_ref(wr);
    registry_unlink(f->type->rt, wr);
    rcy_object_t *callable = wr->callable, **args = wr->call_args;
    size_t nargs = wr->n_call_args;
    wr->callable = NULL;
    wr->call_args = NULL;
    wr->n_call_args = 0;
    wr->fin_fn = NULL;
    release_arg(wr); /* the registry's reference still holds f */
    rcy_runtime_t *rt = f->type->rt;
    rcy_decref(f); /* the registry's reference */
    rcy_xdecref(callable); /* after: their releases may run code that sees f */
    release_args(rt, args, nargs);
    return 1;
}

int rcy_finalize_alive(const rcy_object_t *f)
{
    const rcyi_weakref_t *wr = as_finalizer(f);
    return wr != NULL && wr->registered;
}

int rcy_finalize_set_atexit(rcy_object_t *f, int atexit)
{
    rcyi_weakref_t *wr = as_finalizer(f);
    if (wr == NULL)
        return RCY_EINVAL;
    wr->atexit = atexit != 0;
    return 0;
}

void rcyi_finalize_atexit(rcy_runtime_t *rt)
{
    /* Newest first; a callback may register or detach others, so restart
       from the tail after every call. Registrations made by these
       callbacks run too, as in CPython (finalize._exitfunc selects again
       when the registry changed), but within teardown's budget: a callback
       that registers a new one every time would otherwise never end. */
    size_t calls = 0;
    for (;;) {
        rcyi_weakref_t *wr = rt->registry_tail;
        while (wr != NULL && !wr->atexit)
            wr = wr->reg_prev;
        if (wr == NULL)
            break;
        if (calls >= rt->teardown_budget) {
            size_t left = 0;
            for (; wr != NULL; wr = wr->reg_prev)
                left += wr->atexit;
            rcyi_printf(rt,
                        "recycle: teardown stopped running finalize callbacks after %zu calls: they keep "
                        "registering new ones; %zu registrations are dropped without running\n",
                        calls, left);
            break;
        }
        calls++;
        rcy_finalize_call(&wr->ob);
    }
    /* Registrations that do not run at exit are dropped without running. */
    while (rt->registry_head != NULL)
        rcy_finalize_detach(&rt->registry_head->ob);
}

void rcyi_finalize_drop_all(rcy_runtime_t *rt)
{
    while (rt->registry_head != NULL)
        rcy_finalize_detach(&rt->registry_head->ob);
}
