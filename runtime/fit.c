/*
 * fit.c - the model-independent parts of a generated NAME_fit loop:
 * its options, the per-epoch history it returns, and a clock to time it.
 * Also the library's version, so a program can report what it linked,
 * and the atomic whole-file writer (nnc itself links this file for it).
 * The contract of each public function is its comment in nnrt.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, CLOCK_MONOTONIC */
#endif

#include "nnrt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *nnrt_version(void)
{
    return NNRT_VERSION;
}

void nnrt_fit_options_default(nnrt_fit_options *o)
{
    o->epochs = 1;
    o->batch = 32;
    o->shuffle = 1;
    o->seed = 0;
    o->verbose = 1;
}

int nnrt_history_init(nnrt_history *h, int epochs, int nmetrics)
{
    h->epochs = 0;
    h->nmetrics = 0;
    h->loss = h->metrics = h->seconds = NULL;
    h->initial_epoch = h->has_val = 0;
    h->val_loss = h->val_metrics = NULL;
    if (epochs < 0 || nmetrics < 0)
        return -1;
    /* +1 so that zero epochs or metrics still get a non-NULL pointer and
     * NULL can only mean out of memory. */
    size_t e = (size_t)epochs, cells = e * (size_t)nmetrics;
    h->loss = calloc(e + 1, sizeof *h->loss);
    h->metrics = calloc(cells + 1, sizeof *h->metrics);
    h->seconds = calloc(e + 1, sizeof *h->seconds);
    if (h->loss == NULL || h->metrics == NULL || h->seconds == NULL) {
        nnrt_history_free(h);
        return -1;
    }
    h->epochs = epochs;
    h->nmetrics = nmetrics;
    return 0;
}

void nnrt_history_free(nnrt_history *h)
{
    free(h->loss);
    free(h->metrics);
    free(h->seconds);
    h->loss = h->metrics = h->seconds = NULL;
    h->val_loss = h->val_metrics = NULL;
    h->epochs = h->nmetrics = h->has_val = 0;
}

double nnrt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The whole-file writer every output of nnc and the trainers goes through
 * (weights use the same steps in safetensors.c): temporary file beside the
 * target, fsync, rename, so a crash never leaves a truncated file. */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
}

int nnrt_write_file_atomic(const char *path, const void *buf, size_t len,
                           char *err, size_t errlen)
{
    size_t tmplen = strlen(path) + 32;
    char *tmp = malloc(tmplen);
    if (tmp == NULL) {
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        set_err(err, errlen, "%s: cannot create '%s': %s", path, tmp,
             strerror(errno));
        free(tmp);
        return -1;
    }
    errno = 0;
    int werr = 0;
    if (fwrite(buf, 1, len, f) != len || fflush(f) != 0 ||
        fsync(fileno(f)) != 0)
        werr = errno ? errno : EIO; /* a short write need not set errno */
    if (fclose(f) != 0 && werr == 0)
        werr = errno ? errno : EIO;
    if (werr == 0 && rename(tmp, path) != 0)
        werr = errno;
    if (werr != 0) {
        set_err(err, errlen, "%s: cannot write: %s", path, strerror(werr));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
