/*
 * infer.c - workload 3 of bench/run.sh: inference speed of the Fashion MLP.
 *
 *     infer IMPL DATA_DIR CALLS1 CALLS256 REFERENCE      time the predictions
 *     infer --save WEIGHTS REFERENCE DATA_DIR            (training build only)
 *
 * On the test images (nnrt_read_idx), with freshly initialised weights
 * (NAME_create(0); the speed does not depend on their values):
 *     infer batch1    us_per_sample   median over CALLS1 calls of
 *                                     NAME_predict(x, 1, y), each timed
 *     infer batch256  samples_per_s   256 / the median over CALLS256 calls
 *                                     of NAME_predict(x, 256, y)
 * Compiled with -DBARE_GEMM=N0,N1,...,NL (the layer sizes), the batch-256
 * loop also times, after each prediction, the forward GEMMs of that chain
 * alone (cblas_sgemm, X Wᵀ per layer, random weights, nothing else) on the
 * next 256 rows:
 *     infer batch256  bare_gemm_us    the median of those
 * so that the prediction and what OpenBLAS alone needs for it are
 * measured in the same seconds.
 * IMPL names the build in the records: "nnc" for the training build,
 * "nnc-infer" and "nnc-infer-noblas" for `nnc build --infer-only
 * --max-batch 256`, with CBLAS and with --no-blas.
 *
 * The inference-only build has no model handle (NAME_predict(x, n, y)):
 * compile this file with -DINFER_ONLY for it (run.sh's model() does so
 * for an --infer-only build).  Its weights are those of the training
 * build: `infer --save` (training build) writes NAME_create(0)'s weights
 * with NAME_save to WEIGHTS, for `nnc build --infer-only --weights`, and
 * to REFERENCE the training build's predictions of the first 256 test
 * images, through one 256-row call and through 256 one-row calls.
 * Before timing, every build predicts those rows both ways and compares
 * them with REFERENCE: each value must agree within 1e-5 relative, or
 * the driver stops (exit status 1) naming the worst value.  CALLS1 and
 * CALLS256 both 0: the check alone.  Compile as bench.h says.
 */
#include "bench.h"

#include <math.h>
#include <string.h>

#include "nnrt.h"
#include "nnrt_data.h"

#define NIN CONST(_INPUT_SIZE)
#define NOUT CONST(_OUTPUT_SIZE)
#define NREF 256  /* rows of the reference predictions */
#define TOLERANCE 1e-5

#ifdef INFER_ONLY
#define PREDICT(x, n, y) FN(_predict)(x, n, y)
#else
#define PREDICT(x, n, y) FN(_predict)(m, x, n, y)
static MODEL *m;
#endif

#ifdef BARE_GEMM
#include <cblas.h>

static const int bare_sizes[] = {BARE_GEMM};
enum { BARE_LAYERS = sizeof bare_sizes / sizeof bare_sizes[0] - 1 };
static float *bare_w[BARE_LAYERS], *bare_y[2];

/* Random weights and two output buffers for 256 rows. */
static void bare_setup(void)
{
    nnrt_rng rng;
    nnrt_rng_seed(&rng, 1, 1);
    int most = 1;
    for (int l = 1; l <= BARE_LAYERS; l++) {
        const size_t n = (size_t)bare_sizes[l] * (size_t)bare_sizes[l - 1];
        bare_w[l - 1] = malloc(n * sizeof(float));
        if (!bare_w[l - 1]) {
            fprintf(stderr, "infer: out of memory\n");
            exit(1);
        }
        for (size_t i = 0; i < n; i++)
            bare_w[l - 1][i] = 2 * nnrt_rng_uniform_f32(&rng) - 1;
        most = bare_sizes[l] > most ? bare_sizes[l] : most;
    }
    for (int k = 0; k < 2; k++)
        if (!(bare_y[k] = calloc((size_t)most * 256, sizeof(float)))) {
            fprintf(stderr, "infer: out of memory\n");
            exit(1);
        }
}

/* The forward GEMMs of the chain on 256 rows of x, nothing else. */
static void bare_forward(const float *x)
{
    const float *in = x;
    for (int l = 1; l <= BARE_LAYERS; l++) {
        float *out = bare_y[l % 2];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 256, bare_sizes[l],
                    bare_sizes[l - 1], 1.0f, in, bare_sizes[l - 1], bare_w[l - 1],
                    bare_sizes[l - 1], 0.0f, out, bare_sizes[l]);
        in = out;
    }
}
#endif

/* Reads the test images of DATA_DIR into *test; exits on failure. */
static void read_test(const char *dir, nnrt_dataset *test)
{
    char images[1024], err[512];
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", dir);
    const nnrt_data_spec spec = {NIN, NNRT_TARGETS_NONE, 0, 0, 0};
    if (nnrt_read_idx(images, NULL, &spec, test, err, sizeof err) != 0) {
        fprintf(stderr, "infer: %s\n", err);
        exit(1);
    }
    if (test->n < NREF) {
        fprintf(stderr, "infer: %s has fewer than %d images\n", images, NREF);
        exit(1);
    }
}

/* The predictions of the first NREF rows of x: ref[0 .. NREF*NOUT) through
 * one NREF-row call, ref[NREF*NOUT ..) through NREF one-row calls. */
static void predict_reference(const float *x, float *ref)
{
    PREDICT(x, NREF, ref);
    for (size_t i = 0; i < NREF; i++)
        PREDICT(x + i * NIN, 1, ref + (NREF + i) * NOUT);
}

#ifndef INFER_ONLY
/* infer --save WEIGHTS REFERENCE DATA_DIR */
static int save(const char *weights, const char *reference, const char *dir)
{
    nnrt_dataset test;
    char err[512];
    static float ref[2 * NREF * NOUT];
    read_test(dir, &test);
    if (FN(_save)(m, weights, err, sizeof err) != 0) {
        fprintf(stderr, "infer: %s\n", err);
        return 1;
    }
    predict_reference(test.x, ref);
    FILE *f = fopen(reference, "wb");
    if (!f || fwrite(ref, sizeof ref, 1, f) != 1 || fclose(f) != 0) {
        fprintf(stderr, "infer: cannot write %s\n", reference);
        return 1;
    }
    nnrt_dataset_free(&test);
    return 0;
}
#endif

/* Compares this build's predictions with REFERENCE's; exits unless every
 * value agrees within TOLERANCE relative. */
static void check(const char *impl, const char *reference, const float *x)
{
    static float want[2 * NREF * NOUT], got[2 * NREF * NOUT];
    FILE *f = fopen(reference, "rb");
    if (!f || fread(want, sizeof want, 1, f) != 1) {
        fprintf(stderr, "infer: cannot read the reference predictions %s\n", reference);
        exit(1);
    }
    fclose(f);
    predict_reference(x, got);
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < 2 * NREF * NOUT; i++) {
        const double a = want[i], b = got[i], scale = fmax(fabs(a), fabs(b));
        const double rel = a == b ? 0 : scale > 0 ? fabs(a - b) / scale : INFINITY;
        if (!(rel <= worst)) {  /* NaN counts as the worst */
            worst = isnan(rel) ? INFINITY : rel;
            at = i;
        }
    }
    const size_t row = (at / NOUT) % NREF, col = at % NOUT;
    const char *how = at < NREF * NOUT ? "256-row call" : "one-row call";
    if (!(worst <= TOLERANCE)) {
        fprintf(stderr, "infer: %s: predictions disagree with the training build's: test image %zu, "
                "output %zu (%s): %.9g, the training build %.9g (relative difference %.3g > %g)\n",
                impl, row, col, how, (double)got[at], (double)want[at], worst, TOLERANCE);
        exit(1);
    }
    fprintf(stderr, "infer: %s: predictions of %d test images agree with the training build's "
            "(largest relative difference %.3g)\n", impl, NREF, worst);
}

int main(int argc, char **argv)
{
#ifndef INFER_ONLY
    m = FN(_create)(0);
    if (!m) {
        fprintf(stderr, "infer: out of memory\n");
        return 1;
    }
    if (argc == 5 && strcmp(argv[1], "--save") == 0)
        return save(argv[2], argv[3], argv[4]);
#endif
    if (argc != 6)
        usage("infer IMPL DATA_DIR CALLS1 CALLS256 REFERENCE | infer --save WEIGHTS REFERENCE DATA_DIR");
    const char *impl = argv[1];
    const long calls1 = atol(argv[3]), calls256 = atol(argv[4]);
    nnrt_dataset test;
    read_test(argv[2], &test);
    check(impl, argv[5], test.x);
    if (calls1 == 0 && calls256 == 0) {  /* the check alone */
        nnrt_dataset_free(&test);
        return 0;
    }
    float *y = malloc(256 * NOUT * sizeof *y);
    double *t = malloc((size_t)(calls1 > calls256 ? calls1 : calls256) * sizeof *t);
    if (!y || !t || calls1 <= 0 || calls256 <= 0) {
        fprintf(stderr, "infer: out of memory or bad arguments\n");
        return 1;
    }

    /* 100 warm-up calls, then each call timed on its own: one input row
     * after another, so the input is not always the same cache line. */
    for (long c = -100; c < calls1; c++) {
        const float *x = test.x + (size_t)((c + 100) % (long)test.n) * NIN;
        const double start = nnrt_now();
        PREDICT(x, 1, y);
        if (c >= 0)
            t[c] = nnrt_now() - start;
    }
    record("infer", "batch1", impl, "us_per_sample", 1e6 * median(t, (size_t)calls1));

#ifdef BARE_GEMM
    double *tb = malloc((size_t)calls256 * sizeof *tb);
    if (!tb) {
        fprintf(stderr, "infer: out of memory\n");
        return 1;
    }
    bare_setup();
#endif
    for (long c = -5; c < calls256; c++) {
        const size_t first = (size_t)((c + 5) * 256) % (test.n - 256);
        double start = nnrt_now();
        PREDICT(test.x + first * NIN, 256, y);
        if (c >= 0)
            t[c] = nnrt_now() - start;
#ifdef BARE_GEMM
        const size_t next = (first + 256) % (test.n - 256);
        start = nnrt_now();
        bare_forward(test.x + next * NIN);
        if (c >= 0)
            tb[c] = nnrt_now() - start;
#endif
    }
    record("infer", "batch256", impl, "samples_per_s", 256 / median(t, (size_t)calls256));
#ifdef BARE_GEMM
    record("infer", "batch256", impl, "bare_gemm_us", 1e6 * median(tb, (size_t)calls256));
    free(tb);
#endif

    free(t);
    free(y);
#ifndef INFER_ONLY
    FN(_destroy)(m);
#endif
    nnrt_dataset_free(&test);
    return 0;
}
