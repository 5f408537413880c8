/* Freed objects are recognised, poisoning on or off (docs/design.md, "Freed
   objects"): a double decref of an object of any kind (str, list, dict,
   tuple, class instance, a container and a non-container C type, int and
   float atoms) aborts at the second decref, naming the object, while its
   block is still free; an incref of a freed object followed by a decref
   reports a use of a freed object; so do the public functions that read an
   object (rcy_list_len, rcy_weakref_new, rcy_getrefcount, the type checks,
   ...). When the block was reused by a new object first, the stale decref
   cannot be told from the new object's own, and the report comes at the
   new object's next use, naming the same address. A decref of a
   non-container whose deallocation the trashcan deferred is reported too
   (its count field holds the trashcan's link).

   Each case runs twice: with poisoning (freed memory is overwritten and
   held in quarantine: caught in every build) and in the release
   configuration (poisoning off, free lists and pools on: the freed block
   stays in a pool or a free list, which leave it
   recognisable). A build without free lists and pools (sanitizer builds,
   RCY_FREELISTS=OFF) gives a freed block back to malloc when poisoning is
   off: there the library no longer owns the memory, AddressSanitizer (or
   malloc's own use of the block) sees the stale access first, and those
   runs are skipped. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "fatal_child.h"
#include "node.h"

/* ---- The kinds of object --------------------------------------------- */

static rcy_object_t *make_str(rcy_runtime_t *rt) { return rcy_str_new(rt, "hello"); }
static rcy_object_t *make_list(rcy_runtime_t *rt)
{
    rcy_object_t *one = rcy_int_new(rt, 1);
    return rcy_list_new_from(rt, 1, &one);
}
static rcy_object_t *make_dict(rcy_runtime_t *rt)
{
    rcy_object_t *d = rcy_dict_new(rt), *k = rcy_str_new(rt, "k");
    rcy_dict_set(d, k, k);
    rcy_decref(k);
    return d;
}
static rcy_object_t *make_tuple(rcy_runtime_t *rt)
{
    rcy_object_t *items[2] = {rcy_int_new(rt, 1), rcy_int_new(rt, 2)};
    return rcy_tuple_new(rt, 2, items);
}
static rcy_object_t *make_instance(rcy_runtime_t *rt)
{
    rcy_object_t *cls = rcy_class_new(rt, "Point", NULL); /* kept: the child aborts */
    return rcy_instance_new(cls);
}
static rcy_object_t *make_node(rcy_runtime_t *rt) { return (rcy_object_t *)node_new(node_type_new(rt, "Victim"), 1); }
static rcy_object_t *make_leaf(rcy_runtime_t *rt)
{
    rcy_type_spec_t spec = {0};
    spec.name = "Leaf"; /* not a container: its first word is its count */
    spec.basicsize = sizeof(rcy_object_t) + 16;
    return rcy_new(rcy_type_new(rt, &spec));
}
static rcy_object_t *make_int(rcy_runtime_t *rt) { return rcy_int_new(rt, 123456789); }
static rcy_object_t *make_float(rcy_runtime_t *rt) { return rcy_float_new(rt, 2.5); }

typedef struct kind_s {
    const char *type_name;
    rcy_object_t *(*make)(rcy_runtime_t *rt);
} kind_t;

static const kind_t kinds[] = {
    {"str", make_str},   {"list", make_list}, {"dict", make_dict}, {"tuple", make_tuple}, {"Point", make_instance},
    {"Victim", make_node}, {"Leaf", make_leaf}, {"int", make_int},  {"float", make_float},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* What the children do: the kind, and the poisoning of their runtime. */
static size_t the_kind;
static int the_poison;

/* A freed object of the_kind, announced. */
static rcy_object_t *freed_object(rcy_runtime_t *rt)
{
    rcy_object_t *o = kinds[the_kind].make(rt);
    if (o == NULL)
        _exit(6);
    announce(o);
    rcy_decref(o); /* frees it */
    return o;
}

/* Whether a runtime with poisoning `poison` keeps freed blocks where they
   stay recognisable: always when poisoning (the quarantine), else only
   with free lists and pools. */
static int recognisable(int poison)
{
    if (poison)
        return 1;
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    cfg.poison = 0;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    int yes = rcy_freelists_enabled(rt);
    rcy_runtime_destroy(rt);
    return yes;
}

/* Runs fn for every poisoning the build can check, and every kind when
   all_kinds (else the_kind as set), checking the report with what. */
static void for_each_config(void (*fn)(enum hook_e), int all_kinds, const char *what)
{
    size_t kind0 = the_kind;
    for (the_poison = 1; the_poison >= 0; the_poison--) {
        if (!recognisable(the_poison)) {
            static int said;
            if (!said++)
                fprintf(stderr, "  the cases with poisoning off are skipped: this build has no free lists or pools "
                                "(sanitizer or RCY_FREELISTS=OFF), so a freed block goes back to malloc\n");
            continue;
        }
        for (size_t k = all_kinds ? 0 : kind0; k < (all_kinds ? NKINDS : kind0 + 1); k++) {
            the_kind = k;
            result_t res;
            int failures = harness_failures;
            run_child(fn, HOOK_PIPE, &res);
            check_fatal(&res, kinds[k].type_name, what);
            if (harness_failures > failures)
                fprintf(stderr, "  (kind %s, poison %d)\n", kinds[k].type_name, the_poison);
        }
    }
    the_kind = kind0;
}

/* ---- Double decref ---------------------------------------------------- */

static void case_double_decref(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *o = freed_object(rt);
    rcy_decref(o); /* the bug */
}

TEST(test_double_decref_every_kind)
{
    for_each_config(case_double_decref, 1, "decref of a freed object");
}

/* ---- An incref of a freed object, then its decref ----------------------- */

static void case_incref_freed(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *o = freed_object(rt);
    rcy_incref(o); /* the bug: not checked, but the count still says freed */
    rcy_decref(o);
}

TEST(test_incref_of_freed_object)
{
    for_each_config(case_incref_freed, 1, "use of a freed object");
}

/* ---- Public functions that read a freed object ------------------------ */

static void case_getrefcount_freed(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *o = freed_object(rt);
    printf("%ld\n", (long)rcy_getrefcount(o));
}

TEST(test_getrefcount_of_freed_object)
{
    for_each_config(case_getrefcount_freed, 1, "use of a freed object");
}

static void case_list_len_freed(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *o = freed_object(rt);
    printf("%ld\n", (long)rcy_list_len(o));
}

static void case_weakref_new_freed(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *o = freed_object(rt);
    rcy_object_t *wr = rcy_weakref_new(o, NULL, NULL); /* would read the freed weak-reference list */
    printf("%p\n", (void *)wr);
}

/* Other readers, each tried on a kind of its own: a type check, describe,
   hash, tracking, equality, the weak-reference count. */
static int the_reader;
#define NREADERS 6

static void case_readers_freed(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *o = freed_object(rt);
    char buf[64];
    int64_t h;
    switch (the_reader) {
    case 0:
        printf("%d\n", rcy_is_str(o));
        break;
    case 1:
        printf("%d\n", rcy_describe(o, buf, sizeof buf));
        break;
    case 2:
        printf("%d\n", rcy_hash(o, &h));
        break;
    case 3:
        printf("%d\n", rcy_gc_is_tracked(o));
        break;
    case 4:
        printf("%d\n", rcy_equal(o, o));
        break;
    default:
        printf("%zu\n", rcy_weakref_count(o));
        break;
    }
}

static size_t kind_index(const char *type_name)
{
    for (size_t k = 0; k < NKINDS; k++)
        if (strcmp(kinds[k].type_name, type_name) == 0)
            return k;
    abort();
}

TEST(test_readers_of_freed_object)
{
    the_kind = kind_index("list");
    for_each_config(case_list_len_freed, 0, "use of a freed object");
    the_kind = kind_index("Point");
    for_each_config(case_weakref_new_freed, 0, "use of a freed object");
    for (the_reader = 0; the_reader < NREADERS; the_reader++) {
        the_kind = (size_t)the_reader * 2 % NKINDS; /* str, dict, Point, Leaf, float, list */
        for_each_config(case_readers_freed, 0, "use of a freed object");
    }
}

/* ---- A freed block reused before the stale decref ---------------------- */

/* The list's block goes to the next list (in the release configuration,
   from the free list); the stale decref then releases the new list, which
   is freed, and its owner's next use is reported, naming the same
   address. With poisoning the block is not reused, and the stale decref
   itself is reported. */
static void case_reused_block(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *o = freed_object(rt);
    rcy_object_t *again = rcy_list_new(rt);
    rcy_decref(o); /* the bug: a stale reference, released again */
    rcy_list_append(again, o); /* the new list's owner uses it */
}

TEST(test_double_decref_after_reuse)
{
    the_kind = kind_index("list");
    for_each_config(case_reused_block, 0, "freed object");
}

/* ---- A decref of an object whose deallocation the trashcan deferred ----- */

/* A non-container link of a chain whose dealloc slot releases its child
   twice (the bug). Deallocations nest first: the first second release to
   run is the deepest one, of the link whose deallocation the trashcan
   deferred (deeper than 50, docs/design.md): that object is dying, not yet
   freed, and its count field holds the trashcan's link, which the decref
   must not count down. */
typedef struct link_s {
    rcy_object_t ob;
    rcy_object_t *child;
} link_t;

static void link_dealloc(rcy_object_t *self)
{
    rcy_object_t *c = ((link_t *)self)->child;
    ((link_t *)self)->child = NULL;
    if (c != NULL) {
        rcy_decref(c);
        rcy_decref(c); /* the bug */
    }
}

static int trash_poison;

static void case_decref_of_deferred(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, trash_poison);
    rcy_type_spec_t spec = {0};
    spec.name = "Link";
    spec.basicsize = sizeof(link_t);
    spec.dealloc = link_dealloc;
    rcy_type_t *t = rcy_type_new(rt, &spec);
    rcy_object_t *head = NULL;
    for (int i = 100; i >= 1; i--) { /* head is link 1 */
        link_t *l = (link_t *)rcy_new(t);
        l->child = head;
        head = &l->ob;
        if (i == 51)
            announce(l); /* released at depth 51: deferred */
    }
    rcy_decref(head);
}

TEST(test_decref_of_deferred_object)
{
    for (trash_poison = 0; trash_poison <= 1; trash_poison++) {
        result_t res;
        run_child(case_decref_of_deferred, HOOK_PIPE, &res);
        check_fatal(&res, "Link", "decref took the reference count below zero (the object is being deallocated)");
    }
}

/* ---- The attribute calls ------------------------------------------------ */

/* A freed instance given to each attribute call (their fast paths check
   the instance first), and a freed value stored by each setattr form over
   an attribute that exists (the fast paths' incref sends it to the slow
   path, which reports it). */
static int the_attr_call;
#define NATTRCALLS 10

static void case_attr_call_freed(enum hook_e hook)
{
    rcy_runtime_t *rt = child_runtime(hook, the_poison);
    rcy_object_t *x = rcy_str_intern(rt, "x");
    if (the_attr_call == 7 || the_attr_call == 8) { /* a live instance, a freed value */
        rcy_object_t *cls = rcy_class_new(rt, "Keeper", NULL);
        rcy_object_t *inst = rcy_instance_new(cls);
        rcy_object_t *one = rcy_int_new(rt, 1);
        rcy_setattr(inst, "x", one);
        rcy_setattr(inst, "x", one); /* the name pointer is cached now */
        rcy_object_t *o = freed_object(rt);
        printf("%d\n", the_attr_call == 7 ? rcy_setattr(inst, "x", o) : rcy_setattr_str(inst, x, o));
        return;
    }
    /* The instance had x, its class has seen the name pointer. */
    rcy_object_t *o = kinds[the_kind].make(rt);
    rcy_object_t *one = rcy_int_new(rt, 1);
    rcy_setattr(o, "x", one);
    rcy_setattr(o, "x", one);
    if (rcy_getattr(o, "x") != one)
        _exit(7);
    announce(o);
    rcy_decref(o); /* frees it */
    switch (the_attr_call) {
    case 0:
        printf("%d\n", rcy_setattr(o, "x", one));
        break;
    case 1:
        printf("%p\n", (void *)rcy_getattr(o, "x"));
        break;
    case 2:
        printf("%d\n", rcy_setattr_str(o, x, one));
        break;
    case 3:
        printf("%p\n", (void *)rcy_getattr_str(o, x));
        break;
    case 4:
        printf("%d\n", rcy_delattr(o, "x"));
        break;
    case 5:
        printf("%d\n", rcy_hasattr(o, "x"));
        break;
    case 9: {
        rcy_object_t *r;
        printf("%d\n", rcy_getattr_ref(o, "x", &r));
        break;
    }
    default:
        printf("%d\n", rcy_delattr_str(o, x));
        break;
    }
}

TEST(test_attribute_calls_with_freed_objects)
{
    for (the_attr_call = 0; the_attr_call < NATTRCALLS; the_attr_call++) {
        if (the_attr_call == 7 || the_attr_call == 8)
            the_kind = kind_index("float");
        else
            the_kind = kind_index("Point");
        int failures = harness_failures;
        for_each_config(case_attr_call_freed, 0, "use of a freed object");
        if (harness_failures > failures)
            fprintf(stderr, "  (attribute call %d)\n", the_attr_call);
    }
}

int main(void)
{
    RUN(test_double_decref_every_kind);
    RUN(test_incref_of_freed_object);
    RUN(test_getrefcount_of_freed_object);
    RUN(test_readers_of_freed_object);
    RUN(test_double_decref_after_reuse);
    RUN(test_decref_of_deferred_object);
    RUN(test_attribute_calls_with_freed_objects);
    return harness_summary();
}
