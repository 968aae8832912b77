/*
 * fashion.c - workloads 2 and 5 of bench/run.sh: training the Fashion-MNIST
 * MLP (bench/models/fashion_*.nn) and the memory it takes.
 *
 *     fashion LABEL DATA_DIR EPOCHS SEED
 *
 * Reads the training and test sets with nnrt_read_idx, then runs EPOCHS
 * epochs of NAME_train_batch over mini-batches of NAME_BATCH rows in a
 * fresh order each epoch (nnrt_shuffle on stream 3 of SEED, as NAME_fit
 * does; the last batch of an epoch is short), and evaluates on the test
 * set with NAME_evaluate.  bench/torch_bench.py runs PyTorch's usual loop
 * step for step (gather a batch, one step, keep the loss) from the same
 * initial weights and in the same order, which it re-draws from SEED.
 *
 * Records (CONFIG is LABEL, e.g. "sgd"):
 *     fashion  epoch_s        wall seconds of each epoch (one record each)
 *     fashion  train_loss     mean training loss of the last epoch
 *     fashion  test_acc_Nep   test accuracy after N = EPOCHS epochs
 *     fashion  gemm_s         seconds of each epoch spent in nnrt_sgemm
 *     fashion  pool_wait_s    seconds of each epoch the program's thread
 *                             waited for the runtime's other threads to
 *                             finish their parts of a split loop
 *     fashion  pool_own_s     seconds of its own parts of those loops
 *     fashion  pool_others_s  seconds of the slowest other thread's parts
 *     memory   rss_start_kb   resident set before the data is read
 *     memory   rss_data_kb    resident set with the data in memory
 *     memory   rss_peak_kb    peak resident set after the first epoch
 * Compile with -DMODEL=fashion_sgd -DMODEL_UPPER=FASHION_SGD
 * -include DIR/fashion_sgd.h (bench.h), and link with
 * -Wl,--wrap=nnrt_sgemm: every matrix product of the generated code then
 * goes through __wrap_nnrt_sgemm below, which times it, so an epoch's
 * seconds split into those inside the GEMMs and the rest (two clock reads
 * per call, about 0.05 % of a step).
 */
#include "bench.h"

#include "nnrt.h"
#include "nnrt_data.h"
#include "fashion_data.h"

#define NIN CONST(_INPUT_SIZE)
#define NTARGET CONST(_TARGET_SIZE)
#define BATCH CONST(_BATCH)

/* Seconds spent in nnrt_sgemm so far. */
static double gemm_seconds;

void __real_nnrt_sgemm(int trans_a, int trans_b, int m, int n, int k,
                       float alpha, const float *a, int lda, const float *b,
                       int ldb, float beta, float *c, int ldc);
void __wrap_nnrt_sgemm(int trans_a, int trans_b, int m, int n, int k,
                       float alpha, const float *a, int lda, const float *b,
                       int ldb, float beta, float *c, int ldc);

void __wrap_nnrt_sgemm(int trans_a, int trans_b, int m, int n, int k,
                       float alpha, const float *a, int lda, const float *b,
                       int ldb, float beta, float *c, int ldc)
{
    const double start = nnrt_now();
    __real_nnrt_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                      c, ldc);
    gemm_seconds += nnrt_now() - start;
}

/* Reads DIR/PREFIX-images-idx3-ubyte.gz and its labels into d. */
static int read_set(const char *dir, const char *prefix, nnrt_dataset *d)
{
    static const nnrt_data_spec spec = {NIN, NNRT_TARGETS_CLASS_ID, 1, 10, 0};
    return fashion_data("fashion", dir, prefix, &spec, d);
}

int main(int argc, char **argv)
{
    if (argc != 5)
        usage("fashion LABEL DATA_DIR EPOCHS SEED");
    const char *label = argv[1];
    const int epochs = atoi(argv[3]);
    const uint64_t seed = strtoull(argv[4], NULL, 10);
    char metric[64];

    record("memory", label, "nnc", "rss_start_kb", (double)current_rss_kb());
    nnrt_dataset train, test;
    if (read_set(argv[2], "train", &train) != 0 ||
            read_set(argv[2], "t10k", &test) != 0)
        return 1;
    record("memory", label, "nnc", "rss_data_kb", (double)current_rss_kb());

    MODEL *m = FN(_create)(seed);
    size_t *idx = malloc(train.n * sizeof *idx);
    float *xb = malloc(BATCH * NIN * sizeof *xb);
    float *yb = malloc(BATCH * NTARGET * sizeof *yb);
    if (!m || !idx || !xb || !yb) {
        fprintf(stderr, "fashion: out of memory\n");
        return 1;
    }
    nnrt_iota(idx, train.n);
    nnrt_rng rng;
    nnrt_rng_seed(&rng, seed, 3);

    double loss = 0;
    for (int e = 1; e <= epochs; e++) {
        const double start = nnrt_now(), gemm_start = gemm_seconds;
        nnrt_pool_stats pool0, pool1;
        nnrt_pool_stats_get(&pool0);
        loss = 0;
        nnrt_shuffle(idx, train.n, &rng);
        for (size_t b = 0; b < train.n; b += BATCH) {
            const size_t rows = train.n - b < BATCH ? train.n - b : BATCH;
            nnrt_gather_f32(xb, train.x, idx + b, rows, NIN);
            nnrt_gather_f32(yb, train.y, idx + b, rows, NTARGET);
            if (b + BATCH < train.n) /* as NAME_fit does */
                nnrt_prefetch_rows(train.x, idx + b + BATCH,
                                   train.n - b - BATCH < BATCH ? train.n - b - BATCH : BATCH,
                                   NIN * sizeof *train.x);
            loss += (double)FN(_train_batch)(m, xb, yb, rows) * (double)rows;
        }
        const double seconds = nnrt_now() - start;
        nnrt_pool_stats_get(&pool1);
        record("fashion", label, "nnc", "epoch_s", seconds);
        record("fashion", label, "nnc", "gemm_s", gemm_seconds - gemm_start);
        record("fashion", label, "nnc", "pool_wait_s", pool1.wait_s - pool0.wait_s);
        record("fashion", label, "nnc", "pool_own_s", pool1.own_s - pool0.own_s);
        record("fashion", label, "nnc", "pool_others_s", pool1.others_s - pool0.others_s);
        if (e == 1)
            record("memory", label, "nnc", "rss_peak_kb", (double)peak_rss_kb());
        fprintf(stderr, "fashion %s nnc: epoch %d/%d loss %.4f %.2f s\n",
                label, e, epochs, loss / (double)train.n, seconds);
    }
    record("fashion", label, "nnc", "train_loss", loss / (double)train.n);

    float acc[CONST(_NMETRICS) > 0 ? CONST(_NMETRICS) : 1];
    FN(_evaluate)(m, test.x, test.y, test.n, acc);
    snprintf(metric, sizeof metric, "test_acc_%dep", epochs);
    record("fashion", label, "nnc", metric, (double)acc[0]);

    free(idx);
    free(xb);
    free(yb);
    FN(_destroy)(m);
    nnrt_dataset_free(&train);
    nnrt_dataset_free(&test);
    return 0;
}
