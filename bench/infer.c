/*
 * infer.c - workload 3 of bench/run.sh: inference speed of the Fashion MLP.
 *
 *     infer IMPL DATA_DIR CALLS1 CALLS256
 *
 * On the test images (nnrt_read_idx), with freshly initialised weights
 * (the speed does not depend on their values):
 *     infer batch1    us_per_sample   median over CALLS1 calls of
 *                                     NAME_predict(m, x, 1, y), each timed
 *     infer batch256  samples_per_s   256 / the median over CALLS256 calls
 *                                     of NAME_predict(m, x, 256, y)
 * IMPL names the build in the records: "nnc" for the training build,
 * "nnc-infer" for `nnc build --infer-only` when it exists.  Both builds
 * declare NAME_create(seed) and NAME_predict; compile as bench.h says.
 */
#include "bench.h"

#include "nnrt.h"
#include "nnrt_data.h"

#define NIN CONST(_INPUT_SIZE)
#define NOUT CONST(_OUTPUT_SIZE)

int main(int argc, char **argv)
{
    if (argc != 5)
        usage("infer IMPL DATA_DIR CALLS1 CALLS256");
    const char *impl = argv[1];
    const long calls1 = atol(argv[3]), calls256 = atol(argv[4]);
    char images[1024], err[512];
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", argv[2]);
    const nnrt_data_spec spec = {NIN, NNRT_TARGETS_NONE, 0, 0, 0};
    nnrt_dataset test;
    if (nnrt_read_idx(images, NULL, &spec, &test, err, sizeof err) != 0) {
        fprintf(stderr, "infer: %s\n", err);
        return 1;
    }
    MODEL *m = FN(_create)(0);
    float *y = malloc(256 * NOUT * sizeof *y);
    double *t = malloc((size_t)(calls1 > calls256 ? calls1 : calls256) * sizeof *t);
    if (!m || !y || !t || calls1 <= 0 || calls256 <= 0 || test.n < 256) {
        fprintf(stderr, "infer: out of memory or bad arguments\n");
        return 1;
    }

    /* 100 warm-up calls, then each call timed on its own: one input row
     * after another, so the input is not always the same cache line. */
    for (long c = -100; c < calls1; c++) {
        const float *x = test.x + (size_t)((c + 100) % (long)test.n) * NIN;
        const double start = nnrt_now();
        FN(_predict)(m, x, 1, y);
        if (c >= 0)
            t[c] = nnrt_now() - start;
    }
    record("infer", "batch1", impl, "us_per_sample", 1e6 * median(t, (size_t)calls1));

    for (long c = -5; c < calls256; c++) {
        const size_t first = (size_t)((c + 5) * 256) % (test.n - 256);
        const double start = nnrt_now();
        FN(_predict)(m, test.x + first * NIN, 256, y);
        if (c >= 0)
            t[c] = nnrt_now() - start;
    }
    record("infer", "batch256", impl, "samples_per_s", 256 / median(t, (size_t)calls256));

    free(t);
    free(y);
    FN(_destroy)(m);
    nnrt_dataset_free(&test);
    return 0;
}
