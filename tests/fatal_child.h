/* Running a case that must abort in a forked child, and checking its fatal
   report (test_fatal.c, test_freed.c, test_cross_runtime.c, test_recursion.c).

   The child's output (through the default stderr hook, redirected, or
   through a custom hook) goes to a pipe. The child first writes the line
   "ADDR <%p of the object>" to the same pipe (announce); the parent checks
   that the child died of SIGABRT and that the message names
   "<Type ADDR>". Include after harness.h, with _POSIX_C_SOURCE defined. */
#ifndef RCY_TEST_FATAL_CHILD_H
#define RCY_TEST_FATAL_CHILD_H

#include "harness.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int child_fd = -1; /* the write end of the pipe, in the child */

static inline void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* An output hook that writes to the pipe directly. */
static inline void pipe_output(void *arg, const char *text)
{
    write_all(*(int *)arg, text, strlen(text));
}

/* Called by the child: tells the parent which object the report must name. */
static inline void announce(const void *o)
{
    char line[64];
    int n = snprintf(line, sizeof line, "ADDR %p\n", o);
    write_all(child_fd, line, (size_t)n);
}

/* How the child's runtime reports. */
enum hook_e { HOOK_STDERR, HOOK_PIPE };

static inline rcy_runtime_t *child_runtime(enum hook_e hook, int poison)
{
    rcy_config_t cfg;
    rcy_config_init(&cfg);
    if (hook == HOOK_PIPE) {
        cfg.output = pipe_output;
        cfg.output_arg = &child_fd;
    }
    cfg.poison = poison;
    rcy_runtime_t *rt = rcy_runtime_new(&cfg);
    if (rt == NULL)
        _exit(3);
    return rt;
}

typedef struct result_s {
    int status;
    char out[8192];
} result_t;

/* Forks, runs fn(hook) in the child with stderr redirected to the pipe, and
   collects the child's output and exit status. */
static inline void run_child(void (*fn)(enum hook_e), enum hook_e hook, result_t *res)
{
    int fds[2];
    memset(res, 0, sizeof *res);
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        child_fd = fds[1];
        dup2(fds[1], STDERR_FILENO);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* abort quickly, leave no core file */
        fn(hook);
        write_all(child_fd, "NO ABORT\n", 9);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fds[0], res->out + len, sizeof res->out - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == sizeof res->out - 1)
            break;
    }
    res->out[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &res->status, 0) < 0) {
    }
}

/* Checks that the child aborted and named "<type_name ADDR>" after
   announcing ADDR, with the given text in the message. */
static inline void check_fatal(const result_t *res, const char *type_name, const char *what)
{
    if (getenv("RCY_TEST_VERBOSE") != NULL)
        fprintf(stderr, "child output:\n%s", res->out);
    CHECK(WIFSIGNALED(res->status));
    if (WIFSIGNALED(res->status))
        CHECK_EQ(WTERMSIG(res->status), SIGABRT);
    const char *addr = strstr(res->out, "ADDR ");
    CHECK(addr != NULL);
    if (addr == NULL) {
        fprintf(stderr, "child output:\n%s\n", res->out);
        return;
    }
    char ptr[32] = {0};
    size_t i = 0;
    for (const char *p = addr + 5; *p && *p != '\n' && i < sizeof ptr - 1; p++)
        ptr[i++] = *p;
    char expected[128];
    snprintf(expected, sizeof expected, "<%s %s>", type_name, ptr);
    CHECK_STR_CONTAINS(res->out, "recycle: fatal error: ");
    CHECK_STR_CONTAINS(res->out, expected);
    CHECK_STR_CONTAINS(res->out, what);
    CHECK_STR_CONTAINS(res->out, "aborting");
    CHECK(strstr(res->out, "NO ABORT") == NULL);
}

#endif
