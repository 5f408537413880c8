/*
 * mal on recycle: line input, with line editing and history from GNU
 * readline (MAL_HAVE_READLINE) or libedit's readline interface
 * (MAL_HAVE_EDITLINE) when the build found one, else plain stdio.
 */
#include "mal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Waiting for a line is the REPL's idle time: in incremental mode
   (RCY_GC_MODE=incremental) up to this many microseconds of it run the
   collector's pass over the oldest generation, if one is in progress or
   due, before the prompt (short enough not to be seen), so that the young
   collections of the next evaluation carry less of it. Compat mode: nothing. */
#define MAL_IDLE_US 5000

static void idle(void) { (void)rcy_gc_incr_step(mal.rt, MAL_IDLE_US); }

#if defined(MAL_HAVE_READLINE) || defined(MAL_HAVE_EDITLINE)
#ifdef MAL_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#else
#include <editline/readline.h>
#endif

char *mal_readline(const char *prompt)
{
    static int ready;
    if (!ready) {
        /* our SIGTERM handler ends the REPL; readline must not take it */
        rl_catch_signals = 0;
        ready = 1;
    }
    idle();
    char *line = readline(prompt);
    if (line != NULL && line[0] != '\0')
        add_history(line);
    return line;
}
#else
char *mal_readline(const char *prompt)
{
    idle();
    fputs(prompt, stdout);
    fflush(stdout);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[n - 1] = '\0';
    return line;
}
#endif
