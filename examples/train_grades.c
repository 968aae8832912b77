/* examples/train_grades.c: train examples/grades.nn, evaluate, predict, save, load
 * (the program of docs/API.md, section 2; make test builds it against an
 * installed nnc with pkg-config). */
#include <stdio.h>

#include "grades.h"

/* examples/grades.csv: hours of study, age, average -> grades N1, N2 */
static float x[8 * GRADES_INPUT_SIZE] = {
    2, 24, 4,   5, 22, 3,   7, 25, 4,   9, 20, 7,
    10, 19, 4,  11, 20, 3,  13.4f, 21, 5,  14, 20, 3,
};
static const float y[8 * GRADES_TARGET_SIZE] = {
    7, 7.2f,  4.5f, 5.2f,  6.3f, 6,  5.4f, 4.4f,
    8.2f, 9.5f,  7.2f, 8.1f,  5.5f, 10,  3, 4.3f,
};

/* Brings the three inputs to about [0, 1]: tanh saturates on raw ages. */
static void scale(float *rows, int n)
{
    for (int i = 0; i < n * GRADES_INPUT_SIZE; i++)
        rows[i] /= (float[]){15, 25, 7}[i % GRADES_INPUT_SIZE];
}

int main(void)
{
    scale(x, 8);
    grades *m = grades_create(GRADES_SEED);
    if (!m)
        return 1;

    /* Train with the settings of grades.nn, but quietly and for longer. */
    nnrt_fit_options opt;
    grades_fit_options(&opt);
    opt.epochs = 2000;
    opt.verbose = 0;
    nnrt_history hist;
    if (grades_fit(m, x, y, 8, &opt, &hist) != 0)
        return 1;
    printf("loss after epoch 1: %.4f, after epoch %d: %.4f\n",
           hist.loss[0], hist.epochs, hist.loss[hist.epochs - 1]);
    nnrt_history_free(&hist);

    printf("evaluate: mse %.4f\n", grades_evaluate(m, x, y, 8, NULL));

    /* examples/grades_new.csv: two new students */
    float fresh[2 * GRADES_INPUT_SIZE] = {10, 19, 4, 11, 20, 3};
    scale(fresh, 2);
    float pred[2 * GRADES_OUTPUT_SIZE];
    grades_predict(m, fresh, 2, pred);
    for (int i = 0; i < 2; i++)
        printf("student %d: N1 %.2f, N2 %.2f\n", i + 1, pred[2 * i],
               pred[2 * i + 1]);

    /* Save, then load into a fresh model: the same predictions. */
    char err[256];
    if (grades_save(m, "grades.safetensors", err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    grades *copy = grades_create(0);
    if (!copy || grades_load(copy, "grades.safetensors", err, sizeof err)) {
        fprintf(stderr, "%s\n", copy ? err : "out of memory");
        return 1;
    }
    float again[2 * GRADES_OUTPUT_SIZE];
    grades_predict(copy, fresh, 2, again);
    printf("after load: N1 %.2f, N2 %.2f\n", again[0], again[1]);

    grades_destroy(copy);
    grades_destroy(m);
    return 0;
}
