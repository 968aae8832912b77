/*
 * toy_data.h - the course toy's data for bench/toy.c and bench/fann_toy.c:
 * the 8 rows of examples/grades.csv as one batch, inputs scaled to about
 * [0, 1] (hours / 15, age / 25, average / 7).  Include after grades.h.
 */
#ifndef TOY_DATA_H
#define TOY_DATA_H

#include "nnrt_data.h"

/* Reads the table at path into d; on an error prints "prog: ..." and
 * returns nonzero. */
static int toy_data(const char *prog, const char *path, nnrt_dataset *d)
{
    nnrt_data_spec spec = {GRADES_INPUT_SIZE, NNRT_TARGETS_VALUES,
                           GRADES_TARGET_SIZE, 0, 0};
    char err[256];
    if (nnrt_read_csv(path, &spec, d, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    if (d->n != GRADES_BATCH) {
        fprintf(stderr, "%s: expected %d rows, got %zu\n", prog, GRADES_BATCH, d->n);
        nnrt_dataset_free(d);
        return 1;
    }
    static const float scale[GRADES_INPUT_SIZE] = {15, 25, 7};
    for (size_t i = 0; i < d->n * GRADES_INPUT_SIZE; i++)
        d->x[i] /= scale[i % GRADES_INPUT_SIZE];
    return 0;
}

#endif
