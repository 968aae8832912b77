/*
 * scaling.c - workload 6 of bench/run.sh: time per training step as the
 * hidden width and the batch grow.
 *
 *     scaling SECONDS
 *
 * Linked with every model of the scaling series (784 -> W relu -> 10
 * softmax, sparse categorical crossentropy, sgd(0.01, momentum 0.9),
 * batch B), which bench/run.sh generates together with scaling_models.h:
 *
 *     #include "mlp_w64_b64.h" ...
 *     #define SCALING_MODELS(X) X(mlp_w64_b64, 64) ...       each model once
 *     #define SCALING_POINTS(X) X(mlp_w64_b64, "width", 64, 64) ...
 *
 * For each point, in order: one fixed batch of B rows of uniform [0, 1)
 * inputs and random class ids, NAME_train_batch calls repeated for about
 * SECONDS after a calibration that also warms up, and the record
 *     scaling  SERIES=VALUE  nnc  ms_per_step  milliseconds per call
 * where VALUE is W for the width series and B for the batch series.
 */
#include "bench.h"

#include "nnrt.h"
#include "scaling_models.h"

/* Each model behind one signature, so that the points fit in a table. */
#define WRAP(name, batch)                                                   \
    static void *create_##name(void) { return name##_create(0); }           \
    static void step_##name(void *m, const float *x, const float *y)        \
    {                                                                       \
        name##_train_batch(m, x, y, batch);                                 \
    }                                                                       \
    static void destroy_##name(void *m) { name##_destroy(m); }
SCALING_MODELS(WRAP)

typedef struct Point {
    const char *series; /* "width" or "batch" */
    int width, batch;
    void *(*create)(void);
    void (*step)(void *m, const float *x, const float *y); /* one batch */
    void (*destroy)(void *m);
} Point;

#define POINT(name, series, width, batch) \
    {series, width, batch, create_##name, step_##name, destroy_##name},
static const Point points[] = {SCALING_POINTS(POINT)};

/* Seconds per training step of p's model on x, y: calls are doubled until
 * they last 50 ms (calibrating and warming up), then as many as fill
 * `seconds` are timed. */
static double time_point(const Point *p, double seconds, const float *x,
                         const float *y)
{
    void *m = p->create();
    if (!m) {
        fprintf(stderr, "scaling: out of memory\n");
        exit(1);
    }
    long calls = 1;
    double spent = 0;
    for (;;) {
        const double start = nnrt_now();
        for (long c = 0; c < calls; c++)
            p->step(m, x, y);
        spent = nnrt_now() - start;
        if (spent >= 0.05)
            break;
        calls *= 2;
    }
    calls = (long)(seconds / (spent / (double)calls));
    calls = calls < 3 ? 3 : calls;
    const double start = nnrt_now();
    for (long c = 0; c < calls; c++)
        p->step(m, x, y);
    const double per_call = (nnrt_now() - start) / (double)calls;
    p->destroy(m);
    return per_call;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        usage("scaling SECONDS");
    const double seconds = atof(argv[1]);
    const size_t npoints = sizeof points / sizeof points[0];
    size_t most = 1;
    for (size_t i = 0; i < npoints; i++)
        most = (size_t)points[i].batch > most ? (size_t)points[i].batch : most;
    float *x = malloc(most * 784 * sizeof *x), *y = malloc(most * sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "scaling: out of memory\n");
        return 1;
    }
    nnrt_rng rng;
    nnrt_rng_seed(&rng, 0, 1);
    for (size_t i = 0; i < most * 784; i++)
        x[i] = nnrt_rng_uniform_f32(&rng);
    for (size_t i = 0; i < most; i++)
        y[i] = (float)nnrt_rng_below(&rng, 10);
    for (size_t i = 0; i < npoints; i++) {
        const Point *p = &points[i];
        char config[64];
        snprintf(config, sizeof config, "%s=%d", p->series,
                 p->series[0] == 'w' ? p->width : p->batch);
        record("scaling", config, "nnc", "ms_per_step", 1e3 * time_point(p, seconds, x, y));
    }
    free(x);
    free(y);
    return 0;
}
