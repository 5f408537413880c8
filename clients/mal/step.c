/*
 * mal on recycle: EVAL and the REPL. This file is compiled once per step of
 * mal's guide with MAL_STEP set (0..9, 10 for step A); each executable has
 * the special forms, the core functions and the REPL set-up of its step
 * and of the steps before it, and nothing later.
 */
#include "mal.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MAL_STEP
#error "MAL_STEP must be defined (0..10)"
#endif

#define STEP MAL_STEP

/* Replaces the owned variable var by a new reference to x (which may be
   owned by the old value of var: the reference is taken first). */
#define REPLACE(var, x)                                                                            \
    do {                                                                                           \
        rcy_object_t *new_ = rcy_newref((rcy_object_t *)(x));                                      \
        rcy_decref((rcy_object_t *)(var));                                                         \
        (var) = (void *)new_;                                                                      \
    } while (0)

/* ---- quasiquote ---------------------------------------------------------- */

#if STEP >= 7
static rcy_object_t *list3(rcy_object_t *a, rcy_object_t *b, rcy_object_t *c)
{
    rcy_object_t *items[3] = {a, b, c};
    return mal_list_of(c ? 3 : 2, items);
}

static rcy_object_t *quasiquote(rcy_object_t *ast);

/* The items of seq, from the end: (cons (qq elt) acc) or (concat x acc). */
static rcy_object_t *qq_seq(rcy_object_t *seq)
{
    rcy_object_t *acc = mal_list_of(0, NULL);
    for (intptr_t i = mal_seq_len(seq) - 1; acc != NULL && i >= 0; i--) {
        rcy_object_t *elt = mal_seq_get(seq, i), *next;
        if (mal_is_list(elt) && mal_seq_len(elt) >= 2 && mal_seq_get(elt, 0) == mal.s_splice_unquote) {
            next = list3(mal.s_concat, mal_seq_get(elt, 1), acc);
        } else {
            rcy_object_t *q = quasiquote(elt);
            next = q ? list3(mal.s_cons, q, acc) : NULL;
            rcy_xdecref(q);
        }
        rcy_decref(acc);
        acc = next;
    }
    return acc;
}

static rcy_object_t *quasiquote(rcy_object_t *ast)
{
    if (mal_is_list(ast)) {
        if (mal_seq_len(ast) >= 2 && mal_seq_get(ast, 0) == mal.s_unquote)
            return rcy_newref(mal_seq_get(ast, 1));
        return qq_seq(ast);
    }
    if (mal_is_vector(ast)) {
        rcy_object_t *q = qq_seq(ast);
        rcy_object_t *l = q ? list3(mal.s_vec, q, NULL) : NULL;
        rcy_xdecref(q);
        return l;
    }
    if (mal_is_map(ast) || mal_is_sym(ast))
        return list3(mal.s_quote, ast, NULL);
    return rcy_newref(ast);
}
#endif

/* ---- Calls ----------------------------------------------------------------- */

#if STEP >= 4
/* A new environment binding f's parameters to argv (missing ones to nil). */
static mal_env_t *bind_args(mal_fn_t *f, int argc, rcy_object_t *const *argv)
{
    mal_env_t *env = mal_env_new(f->env);
    if (env == NULL)
        return NULL;
    for (intptr_t i = 0; i < f->nfixed; i++) {
        if (mal_env_set(env, mal_seq_get(f->params, i), i < argc ? argv[i] : mal.nil) < 0)
            goto fail;
    }
    if (f->rest != NULL) {
        intptr_t n = argc > f->nfixed ? argc - f->nfixed : 0;
        rcy_object_t *rest = mal_list_of(n, argv + (argc > f->nfixed ? f->nfixed : 0));
        if (rest == NULL)
            goto fail;
        int rc = mal_env_set(env, f->rest, rest);
        rcy_decref(rest);
        if (rc < 0)
            goto fail;
    }
    return env;
fail:
    rcy_decref(&env->ob);
    return NULL;
}
#endif

rcy_object_t *mal_fn_call(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
#if STEP >= 4
    mal_fn_t *fn = (mal_fn_t *)self;
    mal_env_t *env = bind_args(fn, (int)nargs, args);
    if (env == NULL)
        return NULL;
    rcy_object_t *r = mal_eval(fn->body, env);
    rcy_decref(&env->ob);
    return r;
#else
    (void)self, (void)args, (void)nargs;
    return mal_throwf("no closures before step 4");
#endif
}

rcy_object_t *mal_apply(rcy_object_t *f, int argc, rcy_object_t *const *argv)
{
    if (rcy_is_callable(f)) {
        rcy_object_t *r = rcy_call(f, argv, (size_t)argc);
        if (r == NULL && rcy_error_value(mal.rt) == NULL) {
            /* the library's own error (RCY_EDEPTH: stack nearly used up):
               thrown as a mal string */
            rcy_object_t *e = mal_catch();
            mal_throw(e);
            rcy_decref(e);
        }
        return r;
    }
    mal_buf_t b = {0};
    mal_pr(&b, f, 1);
    mal_throwf("%s is not a function", b.data ? b.data : "?");
    mal_buf_free(&b);
    return NULL;
}

/* ---- EVAL ------------------------------------------------------------------ */

#if STEP >= 2
/* Evaluates the items of seq into a new recycle list. */
static rcy_object_t *eval_items(rcy_object_t *seq, mal_env_t *env)
{
    rcy_object_t *l = mal_list_of(0, NULL);
    intptr_t n = mal_seq_len(seq);
    for (intptr_t i = 0; l != NULL && i < n; i++) {
        rcy_object_t *v = mal_eval(mal_seq_get(seq, i), env);
        if (v == NULL || rcy_list_append(l, v) < 0) {
            rcy_decref(l);
            l = v ? mal_throw_rcy("eval") : NULL;
        }
        rcy_xdecref(v);
    }
    return l;
}

static rcy_object_t *not_found(rcy_object_t *sym)
{
    return mal_throwf("'%s' not found", rcy_str_data(((mal_sym_t *)sym)->name));
}

#define MAX_INLINE_ARGS 8
#endif

rcy_object_t *mal_eval(rcy_object_t *ast_in, mal_env_t *env_in)
{
#if STEP < 2
    (void)env_in;
    return rcy_newref(ast_in);
#else
    char here;
    if (&here < mal.stack_limit)
        return mal_throwf("stack overflow: too deep a recursion");
    rcy_object_t *ast = rcy_newref(ast_in);
    mal_env_t *env = (mal_env_t *)rcy_newref(&env_in->ob);
    rcy_object_t *result = NULL;
    rcy_object_t *small[MAX_INLINE_ARGS], **args = small;
    int nargs = 0;

    for (;;) {
#if STEP >= 3
        rcy_object_t *dbg = mal.debug_eval_bound ? mal_env_get(env, mal.s_debug_eval) : NULL;
        if (dbg != NULL && mal_truthy(dbg)) {
            mal_buf_t b = {0};
            if (mal_pr(&b, ast, 1) == 0)
                printf("EVAL: %s\n", b.data);
            mal_buf_free(&b);
        }
#endif
        if (mal_is_sym(ast)) {
            rcy_object_t *v = mal_env_get(env, ast);
            result = v ? rcy_newref(v) : not_found(ast);
            break;
        }
        if (mal_is_vector(ast)) {
            rcy_object_t *l = eval_items(ast, env);
            result = l ? mal_vec_wrap(l, MAL_SEQ_VECTOR, NULL) : NULL;
            rcy_xdecref(l);
            break;
        }
        if (mal_is_map(ast)) {
            result = mal_map_new();
            intptr_t pos = 0;
            rcy_object_t *k, *v, *d = ((mal_map_t *)ast)->dict;
            while (result != NULL && rcy_dict_next(d, &pos, &k, &v) == 1) {
                rcy_object_t *ev = mal_eval(v, env);
                if (ev == NULL || mal_map_put(result, k, ev) < 0)
                    RCY_CLEAR(result);
                rcy_xdecref(ev);
            }
            break;
        }
        if (!mal_is_list(ast) || mal_seq_len(ast) == 0) {
            result = rcy_newref(ast);
            break;
        }
        intptr_t n = mal_seq_len(ast);
        rcy_object_t *head = mal_seq_get(ast, 0);
        /* The items of ast stay alive while we hold ast (lists are never
           mutated), across the evaluations below. */
#define ARG(i) ((i) < n ? mal_seq_get(ast, (i)) : mal.nil)
#if STEP >= 3
        if (head == mal.s_def) {
            if (n != 3 || !mal_is_sym(ARG(1))) {
                result = mal_throwf("def!: expected a symbol and a value");
                break;
            }
            rcy_object_t *v = mal_eval(ARG(2), env);
            if (v != NULL && mal_env_set(env, ARG(1), v) < 0)
                RCY_CLEAR(v);
            result = v;
            break;
        }
        if (head == mal.s_let) {
            rcy_object_t *binds = ARG(1);
            if (n < 2 || !mal_is_seq(binds) || mal_seq_len(binds) % 2 != 0) {
                result = mal_throwf("let*: expected a binding list of pairs");
                break;
            }
            mal_env_t *let_env = mal_env_new(env);
            if (let_env == NULL)
                break;
            intptr_t nb = mal_seq_len(binds);
            int ok = 1;
            for (intptr_t i = 0; ok && i < nb; i += 2) {
                rcy_object_t *sym = mal_seq_get(binds, i);
                if (!mal_is_sym(sym)) {
                    mal_throwf("let*: expected a symbol");
                    ok = 0;
                    break;
                }
                rcy_object_t *v = mal_eval(mal_seq_get(binds, i + 1), let_env);
                ok = v != NULL && mal_env_set(let_env, sym, v) == 0;
                rcy_xdecref(v);
            }
            if (!ok) {
                rcy_decref(&let_env->ob);
                break;
            }
#if STEP >= 5
            rcy_decref(&env->ob);
            env = let_env; /* our reference passes to env */
            REPLACE(ast, ARG(2));
            continue;
#else
            result = mal_eval(ARG(2), let_env);
            rcy_decref(&let_env->ob);
            break;
#endif
        }
#endif
#if STEP >= 4
        if (head == mal.s_do) {
            intptr_t i;
            int ok = 1;
            for (i = 1; ok && i < n - (STEP >= 5 ? 1 : 0); i++) {
                rcy_object_t *v = mal_eval(ARG(i), env);
                ok = v != NULL;
                if (STEP < 5 && i == n - 1)
                    result = v;
                else
                    rcy_xdecref(v);
            }
            if (!ok)
                break;
            if (n == 1) {
                result = rcy_newref(mal.nil);
                break;
            }
#if STEP >= 5
            REPLACE(ast, ARG(n - 1));
            continue;
#else
            break;
#endif
        }
        if (head == mal.s_if) {
            if (n < 3 || n > 4) {
                result = mal_throwf("if: expected a condition and one or two branches");
                break;
            }
            rcy_object_t *c = mal_eval(ARG(1), env);
            if (c == NULL)
                break;
            rcy_object_t *branch = mal_truthy(c) ? ARG(2) : ARG(3);
            rcy_decref(c);
#if STEP >= 5
            REPLACE(ast, branch);
            continue;
#else
            result = mal_eval(branch, env);
            break;
#endif
        }
        if (head == mal.s_fn) {
            if (n != 3 || !mal_is_seq(ARG(1))) {
                result = mal_throwf("fn*: expected a parameter list and a body");
                break;
            }
            result = mal_fn_new(ARG(1), ARG(2), env);
            break;
        }
#endif
#if STEP >= 7
        if (head == mal.s_quote) {
            result = rcy_newref(ARG(1));
            break;
        }
        if (head == mal.s_quasiquote) {
            rcy_object_t *q = quasiquote(ARG(1));
            if (q == NULL)
                break;
            rcy_decref(ast);
            ast = q; /* our reference passes to ast */
            continue;
        }
#endif
#if STEP >= 8
        if (head == mal.s_defmacro) {
            if (n != 3 || !mal_is_sym(ARG(1))) {
                result = mal_throwf("defmacro!: expected a symbol and a function");
                break;
            }
            rcy_object_t *v = mal_eval(ARG(2), env);
            if (v == NULL)
                break;
            if (!mal_is_fn(v)) {
                rcy_decref(v);
                result = mal_throwf("defmacro!: expected a function");
                break;
            }
            mal_fn_t *src = (mal_fn_t *)v;
            mal_fn_t *m = (mal_fn_t *)mal_fn_new(src->params, src->body, src->env);
            rcy_decref(v);
            if (m == NULL)
                break;
            m->is_macro = 1;
            if (mal_env_set(env, ARG(1), &m->ob) < 0) {
                rcy_decref(&m->ob);
                break;
            }
            result = &m->ob;
            break;
        }
#endif
#if STEP >= 9
        if (head == mal.s_try) {
            rcy_object_t *clause = ARG(2);
            if (n < 3) {
                REPLACE(ast, ARG(1));
                continue;
            }
            if (!mal_is_list(clause) || mal_seq_len(clause) != 3 || mal_seq_get(clause, 0) != mal.s_catch ||
                !mal_is_sym(mal_seq_get(clause, 1))) {
                result = mal_throwf("try*: expected (catch* symbol form)");
                break;
            }
            result = mal_eval(ARG(1), env);
            if (result != NULL)
                break;
            rcy_object_t *exc = mal_catch(); /* the thrown value; no error pending now */
            mal_env_t *catch_env = mal_env_new(env);
            int ok = catch_env != NULL && mal_env_set(catch_env, mal_seq_get(clause, 1), exc) == 0;
            rcy_decref(exc);
            if (!ok) {
                if (catch_env)
                    rcy_decref(&catch_env->ob);
                break;
            }
            rcy_decref(&env->ob);
            env = catch_env;
            REPLACE(ast, mal_seq_get(clause, 2));
            continue;
        }
#endif
        /* A call. */
        rcy_object_t *f = mal_eval(head, env);
        if (f == NULL)
            break;
#if STEP >= 8
        if (mal_is_fn(f) && ((mal_fn_t *)f)->is_macro) {
            /* The unevaluated arguments, borrowed from ast. */
            nargs = (int)(n - 1);
            args = nargs <= MAX_INLINE_ARGS ? small : malloc((size_t)nargs * sizeof *args);
            if (args == NULL) {
                args = small;
                rcy_decref(f);
                result = mal_throwf("out of memory");
                break;
            }
            for (int i = 0; i < nargs; i++)
                args[i] = mal_seq_get(ast, i + 1);
            rcy_object_t *expanded = mal_apply(f, nargs, args);
            rcy_decref(f);
            if (args != small)
                free(args);
            args = small;
            nargs = 0;
            if (expanded == NULL)
                break;
            rcy_decref(ast);
            ast = expanded;
            continue;
        }
#endif
        nargs = (int)(n - 1);
        args = nargs <= MAX_INLINE_ARGS ? small : malloc((size_t)nargs * sizeof *args);
        if (args == NULL) {
            args = small;
            nargs = 0;
            rcy_decref(f);
            result = mal_throwf("out of memory");
            break;
        }
        int ok = 1, done = 0;
        for (int i = 0; i < nargs; i++) {
            args[i] = mal_eval(mal_seq_get(ast, i + 1), env);
            if (args[i] == NULL) {
                done = i;
                ok = 0;
                break;
            }
        }
        if (!ok) {
            for (int i = 0; i < done; i++)
                rcy_decref(args[i]);
            rcy_decref(f);
            break;
        }
        done = nargs;
#if STEP >= 5
        if (mal_is_fn(f)) {
            mal_env_t *call_env = bind_args((mal_fn_t *)f, nargs, args);
            for (int i = 0; i < done; i++)
                rcy_decref(args[i]);
            if (args != small)
                free(args);
            args = small;
            nargs = 0;
            if (call_env == NULL) {
                rcy_decref(f);
                break;
            }
            rcy_decref(&env->ob);
            env = call_env;
            REPLACE(ast, ((mal_fn_t *)f)->body); /* taken before f is released */
            rcy_decref(f);
            continue;
        }
#endif
        result = mal_apply(f, nargs, args);
        for (int i = 0; i < done; i++)
            rcy_decref(args[i]);
        if (args != small)
            free(args);
        args = small;
        nargs = 0;
        rcy_decref(f);
        break;
#undef ARG
    }
    rcy_decref(ast);
    rcy_decref(&env->ob);
    return result;
#endif
}

/* ---- READ, PRINT, rep ------------------------------------------------------ */

#if STEP >= 1
/* Prints the pending error ("Error: " and the thrown value) and clears it. */
static void print_error(void)
{
    rcy_object_t *e = mal_catch();
    mal_buf_t b = {0};
    if (mal_pr(&b, e, 1) == 0)
        printf("Error: %s\n", b.data);
    mal_buf_free(&b);
    rcy_decref(e);
}
#endif

/* Runs one line; prints its value or its error. */
static void rep(const char *line)
{
#if STEP == 0
    printf("%s\n", line);
#else
    rcy_object_t *ast, *v = NULL;
    int r = mal_read_str(line, &ast);
    if (r == 0)
        return; /* a comment */
    if (ast != NULL) {
        v = mal_eval(ast, mal.repl_env);
        rcy_decref(ast);
    }
    if (v != NULL) {
        mal_buf_t b = {0};
        if (mal_pr(&b, v, 1) == 0)
            printf("%s\n", b.data);
        mal_buf_free(&b);
        rcy_decref(v);
    } else {
        print_error();
    }
    fflush(stdout);
#endif
}

#if STEP >= 4
/* Runs a line of set-up code; returns -1 (after printing) on an error. */
static int rep_quiet(const char *code)
{
    rcy_object_t *ast;
    mal_read_str(code, &ast);
    rcy_object_t *v = ast ? mal_eval(ast, mal.repl_env) : NULL;
    rcy_xdecref(ast);
    if (v == NULL) {
        fprintf(stderr, "mal: set-up failed: ");
        fflush(stderr);
        print_error();
        return -1;
    }
    rcy_decref(v);
    return 0;
}
#endif

#if STEP >= 6
static rcy_object_t *core_eval(rcy_object_t *self, rcy_object_t *const *args, size_t nargs)
{
    (void)self;
    if (!mal_arity_ok("eval", nargs, 1, 1))
        return NULL;
    return mal_eval(args[0], mal.repl_env);
}
#endif

/* ---- Stopping on SIGTERM --------------------------------------------------- */

/* mal's driver ends a run with SIGTERM. The REPL then stops reading as at
   the end of its input (the handler puts /dev/null under stdin) and tears
   the runtime down as usual, so the leak check runs in the test runs too. */
static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, 0);
        close(fd);
    }
}

/* ---- Collection pauses (for bench/mal) ------------------------------------- */

/* With MAL_GC_PAUSES=file, every collection's duration (as the collector
   reports it to a gc callback) is recorded, and a summary line is written
   to the file before teardown: "collections N total_ms T max_ms M". */
typedef struct pauses_s {
    intptr_t count;
    double total, max;
} pauses_t;

static pauses_t pauses;

static int on_gc(rcy_runtime_t *rt, rcy_gc_phase_t phase, const rcy_gc_info_t *info, void *arg)
{
    (void)rt;
    (void)arg;
    if (phase == RCY_GC_STOP) {
        pauses.count++;
        pauses.total += info->duration;
        if (info->duration > pauses.max)
            pauses.max = info->duration;
    }
    return 0;
}

static void write_pauses(void)
{
    const char *path = getenv("MAL_GC_PAUSES");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f == NULL)
        return;
    fprintf(f, "collections %ld total_ms %.3f max_ms %.3f\n", (long)pauses.count, pauses.total * 1e3,
            pauses.max * 1e3);
    fclose(f);
}

/* ---- main ------------------------------------------------------------------ */

typedef struct main_args_s {
    int argc;
    char **argv;
    int status;
    size_t stack_size;
} main_args_t;

static int set_up(int argc, char **argv)
{
    if (mal_init(STEP) < 0) {
        fprintf(stderr, "mal: cannot create the runtime\n");
        return -1;
    }
#if STEP >= 2
    if (mal_core_install(mal.repl_env) < 0)
        return -1;
#endif
#if STEP >= 4
    if (rep_quiet("(def! not (fn* (a) (if a false true)))") < 0)
        return -1;
#endif
#if STEP >= 6
    {
        rcy_object_t *sym = mal_sym("eval");
        rcy_object_t *b = sym ? mal_builtin_new("eval", core_eval) : NULL;
        int rc = b ? mal_env_set(mal.repl_env, sym, b) : -1;
        rcy_xdecref(sym);
        rcy_xdecref(b);
        if (rc < 0)
            return -1;
        rcy_object_t *l = mal_list_of(0, NULL);
        for (int i = 2; l != NULL && i < argc; i++) {
            rcy_object_t *s = mal_str_len(argv[i], strlen(argv[i]));
            if (s == NULL || rcy_list_append(l, s) < 0)
                RCY_CLEAR(l);
            rcy_xdecref(s);
        }
        sym = mal_sym("*ARGV*");
        rc = (l && sym) ? mal_env_set(mal.repl_env, sym, l) : -1;
        rcy_xdecref(sym);
        rcy_xdecref(l);
        if (rc < 0)
            return -1;
    }
    if (rep_quiet("(def! load-file (fn* (f) (eval (read-string (str \"(do \" (slurp f) \"\\nnil)\")))))") < 0)
        return -1;
#endif
#if STEP >= 8
    if (rep_quiet("(defmacro! cond (fn* (& xs) (if (> (count xs) 0) (list 'if (first xs) (if (> (count xs) 1) "
                  "(nth xs 1) (throw \"odd number of forms to cond\")) (cons 'cond (rest (rest xs)))))))") < 0)
        return -1;
#endif
#if STEP >= 10
    if (rep_quiet("(def! *host-language* \"recycle\")") < 0)
        return -1;
#endif
    (void)argc;
    (void)argv;
    return 0;
}

static void *run_main(void *p)
{
    main_args_t *a = p;
    char here;
    /* EVAL stops with an error 256 KiB before the end of this thread's stack. */
    mal.stack_limit = &here - (a->stack_size - 256 * 1024);
    int argc = a->argc;
    char **argv = a->argv;
    if (set_up(argc, argv) < 0) {
        a->status = 2;
        return NULL;
    }
    if (getenv("MAL_GC_PAUSES") != NULL)
        rcy_gc_callback_add(mal.rt, on_gc, NULL);
#if STEP >= 6
    if (argc > 1) {
        /* (load-file "<file>") built as data: no quoting of the name */
        rcy_object_t *sym = mal_sym("load-file");
        rcy_object_t *name = sym ? mal_str_len(argv[1], strlen(argv[1])) : NULL;
        rcy_object_t *items[2] = {sym, name};
        rcy_object_t *form = name ? mal_list_of(2, items) : NULL;
        rcy_xdecref(sym);
        rcy_xdecref(name);
        rcy_object_t *v = form ? mal_eval(form, mal.repl_env) : NULL;
        rcy_xdecref(form);
        if (v == NULL) {
            print_error();
            a->status = 1;
        }
        rcy_xdecref(v);
        fflush(stdout);
        goto finish;
    }
#endif
#if STEP >= 10
    rep_quiet("(println (str \"Mal [\" *host-language* \"]\"))"); /* the banner, not its value */
#endif
    for (;;) {
        char *line = stop_requested ? NULL : mal_readline("user> ");
        if (line == NULL) {
            if (!stop_requested) {
                putchar('\n'); /* end the last prompt's line */
                fflush(stdout);
            }
            break;
        }
        rep(line);
        free(line);
    }
#if STEP >= 6
finish:;
#endif
    write_pauses();
    size_t leaked = mal_finish();
    const char *report = getenv("MAL_LEAK_REPORT");
    if (report != NULL) {
        FILE *f = fopen(report, "w");
        if (f != NULL) {
            fprintf(f, "%zu\n", leaked);
            fclose(f);
        }
    }
    if (leaked > 0) {
        fprintf(stderr, "mal: %zu objects still alive at exit\n", leaked);
        a->status = 3;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Deep (non-tail) recursion is ordinary in mal: run on a big stack. */
    main_args_t a = {.argc = argc, .argv = argv, .status = 0, .stack_size = (size_t)512 << 20};
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    if (pthread_attr_setstacksize(&attr, a.stack_size) != 0 || pthread_create(&th, &attr, run_main, &a) != 0) {
        fprintf(stderr, "mal: cannot start the interpreter thread\n");
        return 2;
    }
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    return a.status;
}
