/*
 * nnrt_data.h - reading training data: CSV/TSV files and IDX files (the
 * MNIST format, gzip-compressed or not) into float arrays.
 *
 * A second public header of the runtime, beside nnrt.h, for programs that
 * read data (generated trainers, nnc train/eval/predict). Data files are
 * untrusted input: a reader validates everything and either returns a
 * complete dataset or fails with a one-line message naming the file, the
 * line and the column, never a partial dataset.
 *
 * Valid C99, like nnrt.h. docs/RUNTIME.md ("Reading data") documents the
 * accepted formats and every message.
 */
#ifndef NNRT_DATA_H
#define NNRT_DATA_H

#include <stddef.h>

/* What the columns after the inputs (CSV) or the labels file (IDX) hold. */
typedef enum nnrt_targets {
    NNRT_TARGETS_NONE,     /* inputs only (prediction data) */
    NNRT_TARGETS_VALUES,   /* ny numeric columns (regression, 0/1 targets) */
    NNRT_TARGETS_CLASS_ID, /* one integer column in [0, nclasses), stored
                            * as one float (sparse_categorical_crossentropy) */
    NNRT_TARGETS_ONE_HOT   /* nclasses one-hot columns, or one class-id
                            * column expanded to one-hot
                            * (categorical_crossentropy) */
} nnrt_targets;

/* What the model expects of each row. */
typedef struct nnrt_data_spec {
    size_t nx;            /* input floats per row (product of input shape) */
    nnrt_targets targets;
    size_t ny;            /* VALUES: target columns; CLASS_ID: 1;
                           * ONE_HOT: nclasses */
    size_t nclasses;      /* CLASS_ID and ONE_HOT only */
    int binary;           /* VALUES: targets must be 0 or 1
                           * (binary_crossentropy) */
} nnrt_data_spec;

/* A dataset in memory, row-major. */
typedef struct nnrt_dataset {
    size_t n;             /* rows */
    size_t nx, ny;        /* floats per row of x and of y (as stored:
                           * ONE_HOT gives nclasses, NONE gives 0) */
    float *x;             /* [n][nx], malloc'ed */
    float *y;             /* [n][ny], malloc'ed; NULL for NNRT_TARGETS_NONE */
} nnrt_dataset;

/* Reads a CSV or TSV file of numbers: each row holds spec->nx inputs
 * followed by its targets. The separator (tab, ';' or ','), a header row,
 * a UTF-8 BOM, CRLF line ends, blank lines, quoted fields and (with ';'
 * or tab separators, or inside quotes) decimal commas are recognised.
 * Returns 0 with *out filled, or -1 with *out empty (safe to free) and a
 * one-line message in err (truncated to errlen; err may be NULL):
 * "PATH:LINE:COL: what is wrong" about one field, "PATH:LINE: ..." about a
 * whole line, "PATH: ..." about the file. */
int nnrt_read_csv(const char *path, const nnrt_data_spec *spec,
                  nnrt_dataset *out, char *err, size_t errlen);

/* Reads IDX files of unsigned bytes, gzip-compressed or plain: images
 * (count, then each example's dimensions, whose product must be spec->nx;
 * pixels scaled to [0, 1]) and labels (one byte per example, converted as
 * the spec's targets say: CLASS_ID, ONE_HOT, or VALUES with ny == 1).
 * labels may be NULL only for NNRT_TARGETS_NONE, which ignores it.
 * Returns 0, or -1 with *out empty and "PATH: what is wrong" in err. */
int nnrt_read_idx(const char *images, const char *labels,
                  const nnrt_data_spec *spec, nnrt_dataset *out,
                  char *err, size_t errlen);

/* Frees d's arrays and empties it; freeing twice or freeing an empty
 * dataset is harmless. */
void nnrt_dataset_free(nnrt_dataset *d);

#endif /* NNRT_DATA_H */
