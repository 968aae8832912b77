/*
 * toy.c - workload 1 of bench/run.sh: the course toy.
 *
 * examples/grades.nn (3 -> 4 tanh -> 5 relu -> 2, mse, sgd 0.01, batch 8)
 * trained on the 8 rows of examples/grades.csv, one whole-table batch per
 * step.  Prints the microseconds per grades_train_batch call, timed over
 * STEPS calls after 100 warm-up calls, and the last loss: since
 * bench/torch_bench.py starts PyTorch from the same initial weights
 * (grades_create(GRADES_SEED)), the two should agree up to float rounding.
 *
 *     toy GRADES_CSV STEPS
 *
 * The inputs are divided by (15, 25, 7) as in docs/API.md's example, so
 * tanh does not saturate; bench/torch_bench.py does the same.
 */
#include "bench.h"

#include "grades.h"
#include "nnrt_data.h"
#include "toy_data.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        usage("toy GRADES_CSV STEPS");
    const long steps = atol(argv[2]);
    if (steps <= 0)
        usage("toy GRADES_CSV STEPS (STEPS > 0)");
    nnrt_dataset d;
    if (toy_data("toy", argv[1], &d) != 0)
        return 1;

    grades *m = grades_create(GRADES_SEED);
    if (!m)
        return 1;
    float loss = 0;
    for (int i = 0; i < 100; i++)
        loss = grades_train_batch(m, d.x, d.y, d.n);
    const double start = nnrt_now();
    for (long i = 0; i < steps; i++)
        loss = grades_train_batch(m, d.x, d.y, d.n);
    const double seconds = nnrt_now() - start;

    record("toy", "grades", "nnc", "us_per_step", 1e6 * seconds / (double)steps);
    record("toy", "grades", "nnc", "final_loss", (double)loss);
    grades_destroy(m);
    nnrt_dataset_free(&d);
    return 0;
}
