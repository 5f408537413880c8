/*
 * Arenas for the small atoms, ints and floats, which programs make by the
 * million (the seeds' 10,000,000-int lists): 256 KiB blocks cut into 32-byte
 * slots, each a pointer back to its arena followed by the object. This is
 * CPython's pymalloc idea at its simplest: taking a slot and giving it back
 * cost a few instructions instead of a malloc and a free, and an arena whose
 * objects have all died goes back to the allocator at once (one spare is
 * kept), so memory returns to the system as a big list dies.
 *
 * It rides on the free-list mechanism: the types' alloc slot (which
 * rcy_new calls) makes objects with rcyi_object_reuse, and they come back
 * through the freelist_push slot, so the counts and the census are those of
 * ordinary objects. Like the free lists, the arenas are used only when free
 * lists are (compiled in, and the runtime does not poison freed memory);
 * otherwise the slots are not set and ints and floats are ordinary
 * allocations.
 */
#include "types.h"

#include <assert.h>

/* The object part of a slot: the largest atom. */
#define ATOM_BYTES 24

typedef struct rcyi_slot_s {
    struct rcyi_arena_s *arena;
    union {
        rcy_object_t ob;
        unsigned char bytes[ATOM_BYTES];
        double align_double;
    } u;
} rcyi_slot_t;

static_assert(sizeof(rcyi_int_t) <= ATOM_BYTES && sizeof(rcyi_float_t) <= ATOM_BYTES, "atoms fit a slot");
static_assert(sizeof(rcyi_slot_t) == 32, "32-byte slots");

#define ARENA_BYTES ((size_t)256 * 1024)

struct rcyi_arena_s {
    struct rcyi_arena_s *prev, *next; /* in b->atoms.usable or b->atoms.full */
    rcy_object_t *free;               /* given-back objects, chained through their third word */
    uint32_t nfree;                   /* slots not in use */
    uint32_t nbump;                   /* slots handed out so far by bumping */
    rcyi_slot_t slots[];
};

#define ARENA_SLOTS ((uint32_t)((ARENA_BYTES - sizeof(rcyi_arena_t)) / sizeof(rcyi_slot_t)))

static inline rcyi_slot_t *slot_of(rcy_object_t *o)
{
    return (rcyi_slot_t *)(void *)((char *)o - offsetof(rcyi_slot_t, u));
}

/* The chain of given-back objects goes through the word after the type
   (the value), which a dead object no longer needs. */
static inline rcy_object_t **next_free(rcy_object_t *o) { return (rcy_object_t **)(void *)(o + 1); }

static void list_push(rcyi_arena_t **head, rcyi_arena_t *a)
{
    a->prev = NULL;
    a->next = *head;
    if (*head != NULL)
        (*head)->prev = a;
    *head = a;
}

static void list_unlink(rcyi_arena_t **head, rcyi_arena_t *a)
{
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        *head = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
}

rcy_object_t *rcyi_atom_new(rcy_type_t *type)
{
    rcy_runtime_t *rt = type->rt;
    rcyi_builtins_t *b = rt->builtins;
    rcyi_arena_t *a = b->atoms.usable;
    if (a == NULL) {
        a = rcyi_malloc(rt, ARENA_BYTES);
        if (a == NULL)
            return NULL;
        a->free = NULL;
        a->nfree = ARENA_SLOTS;
        a->nbump = 0;
        list_push(&b->atoms.usable, a);
        b->atoms.narenas++;
    }
    rcy_object_t *o = a->free;
    if (o != NULL) {
        a->free = *next_free(o);
    } else {
        rcyi_slot_t *s = &a->slots[a->nbump++];
        s->arena = a;
        o = &s->u.ob;
    }
    if (--a->nfree == 0) {
        list_unlink(&b->atoms.usable, a);
        list_push(&b->atoms.full, a);
    }
    o->type = type;
    return rcyi_object_reuse(o);
}

/* The freelist_push slot of the atom types: every dead atom goes back to
   its arena (it came from one: the slot is set only when arenas are used,
   and object.c never calls it while poisoning). */
bool rcyi_atom_release(rcy_object_t *o)
{
    rcyi_builtins_t *b = rcyi_builtins(o);
    rcyi_arena_t *a = slot_of(o)->arena;
    *next_free(o) = a->free;
    a->free = o;
    if (a->nfree++ == 0) {
        list_unlink(&b->atoms.full, a);
        list_push(&b->atoms.usable, a);
    }
    if (a->nfree == ARENA_SLOTS && b->atoms.narenas > 1) {
        list_unlink(&b->atoms.usable, a);
        b->atoms.narenas--;
        rcyi_free(o->type->rt, a);
    }
    return true;
}

void rcyi_atom_free_arenas(rcy_runtime_t *rt, rcyi_builtins_t *b, bool all)
{
    rcyi_arena_t *next;
    for (rcyi_arena_t *a = b->atoms.usable; a != NULL; a = next) {
        next = a->next;
        if (all || a->nfree == ARENA_SLOTS) {
            list_unlink(&b->atoms.usable, a);
            b->atoms.narenas--;
            rcyi_free(rt, a);
        }
    }
    if (all) {
        while (b->atoms.full != NULL) {
            rcyi_arena_t *a = b->atoms.full;
            list_unlink(&b->atoms.full, a);
            b->atoms.narenas--;
            rcyi_free(rt, a);
        }
    }
}

void rcyi_atom_use_arenas(rcyi_builtins_t *b, rcy_type_t *type)
{
    if (b->freelists) {
        type->alloc = rcyi_atom_new;
        type->freelist_push = rcyi_atom_release;
    }
}
