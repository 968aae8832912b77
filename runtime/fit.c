/*
 * fit.c - the model-independent parts of a generated NAME_fit loop:
 * its options, the per-epoch history it returns, and a clock to time it.
 * Also the library's version, so a program can report what it linked.
 * The contract of each public function is its comment in nnrt.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, CLOCK_MONOTONIC */
#endif

#include "nnrt.h"

#include <stdlib.h>
#include <time.h>

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
