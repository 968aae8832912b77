/*
 * pool.c - the runtime's threads: nnrt_parallel_for splits a loop over
 * [0, n) into one contiguous part per thread.
 *
 * nnrt_sgemm and nnrt_dgemm split large products with it (gemm.c), and
 * generated code the other work of a training step that is too big for
 * one core's cache: the optimizer update streams the parameters, their
 * gradients and the optimizer's slots (several megabytes for a mid-sized
 * MLP) once per step, and two cores with their own caches and load ports
 * do it faster than one.
 *
 * The threads are started on the first call that is worth splitting and
 * live as long as the process.  Between calls a worker first spins
 * (yielding the CPU, so that any other thread that has work runs) and
 * then sleeps on a condition variable: a training step hands out work
 * every few dozen microseconds, and waking a sleeping thread costs about
 * as much as the work.  Each part is computed by exactly the code the
 * serial loop runs, so the result does not depend on how a loop is split.
 * NNRT_NUM_THREADS sets the number of threads (1 turns the pool off);
 * -DNNRT_NO_THREADS builds the runtime without it.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* sysconf */
#endif

#include "nnrt.h"

#include <stdlib.h>
#include <string.h>

#ifndef NNRT_NO_THREADS
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#endif

/* The bounds of part `t` of `parts` over [0, n): equal shares, each
 * boundary rounded down to a multiple of `align` (16 elements are a 64-byte
 * cache line of floats, so that two threads never write the same line). */
void nnrt_part(size_t n, int parts, int t, size_t align, size_t *lo,
               size_t *hi)
{
    size_t a = n / (size_t)parts * (size_t)t, b = n / (size_t)parts * (size_t)(t + 1);
    if (align == 0)
        align = 1;
    *lo = t == 0 ? 0 : a / align * align;
    *hi = t == parts - 1 ? n : b / align * align;
}

/* The number of threads NNRT_NUM_THREADS asks for (or the CPUs online
 * when it is unset or not a number), clamped to [1, NNRT_MAX_THREADS]. */
int nnrt_threads_wanted(const char *env, long cpus)
{
    long t = cpus;
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && end != env)
            t = v;
    }
    if (t < 1)
        t = 1;
    return t > NNRT_MAX_THREADS ? NNRT_MAX_THREADS : (int)t;
}

#ifdef NNRT_NO_THREADS

int nnrt_num_threads(void)
{
    return 1;
}

void nnrt_pool_stats_get(nnrt_pool_stats *s)
{
    memset(s, 0, sizeof *s);
}

void nnrt_parallel_split(nnrt_range_fn *fn, void *ctx, size_t n, size_t align)
{
    (void)align;
    fn(ctx, 0, n);
}

#else

/* How many times an idle worker yields before it goes to sleep: each
 * sched_yield is a system call of about a microsecond, so this spins for a
 * few milliseconds, longer than the gaps within a training step. */
#define NNRT_SPIN 4000

static struct {
    pthread_once_t once;
    int nthreads;              /* 1: no pool */
    pthread_mutex_t busy;      /* held by the thread handing out a job */
    pthread_mutex_t lock;      /* with wake: sleeping workers */
    pthread_cond_t wake;
    atomic_uint generation;    /* bumped for every job */
    atomic_int pending;        /* workers still on the current job */
    nnrt_range_fn *fn;         /* the job: fn(ctx, part of [0, n)) */
    void *ctx;
    size_t n, align;
    double part_s[NNRT_MAX_THREADS]; /* each thread's time on its part */
    nnrt_pool_stats stats;     /* under lock */
} pool = {.once = PTHREAD_ONCE_INIT,
          .busy = PTHREAD_MUTEX_INITIALIZER,
          .lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER};

static void run_part(int t)
{
    size_t lo, hi;
    nnrt_part(pool.n, pool.nthreads, t, pool.align, &lo, &hi);
    const double start = nnrt_now();
    if (lo < hi)
        pool.fn(pool.ctx, lo, hi);
    pool.part_s[t] = nnrt_now() - start;
}

static void *worker(void *arg)
{
    const int t = (int)(size_t)arg;
    unsigned seen = 0;
#ifdef __linux__
    prctl(PR_SET_NAME, "nnrt-pool", 0, 0, 0); /* for top -H, gdb, tests */
#endif
    for (;;) {
        unsigned gen;
        for (int spin = 0;; spin++) {
            gen = atomic_load_explicit(&pool.generation, memory_order_acquire);
            if (gen != seen)
                break;
            if (spin < NNRT_SPIN) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.generation,
                                        memory_order_acquire) == seen)
                pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
        }
        seen = gen;
        run_part(t);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
    }
    return NULL;
}

/* A child of fork() has only the thread that forked: its loops run
 * alone. */
static void forked_child(void)
{
    pool.nthreads = 1;
}

/* Starts the workers; a thread that cannot be started leaves the pool
 * with the threads that could. */
static void start(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = nnrt_threads_wanted(getenv("NNRT_NUM_THREADS"), cpus);
    pool.nthreads = 1;
    if (want > 1 && pthread_atfork(NULL, NULL, forked_child) != 0)
        return;
    /* Workers block every signal (they inherit the mask they are started
     * with): signals go to the program's own threads and handlers. */
    sigset_t all, old;
    sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
        return;
    for (int t = 1; t < want; t++) {
        pthread_attr_t attr;
        pthread_t id;
        if (pthread_attr_init(&attr) != 0)
            break;
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int err = pthread_create(&id, &attr, worker, (void *)(size_t)t);
        pthread_attr_destroy(&attr);
        if (err != 0)
            break;
        pool.nthreads = t + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int nnrt_num_threads(void)
{
    pthread_once(&pool.once, start);
    return pool.nthreads;
}

/* One job at a time: a call made while another thread's job runs (two
 * models trained on two threads of the caller, or a call from inside fn)
 * runs its loop alone, on the calling thread. */
void nnrt_parallel_split(nnrt_range_fn *fn, void *ctx, size_t n, size_t align)
{
    if (nnrt_num_threads() == 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        fn(ctx, 0, n);
        return;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    pool.align = align;
    atomic_store_explicit(&pool.pending, pool.nthreads - 1,
                          memory_order_relaxed);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_part(0);
    const double done = nnrt_now();
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0)
        sched_yield();
    double others = 0;
    for (int t = 1; t < pool.nthreads; t++)
        others = pool.part_s[t] > others ? pool.part_s[t] : others;
    pthread_mutex_lock(&pool.lock);
    pool.stats.jobs++;
    pool.stats.own_s += pool.part_s[0];
    pool.stats.others_s += others;
    pool.stats.wait_s += nnrt_now() - done;
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

void nnrt_pool_stats_get(nnrt_pool_stats *s)
{
    pthread_mutex_lock(&pool.lock);
    *s = pool.stats;
    pthread_mutex_unlock(&pool.lock);
}

#endif

void nnrt_parallel_for(nnrt_range_fn *fn, void *ctx, size_t n)
{
    if (n < NNRT_PARALLEL_MIN)
        fn(ctx, 0, n);
    else
        nnrt_parallel_split(fn, ctx, n, 16);
}

typedef struct zero_job {
    char *p;
    size_t size;
} zero_job;

static void zero_range(void *ctx, size_t lo, size_t hi)
{
    const zero_job *z = ctx;
    memset(z->p + lo * z->size, 0, (hi - lo) * z->size);
}

void nnrt_parallel_zero(void *p, size_t n, size_t size)
{
    zero_job z = {p, size};
    nnrt_parallel_for(zero_range, &z, n);
}
