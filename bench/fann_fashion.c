/*
 * fann_fashion.c - workload 2 of bench/run.sh with FANN 2.2.0 (floatfann):
 * the Fashion-MNIST MLP, as close to bench/models/fashion_sgd.nn as FANN
 * can express.
 *
 *     fann_fashion DATA_DIR EPOCHS SEED
 *
 * FANN has no softmax, no cross-entropy and no mini-batch trainer, so this
 * is the nearest configuration, not the same model:
 *   network     784-256-128-10 (fann_create_standard), float
 *   hidden      FANN_SIGMOID_SYMMETRIC, steepness 1: tanh (FANN 2.2.0 has
 *               no ReLU; its FANN_LINEAR_PIECE is capped at 1 and passes
 *               the gradient of a linear unit, see bench/fann_toy.c)
 *   output      FANN_SIGMOID, steepness 0.5: the logistic 1 / (1 + e^-x),
 *               against one-hot targets
 *   loss        squared error, FANN_ERRORFUNC_LINEAR (FANN's default
 *               FANN_ERRORFUNC_TANH would stretch large errors)
 *   optimizer   FANN_TRAIN_BATCH, learning rate 0.01, over mini-batches of
 *               64 rows: one fann_train_epoch per batch, on a
 *               fann_train_data whose row pointers point into the batch's
 *               rows (no copy).  FANN then moves each weight by
 *               0.01 / rows times the batch's summed slopes: sgd on the
 *               mean over the batch.  FANN's batch update has no momentum
 *               (fann_update_weights_batch ignores learning_momentum; only
 *               FANN_TRAIN_INCREMENTAL, one row per step, uses it), so
 *               nnc's momentum 0.9 has no counterpart here.
 *   weights     FANN's own: uniform in [-0.1, 0.1] (fann_randomize_weights
 *               after srand(SEED), so runs repeat)
 * The rows are visited in nnc's order (nnrt_shuffle on stream 3 of SEED,
 * as bench/fashion.c); the last batch of an epoch has 32 rows.  FANN runs
 * on one thread and does not use a BLAS.
 *
 * Records (CONFIG "sgd", the nnc model it stands beside):
 *     fashion  epoch_s        wall seconds of each epoch (one record each)
 *     fashion  train_mse      mean squared error over the last epoch's
 *                             batches (FANN's loss, not nnc's)
 *     fashion  test_acc_Nep   test accuracy (argmax of the 10 outputs)
 *                             after N = EPOCHS epochs
 */
#include "bench.h"

#include <floatfann.h>

#include "nnrt.h"
#include "nnrt_data.h"
#include "fashion_data.h"

enum { NIN = 784, NCLASS = 10, BATCH = 64 };

/* Reads DIR/PREFIX-images-idx3-ubyte.gz and its labels, one-hot, into d. */
static int read_set(const char *dir, const char *prefix, nnrt_dataset *d)
{
    static const nnrt_data_spec spec = {NIN, NNRT_TARGETS_ONE_HOT, NCLASS, NCLASS, 0};
    return fashion_data("fann_fashion", dir, prefix, &spec, d);
}

/* The index of the largest of v[0 .. n). */
static unsigned argmax(const float *v, unsigned n)
{
    unsigned best = 0;
    for (unsigned i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* Dies with FANN's message if the last FANN call on ann failed. */
static void check(struct fann *ann, const char *what)
{
    struct fann_error *e = (struct fann_error *)ann;
    if (fann_get_errno(e) != FANN_E_NO_ERROR) {
        fprintf(stderr, "fann_fashion: %s: %s\n", what, fann_get_errstr(e));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4)
        usage("fann_fashion DATA_DIR EPOCHS SEED");
    const int epochs = atoi(argv[2]);
    const uint64_t seed = strtoull(argv[3], NULL, 10);
    char metric[64];

    nnrt_dataset train, test;
    if (read_set(argv[1], "train", &train) != 0 || read_set(argv[1], "t10k", &test) != 0)
        return 1;

    struct fann *ann = fann_create_standard(4, NIN, 256, 128, NCLASS);
    size_t *idx = malloc(train.n * sizeof *idx);
    fann_type **in = malloc(train.n * sizeof *in);
    fann_type **out = malloc(train.n * sizeof *out);
    if (!ann || !idx || !in || !out) {
        fprintf(stderr, "fann_fashion: out of memory\n");
        return 1;
    }
    fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_activation_steepness_hidden(ann, 1);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_set_activation_steepness_output(ann, 0.5f);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    fann_set_training_algorithm(ann, FANN_TRAIN_BATCH);
    fann_set_learning_rate(ann, 0.01f);
    srand((unsigned)seed);
    fann_randomize_weights(ann, -0.1f, 0.1f);
    check(ann, "setting up the network");

    /* A view of one batch: FANN reads num_data rows through the pointers. */
    struct fann_train_data batch = {0};
    batch.num_input = NIN;
    batch.num_output = NCLASS;

    nnrt_iota(idx, train.n);
    nnrt_rng rng;
    nnrt_rng_seed(&rng, seed, 3);
    double mse = 0;
    for (int e = 1; e <= epochs; e++) {
        const double start = nnrt_now();
        nnrt_shuffle(idx, train.n, &rng);
        for (size_t i = 0; i < train.n; i++) {
            in[i] = train.x + idx[i] * NIN;
            out[i] = train.y + idx[i] * NCLASS;
        }
        mse = 0;
        for (size_t b = 0; b < train.n; b += BATCH) {
            const size_t rows = train.n - b < BATCH ? train.n - b : BATCH;
            batch.num_data = (unsigned)rows;
            batch.input = in + b;
            batch.output = out + b;
            mse += (double)fann_train_epoch(ann, &batch) * (double)rows;
        }
        const double seconds = nnrt_now() - start;
        check(ann, "training");
        record("fashion", "sgd", "fann", "epoch_s", seconds);
        fprintf(stderr, "fashion sgd fann: epoch %d/%d mse %.4f %.2f s\n",
                e, epochs, mse / (double)train.n, seconds);
    }
    record("fashion", "sgd", "fann", "train_mse", mse / (double)train.n);

    size_t right = 0;
    for (size_t i = 0; i < test.n; i++) {
        const fann_type *y = fann_run(ann, test.x + i * NIN);
        right += argmax(y, NCLASS) == argmax(test.y + i * NCLASS, NCLASS);
    }
    snprintf(metric, sizeof metric, "test_acc_%dep", epochs);
    record("fashion", "sgd", "fann", metric, (double)right / (double)test.n);

    free(idx);
    free(in);
    free(out);
    fann_destroy(ann);
    nnrt_dataset_free(&train);
    nnrt_dataset_free(&test);
    return 0;
}
