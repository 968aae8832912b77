/*
 * fann_toy.c - workload 1 of bench/run.sh with FANN 2.2.0 (floatfann):
 * the course toy, as close to examples/grades.nn as FANN can express.
 *
 *     fann_toy GRADES_CSV STEPS
 *
 * The network is 3-4-5-2 (fann_create_standard), float, trained with
 * FANN_TRAIN_BATCH, learning rate 0.01, momentum 0, error function
 * FANN_ERRORFUNC_LINEAR (plain squared error: FANN's default,
 * FANN_ERRORFUNC_TANH, would stretch large errors).  One fann_train_epoch
 * over the 8 rows of examples/grades.csv is one step: FANN sums the 8 rows'
 * slopes and moves each weight by 0.01 / 8 times the sum, which for 2
 * linear outputs is exactly the step of mse (mean over rows and outputs)
 * with sgd(0.01) that nnc and PyTorch take.  The starting weights are
 * nnc's (grades_create(GRADES_SEED), linked in), so the final losses of
 * the three can be compared.  Prints the microseconds per step, timed over
 * STEPS steps after 100 warm-up steps as bench/toy.c does, and the last
 * step's MSE (fann_train_epoch's return: the mean over rows and outputs
 * before the step, like grades_train_batch's).
 *
 * Where FANN differs from grades.nn:
 *   dense(4, tanh)  FANN_SIGMOID_SYMMETRIC, 2 / (1 + exp(-2 s x)) - 1,
 *                   i.e. tanh(s x); FANN's default steepness s is 0.5
 *                   (tanh(x / 2)), set to 1 here.  Its derivative is
 *                   s (1 - y^2) with y clipped to [-0.98, 0.98], so a
 *                   saturated unit keeps a gradient of at least 0.0396.
 *   dense(5, relu)  FANN 2.2.0 has no ReLU (FANN_LINEAR_PIECE_RECT came
 *                   after 2.2.0).  The nearest is FANN_LINEAR_PIECE:
 *                   forward max(0, min(x, 1)), ReLU capped at 1; its
 *                   derivative is the constant s = 1, so the gradient
 *                   also flows through units that output 0 (or 1).
 *   dense(2)        FANN_LINEAR, steepness 1 (the default 0.5 would halve
 *                   the outputs).
 * Before timing, the outputs of the 8 rows are checked against a plain C
 * forward pass of the same functions with nnc's weights, which proves the
 * weights landed on the right connections.
 */
#include "bench.h"

#include <floatfann.h>
#include <math.h>

#include "grades.h"
#include "nnrt_data.h"
#include "toy_data.h"

enum { NLAYERS = 4 };
static const unsigned sizes[NLAYERS] = {3, 4, 5, 2};

/* FANN's index of neuron j of layer l: every layer but the last is
 * followed by its bias neuron. */
static unsigned neuron(unsigned l, unsigned j)
{
    unsigned first = 0;
    for (unsigned k = 0; k < l; k++)
        first += sizes[k] + 1;
    return first + j;
}

/* Copies nnc's parameters (layer order, weight [out][in] then bias [out])
 * onto FANN's connections. */
static void set_weights(struct fann *ann, const float *p)
{
    for (unsigned l = 1; l < NLAYERS; l++) {
        const unsigned in = sizes[l - 1], out = sizes[l];
        for (unsigned o = 0; o < out; o++)
            for (unsigned i = 0; i < in; i++)
                fann_set_weight(ann, neuron(l - 1, i), neuron(l, o), p[o * in + i]);
        for (unsigned o = 0; o < out; o++)
            fann_set_weight(ann, neuron(l - 1, in), neuron(l, o), p[out * in + o]);
        p += out * in + out;
    }
}

/* The forward pass FANN should compute, in plain C: y[2] for x[3]. */
static void reference(const float *p, const float *x, float *y)
{
    float a[5], b[5];
    for (unsigned o = 0; o < 4; o++) {
        float s = p[12 + o];
        for (unsigned i = 0; i < 3; i++)
            s += p[o * 3 + i] * x[i];
        a[o] = tanhf(s);
    }
    p += 16;
    for (unsigned o = 0; o < 5; o++) {
        float s = p[20 + o];
        for (unsigned i = 0; i < 4; i++)
            s += p[o * 4 + i] * a[i];
        b[o] = s < 0 ? 0 : s > 1 ? 1 : s;
    }
    p += 25;
    for (unsigned o = 0; o < 2; o++) {
        float s = p[10 + o];
        for (unsigned i = 0; i < 5; i++)
            s += p[o * 5 + i] * b[i];
        y[o] = s;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3)
        usage("fann_toy GRADES_CSV STEPS");
    const long steps = atol(argv[2]);
    if (steps <= 0)
        usage("fann_toy GRADES_CSV STEPS (STEPS > 0)");
    nnrt_dataset d;
    if (toy_data("fann_toy", argv[1], &d) != 0)
        return 1;

    grades *m = grades_create(GRADES_SEED);
    struct fann *ann = fann_create_standard(NLAYERS, sizes[0], sizes[1], sizes[2], sizes[3]);
    struct fann_train_data *data = fann_create_train((unsigned)d.n, GRADES_INPUT_SIZE,
                                                     GRADES_TARGET_SIZE);
    if (!m || !ann || !data) {
        fprintf(stderr, "fann_toy: out of memory\n");
        return 1;
    }
    for (size_t r = 0; r < d.n; r++) {
        for (unsigned i = 0; i < GRADES_INPUT_SIZE; i++)
            data->input[r][i] = d.x[r * GRADES_INPUT_SIZE + i];
        for (unsigned i = 0; i < GRADES_TARGET_SIZE; i++)
            data->output[r][i] = d.y[r * GRADES_TARGET_SIZE + i];
    }
    fann_set_activation_function_layer(ann, FANN_SIGMOID_SYMMETRIC, 1);
    fann_set_activation_function_layer(ann, FANN_LINEAR_PIECE, 2);
    fann_set_activation_function_layer(ann, FANN_LINEAR, 3);
    for (int l = 1; l < NLAYERS; l++)
        fann_set_activation_steepness_layer(ann, 1, l);
    fann_set_training_algorithm(ann, FANN_TRAIN_BATCH);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    fann_set_learning_rate(ann, 0.01f);
    fann_set_learning_momentum(ann, 0);
    set_weights(ann, grades_params(m));

    for (size_t r = 0; r < d.n; r++) {
        float want[GRADES_TARGET_SIZE];
        reference(grades_params(m), data->input[r], want);
        const fann_type *got = fann_run(ann, data->input[r]);
        for (unsigned i = 0; i < GRADES_TARGET_SIZE; i++)
            if (fabsf(got[i] - want[i]) > 1e-5f * (1 + fabsf(want[i]))) {
                fprintf(stderr, "fann_toy: row %zu output %u: FANN %g, expected %g: "
                        "the weights did not land where they should\n",
                        r, i, (double)got[i], (double)want[i]);
                return 1;
            }
    }

    float loss = 0;
    for (int i = 0; i < 100; i++)
        loss = fann_train_epoch(ann, data);
    const double start = nnrt_now();
    for (long i = 0; i < steps; i++)
        loss = fann_train_epoch(ann, data);
    const double seconds = nnrt_now() - start;
    if (fann_get_errno((struct fann_error *)ann) != FANN_E_NO_ERROR) {
        fprintf(stderr, "fann_toy: FANN: %s\n", fann_get_errstr((struct fann_error *)ann));
        return 1;
    }

    record("toy", "grades", "fann", "us_per_step", 1e6 * seconds / (double)steps);
    record("toy", "grades", "fann", "final_loss", (double)loss);
    fann_destroy_train(data);
    fann_destroy(ann);
    grades_destroy(m);
    nnrt_dataset_free(&d);
    return 0;
}
