/*
 * mal (Make-A-Lisp) on recycle: shared declarations.
 *
 * Every mal value is a recycle object: numbers are recycle ints, strings
 * recycle strs, lists recycle lists (immutable once built: nothing mutates a
 * list after the reader, a core function or EVAL has made it), builtins
 * recycle C functions, nil/true/false recycle's None/True/False. Our own
 * types: symbols and keywords (interned, so they compare and hash by
 * identity), vectors (and lists carrying metadata), hash-maps (around a
 * recycle dict), closures (functions and macros), environments and atoms. The containers among them have traverse and
 * clear, so the cycle collector frees the cycles that closures, their
 * environments and atoms make.
 *
 * Errors travel by return value: a function returning an object returns a
 * new reference, or NULL with the thrown mal value as the value of the
 * runtime's pending error (rcy_error_set_value, code MAL_ETHROW; the
 * library saves and restores it around the callbacks it runs). Nothing
 * longjmps. Builtins and closures are callable objects (a call slot), so
 * mal calls them, and C may call them, through rcy_call.
 *
 * The code is written by us from mal's process guide (mal is MPL-2.0; its
 * files stay in ../shared/mal and are only run from there).
 */
#ifndef MAL_H
#define MAL_H

#include <recycle.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The interpreter's state ------------------------------------------ */

typedef struct mal_env_s mal_env_t;

typedef struct mal_state_s {
    rcy_runtime_t *rt;
    int step; /* the step this executable implements: 0..10 (10 is A) */
    /* our types */
    rcy_type_t *t_sym, *t_kw, *t_vec, *t_map, *t_fn, *t_env, *t_atom;
    /* singletons: recycle's None, True and False */
    rcy_object_t *nil, *true_, *false_;
    /* intern tables: str -> symbol, str -> keyword, weak-value maps: a
       symbol lives while something holds it (an environment binding it, an
       AST naming it), so gensym's fresh symbols do not pile up */
    rcy_object_t *symtab, *kwtab;
    /* the REPL environment */
    mal_env_t *repl_env;
    /* special symbols, interned for pointer comparison */
    rcy_object_t *s_def, *s_let, *s_do, *s_if, *s_fn, *s_quote, *s_quasiquote, *s_unquote,
        *s_splice_unquote, *s_defmacro, *s_try, *s_catch, *s_amp, *s_debug_eval, *s_cons,
        *s_concat, *s_vec, *s_deref, *s_with_meta;
    /* nonzero once DEBUG-EVAL has been bound in some environment: until
       then EVAL skips looking it up */
    int debug_eval_bound;
    /* stack guard: EVAL refuses to go deeper than this address */
    char *stack_limit;
    /* the growth tracker of show-growth (created on first use) */
    rcy_growth_t *growth;
} mal_state_t;

extern mal_state_t mal;

/* ---- Our object layouts ------------------------------------------------ */

typedef struct mal_sym_s { /* symbols and keywords: not containers */
    rcy_object_t ob;
    rcy_object_t *name;     /* str */
    const char *cname;      /* its text (borrowed from name, which we hold) */
    rcy_object_t *weaklist; /* the intern table holds symbols weakly */
    /* Symbols only: the symbol's binding in the REPL environment, a second
       strong reference beside the one in that environment's dict (which
       holds the symbol alive), so that a global lookup is one load. */
    rcy_object_t *value;
} mal_sym_t;

enum { MAL_SEQ_VECTOR = 0, MAL_SEQ_LIST = 1 };

typedef struct mal_vec_s { /* a vector, or a list that carries metadata */
    rcy_object_t ob;
    rcy_object_t *items; /* a recycle list, never mutated */
    rcy_object_t *meta;
    int kind; /* MAL_SEQ_* */
} mal_vec_t;

typedef struct mal_map_s {
    rcy_object_t ob;
    rcy_object_t *dict; /* a recycle dict, never mutated once the map is built */
    rcy_object_t *meta;
} mal_map_t;

/* The C form of a core function (core.c wraps each in a C function). */
typedef rcy_object_t *(*mal_cfn_t)(int argc, rcy_object_t *const *argv);


typedef struct mal_fn_s { /* fn* closures and macros */
    rcy_object_t ob;
    rcy_object_t *params; /* list or vector of symbols */
    rcy_object_t *body;
    mal_env_t *env;
    rcy_object_t *meta;
    rcy_object_t *rest;   /* the symbol after &, or NULL */
    intptr_t nfixed;      /* parameters before & */
    int is_macro;
} mal_fn_t;

typedef struct mal_atom_s {
    rcy_object_t ob;
    rcy_object_t *value;
    rcy_object_t *meta;
} mal_atom_t;

/* An environment: a few (symbol, value) pairs searched linearly, switched
   to a recycle dict keyed by symbol when it grows past MAL_ENV_SMALL. */
#define MAL_ENV_SMALL 8
struct mal_env_s {
    rcy_object_t ob;
    mal_env_t *outer;
    rcy_object_t *dict;   /* NULL while small */
    intptr_t n;
    rcy_object_t *keys[MAL_ENV_SMALL];
    rcy_object_t *vals[MAL_ENV_SMALL];
};

/* ---- Type checks ------------------------------------------------------- */

static inline int mal_is(const rcy_object_t *o, const rcy_type_t *t) { return o != NULL && rcy_type(o) == t; }
static inline int mal_is_sym(const rcy_object_t *o) { return mal_is(o, mal.t_sym); }
static inline int mal_is_kw(const rcy_object_t *o) { return mal_is(o, mal.t_kw); }
/* recycle's inline type checks */
static inline int mal_is_plain_list(const rcy_object_t *o) { return rcy_is_list(o); }
static inline int mal_is_int(const rcy_object_t *o) { return rcy_is_int(o); }
static inline int mal_is_str(const rcy_object_t *o) { return rcy_is_str(o); }
static inline int mal_is_list(const rcy_object_t *o)
{
    return mal_is_plain_list(o) || (mal_is(o, mal.t_vec) && ((const mal_vec_t *)o)->kind == MAL_SEQ_LIST);
}
static inline int mal_is_vector(const rcy_object_t *o)
{
    return mal_is(o, mal.t_vec) && ((const mal_vec_t *)o)->kind == MAL_SEQ_VECTOR;
}
static inline int mal_is_seq(const rcy_object_t *o) { return mal_is_plain_list(o) || mal_is(o, mal.t_vec); }
static inline int mal_is_map(const rcy_object_t *o) { return mal_is(o, mal.t_map); }
static inline int mal_is_fn(const rcy_object_t *o) { return mal_is(o, mal.t_fn); }
/* Builtins are recycle C functions (rcy_cfunction_new). */
static inline int mal_is_builtin(const rcy_object_t *o) { return rcy_is_cfunction(o); }
static inline int mal_is_atom(const rcy_object_t *o) { return mal_is(o, mal.t_atom); }
static inline int mal_truthy(const rcy_object_t *o) { return o != mal.nil && o != mal.false_; }

/* The recycle list holding a sequence's items (borrowed; o a list or vector). */
static inline rcy_object_t *mal_seq_list(rcy_object_t *o)
{
    return mal_is_plain_list(o) ? o : ((mal_vec_t *)o)->items;
}
/* The items of an immutable sequence we hold (borrowed, through recycle's
   unchecked inline accessors; i in range): valid while we hold the
   sequence, since nothing mutates a mal list once built. */
static inline intptr_t mal_seq_len(rcy_object_t *o) { return rcy_list_size_fast(mal_seq_list(o)); }
static inline rcy_object_t *mal_seq_get(rcy_object_t *o, intptr_t i) { return rcy_list_item_fast(mal_seq_list(o), i); }

/* ---- Errors ------------------------------------------------------------ */

/* The code of the runtime's pending error while a mal value is thrown (the
   program's own codes lie below RCY_ECORRUPT). */
#define MAL_ETHROW (RCY_ECORRUPT - 1)

/* Set the pending error to a throw of v (the runtime takes a reference);
   return NULL. */
rcy_object_t *mal_throw(rcy_object_t *v);
/* Set the pending error to a string made from a printf format. */
rcy_object_t *mal_throwf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Error for a failed recycle call (out of memory, unhashable key, ...). */
rcy_object_t *mal_throw_rcy(const char *what);
/* Takes the pending error as a mal value (a new reference: the thrown
   value, or a string saying what failed) and clears it. */
rcy_object_t *mal_catch(void);

/* ---- Constructors (new references, NULL with an error thrown) ------------ */

rcy_object_t *mal_sym(const char *name);
rcy_object_t *mal_sym_len(const char *name, size_t len);
rcy_object_t *mal_kw(const char *name); /* without the leading ':' */
rcy_object_t *mal_kw_len(const char *name, size_t len);
rcy_object_t *mal_int(int64_t v);
rcy_object_t *mal_str_len(const char *s, size_t len);
rcy_object_t *mal_list_of(intptr_t n, rcy_object_t *const *items);
rcy_object_t *mal_vec_of(intptr_t n, rcy_object_t *const *items);
rcy_object_t *mal_vec_wrap(rcy_object_t *list, int kind, rcy_object_t *meta);
rcy_object_t *mal_map_new(void);        /* an empty map, to be filled by mal_map_put */
int mal_map_put(rcy_object_t *map, rcy_object_t *key, rcy_object_t *val); /* while building */
rcy_object_t *mal_map_copy(rcy_object_t *map);
/* A builtin: fn wrapped by rcy_cfunction_new_named, unbound, named as
   mal's namespace names it (heap reports show "<built-in function +>"). */
rcy_object_t *mal_builtin_new(const char *name, rcy_cfunction_fn fn);
/* 1 if a builtin named name accepts nargs arguments (lo..hi, hi -1: any),
   else 0 with the error thrown. */
int mal_arity_ok(const char *name, size_t nargs, int lo, int hi);
/* A builtin's metadata (borrowed, NULL for none), and a copy with meta: a
   C function bound to the pair (builtin, meta) that calls the builtin. */
rcy_object_t *mal_builtin_meta(rcy_object_t *b);
rcy_object_t *mal_builtin_with_meta(rcy_object_t *b, rcy_object_t *meta);
rcy_object_t *mal_fn_new(rcy_object_t *params, rcy_object_t *body, mal_env_t *env);
rcy_object_t *mal_atom_new(rcy_object_t *v);
rcy_object_t *mal_bool(int b); /* borrowed-free: returns a new reference */

/* ---- Environments -------------------------------------------------------- */

mal_env_t *mal_env_new(mal_env_t *outer);
int mal_env_set(mal_env_t *env, rcy_object_t *sym, rcy_object_t *val); /* 0 or -1, thrown */
rcy_object_t *mal_env_get(mal_env_t *env, rcy_object_t *sym);       /* borrowed, NULL if absent */

/* ---- Reader and printer -------------------------------------------------- */

/* Reads one form into *out (a new reference): returns 1, or 0 when the text
   holds no form (blanks and comments), or -1 with an error thrown. */
int mal_read_str(const char *text, rcy_object_t **out);

/* A growable C string. */
typedef struct mal_buf_s {
    char *data;
    size_t len, cap;
} mal_buf_t;
int mal_buf_put(mal_buf_t *b, const char *s, size_t n);
int mal_buf_puts(mal_buf_t *b, const char *s);
void mal_buf_free(mal_buf_t *b);

/* Appends the printed form of o. 0, or -1 when memory runs out. */
int mal_pr(mal_buf_t *b, rcy_object_t *o, int readably);
/* pr_str as a mal string: the args joined by sep. */
rcy_object_t *mal_pr_join(int argc, rcy_object_t *const *argv, int readably, const char *sep);

/* ---- Evaluation ---------------------------------------------------------- */

rcy_object_t *mal_eval(rcy_object_t *ast, mal_env_t *env);
/* Calls a function (builtin, closure or macro) on argv, through rcy_call. */
rcy_object_t *mal_apply(rcy_object_t *f, int argc, rcy_object_t *const *argv);

/* The call slot of closures and macros (rcy_call_fn): binds the parameters
   and evaluates the body. */
rcy_object_t *mal_fn_call(rcy_object_t *self, rcy_object_t *const *args, size_t nargs);

/* mal equality (=): 1, 0, or -1 with an error thrown (too deep). */
int mal_equal(rcy_object_t *a, rcy_object_t *b);

/* ---- Setup --------------------------------------------------------------- */

int mal_init(int step);
/* Installs the core functions of steps <= mal.step into env. */
int mal_core_install(mal_env_t *env);
/* Drops every reference the interpreter holds, collects, destroys the
   runtime; returns the number of objects still alive before the teardown
   (0 unless something leaked). */
size_t mal_finish(void);

/* Line input: the prompt, then a malloc'd line without its newline, or NULL
   at end of input. Uses readline when the build found it. */
char *mal_readline(const char *prompt);

#endif
