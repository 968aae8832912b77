/*
 * bench.h - what the C drivers of bench/ share: the result-record format
 * and the model-name macros.
 *
 * Every driver prints its results to stdout as records, one per line,
 * five tab-separated fields:
 *
 *     WORKLOAD  CONFIG  IMPL  METRIC  VALUE
 *     fashion   sgd     nnc   epoch_s 1.234
 *
 * bench/run.sh collects them (with bench/torch_bench.py's, same format)
 * into one file and bench/report.py takes medians over the repetitions.
 * Anything else a driver has to say goes to stderr.
 *
 * A driver for one generated model is compiled with -DMODEL=NAME
 * -DMODEL_UPPER=NAME_IN_CAPITALS -include DIR/NAME.h, as the numeric
 * tests do; FN(_predict) then names NAME_predict and CONST(_BATCH)
 * NAME_BATCH.
 *
 * Drivers are C99 with POSIX (-D_POSIX_C_SOURCE=200809L) and, like the
 * generated code, time with nnrt_now().
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(suffix) CAT(MODEL, suffix)
#define CONST(suffix) CAT(MODEL_UPPER, suffix)

/* Prints one result record (see above). */
static inline void record(const char *workload, const char *config, const char *impl,
                   const char *metric, double value)
{
    printf("%s\t%s\t%s\t%s\t%.9g\n", workload, config, impl, metric, value);
    fflush(stdout);
}

/* The peak resident set size of this process so far, in kB (Linux
 * reports ru_maxrss in kilobytes). */
static inline long peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

/* The current resident set size in kB, from /proc/self/statm; -1 if it
 * cannot be read (not Linux). */
static inline long current_rss_kb(void)
{
    long pages_total, pages_rss;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%ld %ld", &pages_total, &pages_rss) == 2;
    fclose(f);
    return ok ? pages_rss * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

/* Exits with a message when a driver is called with the wrong arguments. */
static inline void usage(const char *text)
{
    fprintf(stderr, "usage: %s\n", text);
    exit(2);
}

/* qsort comparator for doubles, ascending. */
static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0 .. n), n > 0; sorts v. */
static inline double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif /* BENCH_H */
