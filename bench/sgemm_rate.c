/*
 * sgemm_rate.c - the distance to the limit: how fast OpenBLAS alone does
 * the matrix products of one training epoch of an MLP.
 *
 *     sgemm_rate SECONDS ROWS BATCH N0 N1 ... NL
 *     sgemm_rate --info
 *
 * For a chain of dense layers N0 -> N1 -> ... -> NL (N0 the input size)
 * trained on ROWS rows in batches of BATCH, the generated code (see
 * NAME_forward and NAME_backward) makes these cblas_sgemm calls per step,
 * for each layer l with inputs I = N(l-1) and units U = Nl, b rows:
 *     forward  Z  = X W^T   NoTrans, Trans    m=b n=U k=I   beta 0
 *     backward dW += dZ^T X Trans, NoTrans    m=U n=I k=b   beta 1
 *                           (nnc: beta 0, or sgd's momentum: the same work)
 *     backward dX = dZ W    NoTrans, NoTrans  m=b n=I k=U   beta 0
 *                                             (not for the first layer)
 * Each shape is timed on its own (calls repeated for about SECONDS, the
 * median of five such blocks) for b = BATCH and, if ROWS is not a
 * multiple of BATCH, for the short last batch.  Records (bench/bench.h):
 *     sgemm  SHAPE      openblas  gflops        rate at that shape
 *     sgemm  SHAPE      openblas  us_per_call
 *     sgemm  epoch      openblas  gflop         GEMM work of one epoch
 *     sgemm  epoch      openblas  gemm_s        OpenBLAS's time for it
 *     sgemm  peak-N     openblas  gflops        a large square product
 *     sgemm  gemv-1xUxI openblas  us_per_call   batch-1 forward of the
 *     sgemm  gemm-1xUxI openblas  us_per_call   first layer: sgemv vs sgemm
 *     sgemm  forward-256 openblas us_per_call   the forward GEMMs of a
 *                                               256-row batch (inference)
 * The matrices hold uniform random values in [-1, 1).
 *
 * --info prints what OpenBLAS made of this machine, as "key<TAB>value"
 * lines for bench/run.sh's meta.tsv: the kernel set it chose (a CPU it
 * does not know gets a generic one; OPENBLAS_CORETYPE overrides), its
 * build configuration and its thread count.
 */
#include "bench.h"

#include <cblas.h>
#include <string.h>

#include "nnrt.h"

/* OpenBLAS's own functions, not in every cblas.h. */
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);

/* Rows of the inference batch whose forward GEMMs are timed. */
#define INFER_ROWS 256

static double seconds_per_block;
static float *A, *B, *C;

/* Seconds per call of C = op(A) op(B) (+ C) at the given shape: the
 * median of five blocks of calls that each last about seconds_per_block. */
static double time_gemm(int ta, int tb, int m, int n, int k, float beta)
{
    const int lda = ta ? m : k, ldb = tb ? k : n;
    long calls = 1;
    double spent = 0;
    while (spent < 0.02) { /* calibrate (and warm up) */
        calls *= 2;
        const double start = nnrt_now();
        for (long c = 0; c < calls; c++)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                        tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, lda,
                        B, ldb, beta, C, n);
        spent = nnrt_now() - start;
    }
    calls = (long)(seconds_per_block / (spent / (double)calls)) + 1;
    double block[5];
    for (int r = 0; r < 5; r++) {
        const double start = nnrt_now();
        for (long c = 0; c < calls; c++)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                        tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, lda,
                        B, ldb, beta, C, n);
        block[r] = (nnrt_now() - start) / (double)calls;
    }
    return median(block, 5);
}

/* As time_gemm for y = W x with W [m, k] (cblas_sgemv). */
static double time_gemv(int m, int k)
{
    long calls = 1;
    double spent = 0;
    while (spent < 0.02) {
        calls *= 2;
        const double start = nnrt_now();
        for (long c = 0; c < calls; c++)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, B, k, A, 1,
                        0.0f, C, 1);
        spent = nnrt_now() - start;
    }
    calls = (long)(seconds_per_block / (spent / (double)calls)) + 1;
    double block[5];
    for (int r = 0; r < 5; r++) {
        const double start = nnrt_now();
        for (long c = 0; c < calls; c++)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, B, k, A, 1,
                        0.0f, C, 1);
        block[r] = (nnrt_now() - start) / (double)calls;
    }
    return median(block, 5);
}

/* Times one shape, records it, and returns its seconds per call. */
static double shape(const char *what, int layer, int ta, int tb, int m, int n,
                    int k, float beta)
{
    char name[128];
    snprintf(name, sizeof name, "dense_%d %s m=%d n=%d k=%d", layer, what, m, n, k);
    const double s = time_gemm(ta, tb, m, n, k, beta);
    record("sgemm", name, "openblas", "gflops", 2e-9 * m * n * k / s);
    record("sgemm", name, "openblas", "us_per_call", 1e6 * s);
    return s;
}

/* One training step's GEMMs at b rows: adds their FLOPs to *flop and
 * returns their seconds. */
static double step(const int *sizes, int layers, int b, double *flop)
{
    double s = 0;
    for (int l = 1; l <= layers; l++) {
        const int in = sizes[l - 1], units = sizes[l];
        s += shape("fwd Z=XW^T", l, 0, 1, b, units, in, 0.0f);
        s += shape("bwd dW=dZ^T X", l, 1, 0, units, in, b, 1.0f);
        *flop += 2.0 * b * units * in * 2;
        if (l > 1) {
            s += shape("bwd dX=dZ W", l, 0, 0, b, in, units, 0.0f);
            *flop += 2.0 * b * units * in;
        }
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--info") == 0) {
        printf("openblas_core\t%s\n", openblas_get_corename());
        printf("openblas_config\t%s\n", openblas_get_config());
        printf("openblas_threads\t%d\n", openblas_get_num_threads());
        return 0;
    }
    if (argc < 6)
        usage("sgemm_rate SECONDS ROWS BATCH N0 N1 ... NL");
    seconds_per_block = atof(argv[1]);
    const long rows = atol(argv[2]);
    const int batch = atoi(argv[3]);
    const int layers = argc - 5;
    int sizes[64];
    if (layers >= 64 || rows <= 0 || batch <= 0)
        usage("sgemm_rate SECONDS ROWS BATCH N0 N1 ... NL (at most 63 layers)");
    size_t most = 1024 * 1024; /* the peak product below */
    for (int l = 0; l <= layers; l++) {
        sizes[l] = atoi(argv[4 + l]);
        const size_t big = (size_t)sizes[l] * (size_t)(batch > sizes[l] ? batch : sizes[l]);
        most = big > most ? big : most;
    }
    for (int l = 1; l <= layers; l++) {
        const size_t w = (size_t)sizes[l] * (size_t)sizes[l - 1];
        most = w > most ? w : most;
    }
    for (int l = 0; l <= layers; l++) /* forward-256 */
        most = (size_t)INFER_ROWS * (size_t)sizes[l] > most
                   ? (size_t)INFER_ROWS * (size_t)sizes[l] : most;
    A = malloc(most * sizeof *A);
    B = malloc(most * sizeof *B);
    C = malloc(most * sizeof *C);
    if (!A || !B || !C) {
        fprintf(stderr, "sgemm_rate: out of memory\n");
        return 1;
    }
    nnrt_rng rng;
    nnrt_rng_seed(&rng, 1, 1);
    for (size_t i = 0; i < most; i++) {
        A[i] = 2 * nnrt_rng_uniform_f32(&rng) - 1;
        B[i] = 2 * nnrt_rng_uniform_f32(&rng) - 1;
        C[i] = 0;
    }

    const long full = rows / batch, rest = rows % batch;
    double flop_full = 0, flop_rest = 0;
    double epoch = (double)full * step(sizes, layers, batch, &flop_full);
    if (rest)
        epoch += step(sizes, layers, (int)rest, &flop_rest);
    record("sgemm", "epoch", "openblas", "gflop", 1e-9 * ((double)full * flop_full + flop_rest));
    record("sgemm", "epoch", "openblas", "gemm_s", epoch);

    const int sq = 1024;
    const double s = time_gemm(0, 1, sq, sq, sq, 0.0f);
    record("sgemm", "peak-1024", "openblas", "gflops", 2e-9 * sq * sq * sq / s);

    char name[64];
    snprintf(name, sizeof name, "gemv-1x%dx%d", sizes[1], sizes[0]);
    record("sgemm", name, "openblas", "us_per_call", 1e6 * time_gemv(sizes[1], sizes[0]));
    snprintf(name, sizeof name, "gemm-1x%dx%d", sizes[1], sizes[0]);
    record("sgemm", name, "openblas", "us_per_call",
           1e6 * time_gemm(0, 1, 1, sizes[1], sizes[0], 0.0f));

    double fwd = 0;
    for (int l = 1; l <= layers; l++)
        fwd += time_gemm(0, 1, INFER_ROWS, sizes[l], sizes[l - 1], 0.0f);
    snprintf(name, sizeof name, "forward-%d", INFER_ROWS);
    record("sgemm", name, "openblas", "us_per_call", 1e6 * fwd);

    free(A);
    free(B);
    free(C);
    return 0;
}
