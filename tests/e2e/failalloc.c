/*
 * failalloc.c - allocation-failure injection for the end-to-end tests:
 * an LD_PRELOAD object whose malloc, calloc and realloc fail (return NULL
 * with errno ENOMEM) when the environment says so, so that a generated
 * trainer's out-of-memory paths run for real.
 *
 *   FAILALLOC_OVER=N    fail every request of more than N bytes
 *   FAILALLOC_AFTER=N   let the first N requests through, fail all later
 *                       ones (a sweep over N fails each allocation point
 *                       in turn)
 *   FAILALLOC_ONLY=N    fail request number N (from 1) alone
 *   FAILALLOC_COUNT=F   at exit, write the number of requests to file F
 *
 * With none set, every request goes through.  Only requests from main
 * on are counted and failed: the libraries' initialization before it
 * (OpenBLAS's exits when an allocation fails) is not the program's to
 * handle.  Built by tests/e2e/oom.sh:
 *   cc -shared -fPIC failalloc.c -o failalloc.so
 * It passes on to glibc's own allocator (__libc_malloc and friends);
 * free and the rest are glibc's, which owns every block either way.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* glibc's allocator under its own names. */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

typedef int Main(int argc, char **argv, char **envp);
typedef int StartMain(Main *main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void),
                      void *stack_end);
int __libc_start_main(Main *main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void),
                      void *stack_end);

static int armed;                   /* main has started */
static Main *real_main;
static int ready;                   /* the environment was read */
static size_t over = (size_t)-1;    /* FAILALLOC_OVER */
static unsigned long after = (unsigned long)-1; /* FAILALLOC_AFTER */
static unsigned long only;          /* FAILALLOC_ONLY; 0: none */
static unsigned long count;         /* requests so far */

/* Reads the settings once: getenv does not allocate. */
static void setup(void)
{
    const char *s = getenv("FAILALLOC_OVER");
    if (s != NULL && *s != '\0')
        over = (size_t)strtoull(s, NULL, 10);
    s = getenv("FAILALLOC_AFTER");
    if (s != NULL && *s != '\0')
        after = strtoul(s, NULL, 10);
    s = getenv("FAILALLOC_ONLY");
    if (s != NULL && *s != '\0')
        only = strtoul(s, NULL, 10);
    ready = 1;
}

/* Whether this request, of `bytes`, fails (always if its size overflowed). */
static int fails(size_t bytes, int overflowed)
{
    if (!armed)
        return 0;
    if (!ready)
        setup();
    count++;
    if (overflowed || bytes > over || count > after || count == only) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

void *malloc(size_t size)
{
    return fails(size, 0) ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    int overflowed = size != 0 && n > (size_t)-1 / size;
    return fails(n * size, overflowed) ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    return fails(size, 0) ? NULL : __libc_realloc(p, size);
}

static int armed_main(int argc, char **argv, char **envp)
{
    armed = 1;
    return real_main(argc, argv, envp);
}

/* The C library calls main from here: main is wrapped to arm the
 * failures (the next __libc_start_main, glibc's, needs dlsym, which may
 * allocate: nothing fails yet). */
int __libc_start_main(Main *main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void),
                      void *stack_end)
{
    StartMain *next;
    *(void **)&next = dlsym(RTLD_NEXT, "__libc_start_main");
    real_main = main;
    return next(armed_main, argc, argv, init, fini, rtld_fini, stack_end);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("FAILALLOC_COUNT");
    if (path == NULL || *path == '\0')
        return;
    unsigned long n = count;
    armed = 0;                      /* fopen below must not fail */
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fprintf(f, "%lu\n", n);
        fclose(f);
    }
}
