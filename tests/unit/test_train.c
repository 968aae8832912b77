/*
 * test_train.c - Check suite for the trainer runtime: nnrt_train
 * (runtime/train.c) and the trainer program nnrt_main (runtime/cli.c).
 *
 * Everything runs against hand-made models written here in plain C, so
 * the runtime is tested without the compiler: a linear model with one
 * output (regression, mse), a logistic regression (one sigmoid unit,
 * binary crossentropy) and a softmax over 3 classes (sparse categorical
 * crossentropy), each trained by SGD with momentum whose step is scaled by
 * a draw from the model's own RNG (standing in for dropout). Their
 * checkpoints hold the weights, the velocities, that RNG, the step count
 * and the epoch, so "resume gives bit-identical weights" tests the
 * runtime's part honestly. Test hooks (statics below) make a batch's loss
 * NaN, raise SIGINT in a batch, or log the rows a batch saw.
 *
 * Files are written only under one mkdtemp directory in /tmp, made and
 * removed by a fixture in the parent process. Exports train_suite(); the
 * runner is tests/unit/main.c.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* mkdtemp, posix_openpt, ptsname */
#endif

#include "nnrt.h"
#include "nnrt_data.h"
#include "tmpdir.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

Suite *train_suite(void);

/* ------------------------------------------------------ the test models */

#define MAXI 2 /* inputs */
#define MAXO 3 /* outputs */

typedef enum Kind { K_REG, K_LOGIT, K_SOFT } Kind;

/* One linear layer with an activation, trained by SGD with momentum. */
typedef struct Lin {
    Kind kind;
    int f64;                 /* x, y and outputs are doubles */
    int nin, nout;
    double w[MAXO * MAXI];   /* [nout][nin] */
    double b[MAXO];
    double vw[MAXO * MAXI];  /* momentum velocities */
    double vb[MAXO];
    nnrt_rng noise;          /* scales each step: state to checkpoint */
    double step;             /* steps taken */
    double lr;
} Lin;

/* Test hooks, reset by reset_hooks() at the start of every test. */
static long hook_nan_at, hook_sigint_at; /* 1-based step; 0: never */
static long hook_steps;                  /* steps taken by any model */
static long hook_evals, hook_sigint_eval; /* evaluate calls; raise at */
static double hook_log[4096];            /* x[row][0] of each row trained */
static size_t hook_nlog;
static double hook_lr;                   /* learning rate of new models */

static void reset_hooks(void)
{
    hook_nan_at = hook_sigint_at = 0;
    hook_steps = 0;
    hook_evals = hook_sigint_eval = 0;
    hook_nlog = 0;
    hook_lr = 0.1;
}

static void *lin_create(Kind kind, int f64, int nout, uint64_t seed)
{
    Lin *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->kind = kind;
    m->f64 = f64;
    m->nin = MAXI;
    m->nout = nout;
    m->lr = hook_lr;
    nnrt_rng r;
    nnrt_rng_seed(&r, seed, 1);
    for (int i = 0; i < nout * MAXI; i++)
        m->w[i] = nnrt_rng_uniform_f64(&r) - 0.5;
    nnrt_rng_seed(&m->noise, seed, 2);
    return m;
}

static void *reg32_create(uint64_t seed) { return lin_create(K_REG, 0, 1, seed); }
static void *reg64_create(uint64_t seed) { return lin_create(K_REG, 1, 1, seed); }
static void *logit_create(uint64_t seed) { return lin_create(K_LOGIT, 0, 1, seed); }
static void *soft_create(uint64_t seed) { return lin_create(K_SOFT, 0, 3, seed); }

static void lin_destroy(void *m)
{
    free(m);
}

static double get(const Lin *m, const void *a, size_t i)
{
    return m->f64 ? ((const double *)a)[i] : (double)((const float *)a)[i];
}

/* Forward pass of row r: the outputs p (after the activation) and the
 * logits z. */
static void forward(const Lin *m, const void *x, size_t r, double *z,
                    double *p)
{
    for (int k = 0; k < m->nout; k++) {
        z[k] = m->b[k];
        for (int j = 0; j < m->nin; j++)
            z[k] += m->w[k * m->nin + j] * get(m, x, r * (size_t)m->nin + (size_t)j);
    }
    if (m->kind == K_REG) {
        p[0] = z[0];
    } else if (m->kind == K_LOGIT) {
        p[0] = 1 / (1 + exp(-z[0]));
    } else {
        double mx = fmax(z[0], fmax(z[1], z[2])), s = 0;
        for (int k = 0; k < 3; k++)
            s += p[k] = exp(z[k] - mx);
        for (int k = 0; k < 3; k++)
            p[k] /= s;
    }
}

/* Mean loss and metric over n rows; with gw/gb, also the gradient. */
static double loss_grad(const Lin *m, const void *x, const void *y,
                        size_t n, double *metric, double *gw, double *gb)
{
    double loss = 0, met = 0, z[MAXO], p[MAXO], dz[MAXO];
    for (size_t r = 0; r < n; r++) {
        forward(m, x, r, z, p);
        if (m->kind == K_REG) {
            double t = get(m, y, r), e = p[0] - t;
            loss += e * e;
            met += fabs(e);
            dz[0] = 2 * e;
        } else if (m->kind == K_LOGIT) {
            double t = get(m, y, r);
            loss += fmax(z[0], 0) - z[0] * t + log1p(exp(-fabs(z[0])));
            met += (p[0] >= 0.5) == (t >= 0.5);
            dz[0] = p[0] - t;
        } else {
            int t = (int)get(m, y, r);
            loss += -log(p[t]);
            int best = 0;
            for (int k = 1; k < 3; k++)
                if (p[k] > p[best])
                    best = k;
            met += best == t;
            for (int k = 0; k < 3; k++)
                dz[k] = p[k] - (k == t);
        }
        if (gw == NULL)
            continue;
        for (int k = 0; k < m->nout; k++) {
            gb[k] += dz[k] / (double)n;
            for (int j = 0; j < m->nin; j++)
                gw[k * m->nin + j] += dz[k] *
                    get(m, x, r * (size_t)m->nin + (size_t)j) / (double)n;
        }
    }
    if (metric != NULL)
        *metric = n ? met / (double)n : 0;
    return n ? loss / (double)n : 0;
}

static double lin_train_batch(void *mp, const void *x, const void *y,
                              size_t n, double *metrics)
{
    Lin *m = mp;
    hook_steps++;
    for (size_t r = 0; r < n; r++)
        if (hook_nlog < sizeof hook_log / sizeof hook_log[0])
            hook_log[hook_nlog++] = get(m, x, r * (size_t)m->nin);
    if (hook_steps == hook_sigint_at)
        raise(SIGINT);
    if (hook_steps == hook_nan_at)
        return NAN;
    double gw[MAXO * MAXI] = {0}, gb[MAXO] = {0};
    double loss = loss_grad(m, x, y, n, metrics, gw, gb);
    double s = 0.5 + nnrt_rng_uniform_f64(&m->noise);
    for (int k = 0; k < m->nout; k++) {
        m->vb[k] = 0.9 * m->vb[k] - m->lr * s * gb[k];
        m->b[k] += m->vb[k];
        for (int j = 0; j < m->nin; j++) {
            int i = k * m->nin + j;
            m->vw[i] = 0.9 * m->vw[i] - m->lr * s * gw[i];
            m->w[i] += m->vw[i];
        }
    }
    m->step++;
    return loss;
}

static double lin_evaluate(void *mp, const void *x, const void *y, size_t n,
                           double *metrics)
{
    if (++hook_evals == hook_sigint_eval)
        raise(SIGINT);
    return loss_grad(mp, x, y, n, metrics, NULL, NULL);
}

static void lin_predict(void *mp, const void *x, size_t n, void *out)
{
    const Lin *m = mp;
    double z[MAXO], p[MAXO];
    for (size_t r = 0; r < n; r++) {
        forward(m, x, r, z, p);
        for (int k = 0; k < m->nout; k++) {
            size_t i = r * (size_t)m->nout + (size_t)k;
            if (m->f64)
                ((double *)out)[i] = p[k];
            else
                ((float *)out)[i] = (float)p[k];
        }
    }
}

/* The tensors of a weights file (2) or a checkpoint (7); state[] holds the
 * RNG as four exact 32-bit halves, step and epoch as scalars. */
static size_t lin_tensors(const Lin *m, nnrt_tensor *t, double *state,
                          double *step, double *epoch, int ckpt)
{
    int no = m->nout, ni = m->nin;
    t[0] = (nnrt_tensor){"w", NNRT_F64, 2, {no, ni}, (void *)m->w};
    t[1] = (nnrt_tensor){"b", NNRT_F64, 1, {no}, (void *)m->b};
    if (!ckpt)
        return 2;
    t[2] = (nnrt_tensor){"vw", NNRT_F64, 2, {no, ni}, (void *)m->vw};
    t[3] = (nnrt_tensor){"vb", NNRT_F64, 1, {no}, (void *)m->vb};
    t[4] = (nnrt_tensor){"noise", NNRT_F64, 1, {4}, state};
    t[5] = (nnrt_tensor){"step", NNRT_F64, 0, {0}, step};
    t[6] = (nnrt_tensor){"epoch", NNRT_F64, 0, {0}, epoch};
    return 7;
}

static int lin_save(const void *mp, const char *path, char *err,
                    size_t errlen)
{
    nnrt_tensor t[7];
    size_t n = lin_tensors(mp, t, NULL, NULL, NULL, 0);
    return nnrt_save_safetensors(path, t, n, err, errlen);
}

static int lin_load(void *mp, const char *path, char *err, size_t errlen)
{
    nnrt_tensor t[7];
    size_t n = lin_tensors(mp, t, NULL, NULL, NULL, 0);
    return nnrt_load_safetensors(path, t, n, err, errlen);
}

static int lin_save_checkpoint(const void *mp, const char *path, int epoch,
                               char *err, size_t errlen)
{
    const Lin *m = mp;
    double state[4] = {
        (double)(m->noise.state >> 32), (double)(m->noise.state & 0xffffffffu),
        (double)(m->noise.inc >> 32), (double)(m->noise.inc & 0xffffffffu),
    };
    double step = m->step, ep = epoch;
    nnrt_tensor t[7];
    size_t n = lin_tensors(m, t, state, &step, &ep, 1);
    return nnrt_save_safetensors(path, t, n, err, errlen);
}

static int lin_load_checkpoint(void *mp, const char *path, int *epoch,
                               char *err, size_t errlen)
{
    Lin *m = mp, tmp = *m;
    double state[4], step, ep;
    nnrt_tensor t[7];
    size_t n = lin_tensors(&tmp, t, state, &step, &ep, 1);
    if (nnrt_load_safetensors(path, t, n, NULL, 0) == 0) {
        tmp.noise.state = (uint64_t)state[0] << 32 | (uint64_t)state[1];
        tmp.noise.inc = (uint64_t)state[2] << 32 | (uint64_t)state[3];
        tmp.step = step;
        *m = tmp;
        *epoch = (int)ep;
        return 0;
    }
    /* A plain weights file: epoch 0, fresh optimizer state. */
    tmp = *m;
    n = lin_tensors(&tmp, t, NULL, NULL, NULL, 0);
    if (nnrt_load_safetensors(path, t, n, err, errlen) != 0)
        return -1;
    memset(tmp.vw, 0, sizeof tmp.vw);
    memset(tmp.vb, 0, sizeof tmp.vb);
    tmp.step = 0;
    *m = tmp;
    *epoch = 0;
    return 0;
}

#define LIN_FUNCS                                                          \
    .destroy = lin_destroy, .train_batch = lin_train_batch,                \
    .evaluate = lin_evaluate, .predict = lin_predict, .save = lin_save,    \
    .load = lin_load, .save_checkpoint = lin_save_checkpoint,              \
    .load_checkpoint = lin_load_checkpoint

static const nnrt_model reg32 = {
    .name = "reg", .source = "reg.nn", .input_size = 2, .output_size = 1,
    .target_size = 1, .input_rank = 1, .input_shape = {2}, .batch = 4,
    .epochs = 5, .shuffle = 1, .seed = 7, .targets = NNRT_TARGETS_VALUES,
    .loss = "mse", .nmetrics = 1, .metric_names = {"mae"},
    .elem_size = sizeof(float), .create = reg32_create, LIN_FUNCS,
};

static const nnrt_model reg64 = {
    .name = "reg64", .source = "reg64.nn", .input_size = 2,
    .output_size = 1, .target_size = 1, .input_rank = 1,
    .input_shape = {2}, .batch = 4, .epochs = 5, .shuffle = 1, .seed = 7,
    .targets = NNRT_TARGETS_VALUES, .loss = "mse", .nmetrics = 1,
    .metric_names = {"mae"}, .elem_size = sizeof(double),
    .create = reg64_create, LIN_FUNCS,
};

static const nnrt_model logit = {
    .name = "logit", .source = "logit.nn", .input_size = 2,
    .output_size = 1, .target_size = 1, .input_rank = 1,
    .input_shape = {2}, .batch = 4, .epochs = 5, .shuffle = 1, .seed = 1,
    .targets = NNRT_TARGETS_VALUES, .binary = 1,
    .loss = "binary_crossentropy", .nmetrics = 1,
    .metric_names = {"accuracy"}, .classifier = 1,
    .elem_size = sizeof(float), .create = logit_create, LIN_FUNCS,
};

static const nnrt_model soft = {
    .name = "soft", .source = "soft.nn", .input_size = 2, .output_size = 3,
    .target_size = 1, .input_rank = 1, .input_shape = {2}, .batch = 4,
    .epochs = 5, .shuffle = 1, .seed = 1, .targets = NNRT_TARGETS_CLASS_ID,
    .nclasses = 3, .loss = "sparse_categorical_crossentropy",
    .nmetrics = 1, .metric_names = {"accuracy"}, .classifier = 1,
    .elem_size = sizeof(float), .create = soft_create, LIN_FUNCS,
};

/* ------------------------------------------------------------ helpers */

/* Each test: a fresh directory (tmpdir.h) and fresh hooks. */
static void test_setup(void)
{
    dir_setup();
    reset_hooks();
}

static void put_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file as a malloc'ed string; NULL if it does not exist. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ck_assert(m != NULL);
    int ch;
    while ((ch = fgetc(f)) != EOF)
        fputc(ch, m);
    fclose(f);
    fclose(m);
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Whether s matches the extended regular expression re (multi-line). */
static int matches(const char *s, const char *re)
{
    regex_t r;
    ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
    int ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

#define ck_assert_match(s, re)                                              \
    ck_assert_msg(matches((s), (re)), "'%s' does not match /%s/", (s), (re))

/* y = 2 x0 - 3 x1 + 1 on n rows; with ids, x0 is the row number. */
static nnrt_dataset reg_data(size_t n, int ids)
{
    nnrt_dataset d = {n, 2, 1, malloc(n * 2 * sizeof(float)),
                      malloc(n * sizeof(float))};
    ck_assert(d.x != NULL && d.y != NULL);
    for (size_t i = 0; i < n; i++) {
        float x0 = ids ? (float)i : (float)i / (float)n;
        float x1 = (float)((i * 7) % n) / (float)n;
        d.x[2 * i] = x0;
        d.x[2 * i + 1] = x1;
        d.y[i] = ids ? 0.0f : 2 * x0 - 3 * x1 + 1;
    }
    return d;
}

/* The same data as a CSV file with a header. */
static const char *reg_csv(const char *name, size_t n)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");
    ck_assert(f != NULL);
    fputs("x0,x1,y\n", f);
    nnrt_dataset d = reg_data(n, 0);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.9g,%.9g,%.9g\n", d.x[2 * i], d.x[2 * i + 1], d.y[i]);
    nnrt_dataset_free(&d);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

static nnrt_train_options quiet_options(const nnrt_model *d, int epochs)
{
    nnrt_train_options o;
    nnrt_train_options_model(&o, d);
    o.epochs = epochs;
    o.verbose = 0;
    return o;
}

/* nnrt_train of model m (reg32's) refuses, with exactly the error want. */
static void train_refuses(void *m, const nnrt_dataset *data,
                          const nnrt_dataset *val, const nnrt_train_options *o,
                          const char *want)
{
    char err[256];
    ck_assert_int_eq(nnrt_train(&reg32, m, data, val, o, NULL, err,
                                sizeof err), -1);
    ck_assert_str_eq(err, want);
}

/* Runs the trainer program in-process: argv[0] is "prog", then the
 * arguments up to NULL. *out and *err receive what it printed. */
static int run_cli(const nnrt_model *d, char **out, char **err, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = strdup("./prog");
    va_list ap;
    va_start(ap, err);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    size_t lo, le;
    FILE *fo = open_memstream(out, &lo), *fe = open_memstream(err, &le);
    ck_assert(fo != NULL && fe != NULL);
    int rc = nnrt_main_streams(argc, argv, d, fo, fe);
    fclose(fo);
    fclose(fe);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

/* A usage error: status 2 and `want` in the message. */
#define ck_usage(want, ...)                                                 \
    do {                                                                    \
        char *o_, *e_;                                                      \
        int rc_ = run_cli(&reg32, &o_, &e_, __VA_ARGS__, (char *)NULL);     \
        ck_assert_msg(rc_ == 2, "status %d, stderr: %s", rc_, e_);          \
        ck_assert_msg(strstr(e_, want) != NULL, "stderr: %s", e_);          \
        ck_assert_str_eq(o_, "");                                           \
        free(o_);                                                           \
        free(e_);                                                           \
    } while (0)

static void params_of(void *m, double *w)
{
    const Lin *l = m;
    memcpy(w, l->w, sizeof l->w);
    memcpy(w + MAXO * MAXI, l->b, sizeof l->b);
}

/* ------------------------------------------------------------ training */

START_TEST(test_train_reduces_loss)
{
    const nnrt_model *d = _i ? &reg64 : &reg32;
    nnrt_dataset data = reg_data(64, 0);
    void *m = d->create(d->seed);
    nnrt_train_options o = quiet_options(d, 40);
    nnrt_history h;
    char err[256] = "";
    ck_assert_int_eq(nnrt_train(d, m, &data, NULL, &o, &h, err, sizeof err), 0);
    ck_assert_int_eq(h.epochs, 40);
    ck_assert_int_eq(h.nmetrics, 1);
    ck_assert_int_eq(h.initial_epoch, 0);
    ck_assert_int_eq(h.has_val, 0);
    ck_assert_msg(h.loss[39] < 0.01 * h.loss[0], "loss %g -> %g", h.loss[0],
                  h.loss[39]);
    ck_assert(h.metrics[39] < h.metrics[0]);
    for (int e = 0; e < 40; e++)
        ck_assert(h.seconds[e] >= 0);
    /* 64 rows in batches of 4: 16 steps per epoch. */
    ck_assert_int_eq(hook_steps, 40 * 16);
    double loss, mae;
    ck_assert_int_eq(nnrt_evaluate_dataset(d, m, &data, &loss, &mae, err,
                                           sizeof err), 0);
    ck_assert(loss < 1e-3 && mae < 0.05);
    nnrt_history_free(&h);
    d->destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

START_TEST(test_epoch_order)
{
    size_t a[50], b[50], c[50];
    nnrt_epoch_order(a, 50, 9, 3);
    nnrt_epoch_order(b, 50, 9, 3);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Epoch e is the identity shuffled e times by one stream-3 RNG. */
    nnrt_rng r;
    nnrt_rng_seed(&r, 9, 3);
    nnrt_iota(c, 50);
    for (int e = 0; e < 3; e++)
        nnrt_shuffle(c, 50, &r);
    ck_assert_mem_eq(a, c, sizeof a);
    nnrt_epoch_order(b, 50, 9, 4);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    nnrt_epoch_order(b, 50, 10, 3);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    nnrt_epoch_order(b, 50, 9, 0);
    for (size_t i = 0; i < 50; i++)
        ck_assert_uint_eq(b[i], i);
    int seen[50] = {0};
    for (size_t i = 0; i < 50; i++)
        seen[a[i]]++;
    for (size_t i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
}
END_TEST

/* The rows each batch sees are those of nnrt_epoch_order, in a fresh run
 * and in a resumed one; without shuffling, the file order. */
START_TEST(test_train_row_order)
{
    nnrt_dataset data = reg_data(23, 1); /* x0 = row number */
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 3);
    o.batch = 5; /* 5 batches, the last of 3 rows */
    o.seed = 42;
    hook_lr = 0;
    char err[256];
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    ck_assert_uint_eq(hook_nlog, 3 * 23);
    ck_assert_int_eq(hook_steps, 3 * 5);
    size_t idx[23];
    for (int e = 1; e <= 3; e++) {
        nnrt_epoch_order(idx, 23, 42, e);
        for (size_t i = 0; i < 23; i++)
            ck_assert_double_eq(hook_log[(size_t)(e - 1) * 23 + i],
                                (double)idx[i]);
    }
    /* Resumed after 2 epochs: epoch 3 sees the same order. */
    hook_nlog = 0;
    o.initial_epoch = 2;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    ck_assert_uint_eq(hook_nlog, 23);
    nnrt_epoch_order(idx, 23, 42, 3);
    for (size_t i = 0; i < 23; i++)
        ck_assert_double_eq(hook_log[i], (double)idx[i]);
    /* No shuffling: file order, every epoch. */
    hook_nlog = 0;
    o.initial_epoch = 0;
    o.shuffle = 0;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    for (size_t i = 0; i < 3 * 23; i++)
        ck_assert_double_eq(hook_log[i], (double)(i % 23));
    reg32.destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

/* Resuming from the checkpoint of epoch 3 gives bit-identical weights to
 * 7 uninterrupted epochs, in float and double models. */
START_TEST(test_resume_bit_identical)
{
    const nnrt_model *d = _i ? &reg64 : &reg32;
    nnrt_dataset data = reg_data(30, 0);
    char err[256] = "";
    double full[MAXO * MAXI + MAXO], resumed[MAXO * MAXI + MAXO];

    void *m = d->create(5);
    nnrt_train_options o = quiet_options(d, 7);
    o.batch = 4;
    o.seed = 11;
    ck_assert_int_eq(nnrt_train(d, m, &data, NULL, &o, NULL, err, sizeof err), 0);
    params_of(m, full);
    d->destroy(m);

    /* First 3 epochs, with a checkpoint after epochs 2 and 3... */
    const char *ckpt = path_of("c.safetensors");
    m = d->create(5);
    o.epochs = 3;
    o.checkpoint = ckpt;
    o.checkpoint_every = 1;
    ck_assert_int_eq(nnrt_train(d, m, &data, NULL, &o, NULL, err, sizeof err), 0);
    d->destroy(m);

    /* ...then a new process, so to speak: a model of another seed. */
    m = d->create(999);
    int epoch = -1;
    ck_assert_int_eq(d->load_checkpoint(m, ckpt, &epoch, err, sizeof err), 0);
    ck_assert_int_eq(epoch, 3);
    o.epochs = 7;
    o.initial_epoch = epoch;
    o.checkpoint_every = 0;
    nnrt_history h;
    ck_assert_int_eq(nnrt_train(d, m, &data, NULL, &o, &h, err, sizeof err), 0);
    ck_assert_int_eq(h.epochs, 4);
    ck_assert_int_eq(h.initial_epoch, 3);
    params_of(m, resumed);
    ck_assert_mem_eq(full, resumed, sizeof full);
    nnrt_history_free(&h);

    /* A plain weights file loads as epoch 0. */
    ck_assert_int_eq(d->save(m, path_of("w.safetensors"), err, sizeof err), 0);
    ck_assert_int_eq(d->load_checkpoint(m, path_of("w.safetensors"), &epoch,
                                        err, sizeof err), 0);
    ck_assert_int_eq(epoch, 0);
    d->destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

START_TEST(test_nan_stops)
{
    nnrt_dataset data = reg_data(80, 0); /* 20 batches of 4 */
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 5);
    o.history_csv = path_of("h.csv");
    hook_nan_at = 2 * 20 + 17;
    char err[256] = "";
    nnrt_history h;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, &h, err,
                                sizeof err), -1);
    ck_assert_str_eq(err, "loss became nan at epoch 3, batch 17 (try a "
                          "smaller learning rate)");
    ck_assert_int_eq(hook_steps, 2 * 20 + 17); /* stopped at once */
    ck_assert_int_eq(h.epochs, 2);             /* what was done is kept */
    char *csv = slurp(o.history_csv);
    ck_assert(csv != NULL);
    ck_assert_int_eq(count_lines(csv), 3);
    free(csv);
    nnrt_history_free(&h);
    reg32.destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

START_TEST(test_history_csv)
{
    nnrt_dataset data = reg_data(40, 0), val = reg_data(10, 0);
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 3);
    o.history_csv = path_of("h.csv");
    nnrt_history h;
    char err[256] = "";
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, &val, &o, &h, err,
                                sizeof err), 0);
    ck_assert_int_eq(h.has_val, 1);
    char *csv = slurp(o.history_csv);
    ck_assert(csv != NULL);
    ck_assert(strncmp(csv, "epoch,loss,mae,val_loss,val_mae,seconds\n", 40) == 0);
    ck_assert_int_eq(count_lines(csv), 4);
    /* Each row holds the history's numbers as %.9g. */
    const char *p = strchr(csv, '\n') + 1;
    for (int e = 0; e < 3; e++) {
        int ep;
        double v[5];
        ck_assert_int_eq(sscanf(p, "%d,%lf,%lf,%lf,%lf,%lf", &ep, &v[0],
                                &v[1], &v[2], &v[3], &v[4]), 6);
        ck_assert_int_eq(ep, e + 1);
        char want[256];
        snprintf(want, sizeof want, "%d,%.9g,%.9g,%.9g,%.9g,%.9g\n", e + 1,
                 h.loss[e], h.metrics[e], h.val_loss[e], h.val_metrics[e],
                 h.seconds[e]);
        ck_assert(strncmp(p, want, strlen(want)) == 0);
        p = strchr(p, '\n') + 1;
    }
    free(csv);
    /* The validation numbers are evaluate's after the epoch. */
    double vl, vm;
    ck_assert_int_eq(nnrt_evaluate_dataset(&reg32, m, &val, &vl, &vm, err,
                                           sizeof err), 0);
    ck_assert_double_eq_tol(vl, h.val_loss[2], 1e-12);
    ck_assert_double_eq_tol(vm, h.val_metrics[2], 1e-12);
    nnrt_history_free(&h);

    /* Without validation data, no val_ columns; no temporary file left. */
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    csv = slurp(o.history_csv);
    ck_assert(strncmp(csv, "epoch,loss,mae,seconds\n1,", 25) == 0);
    ck_assert_int_eq(count_lines(csv), 4);
    free(csv);
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o.history_csv, (long)getpid());
    ck_assert(!exists(tmp));
    reg32.destroy(m);
    nnrt_dataset_free(&data);
    nnrt_dataset_free(&val);
}
END_TEST

/* A resumed run keeps the rows of the epochs before it. */
START_TEST(test_history_csv_resume)
{
    nnrt_dataset data = reg_data(40, 0);
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 4);
    o.history_csv = path_of("h.csv");
    char err[256] = "";
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    char *before = slurp(o.history_csv);
    /* Resume after epoch 3 (the 4th row is dropped and redone). */
    o.initial_epoch = 3;
    o.epochs = 5;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    char *after = slurp(o.history_csv);
    ck_assert_int_eq(count_lines(after), 6);
    const char *row4 = strstr(before, "\n4,");
    ck_assert(row4 != NULL);
    size_t keep = (size_t)(row4 - before) + 1;
    ck_assert(strncmp(before, after, keep) == 0);
    ck_assert(strncmp(after + keep, "4,", 2) == 0);
    ck_assert(strstr(after, "\n5,") != NULL);
    free(before);
    free(after);
    reg32.destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

/* Not a terminal: one line per epoch, checkpoint notes. */
START_TEST(test_progress_lines)
{
    nnrt_dataset data = reg_data(40, 0), val = reg_data(10, 0);
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 3);
    char *text = NULL;
    size_t len = 0;
    o.out = open_memstream(&text, &len);
    o.verbose = 1; /* auto: a memory stream is no terminal */
    o.checkpoint = path_of("c.safetensors");
    o.checkpoint_every = 2;
    char err[256] = "";
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, &val, &o, NULL, err,
                                sizeof err), 0);
    fclose(o.out);
    const char *num = "[0-9]+\\.[0-9]{4}";
    char re[512];
    snprintf(re, sizeof re,
             "^Epoch 1/3 - [0-9]+\\.[0-9]s - loss: %s - mae: %s - "
             "val_loss: %s - val_mae: %s\n"
             "Epoch 2/3 - [0-9]+\\.[0-9]s - loss: %s - mae: %s - "
             "val_loss: %s - val_mae: %s\n"
             "saved checkpoint %s \\(epoch 2\\)\n"
             "Epoch 3/3 - [0-9]+\\.[0-9]s - loss: %s - mae: %s - "
             "val_loss: %s - val_mae: %s\n$",
             num, num, num, num, num, num, num, num, o.checkpoint, num, num,
             num, num);
    ck_assert_msg(matches(text, re), "progress:\n%s", text);
    ck_assert(strchr(text, '\r') == NULL);
    free(text);

    /* verbose 0: nothing at all. */
    text = NULL;
    o.out = open_memstream(&text, &len);
    o.verbose = 0;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    fclose(o.out);
    ck_assert_str_eq(text, "");
    free(text);
    reg32.destroy(m);
    nnrt_dataset_free(&data);
    nnrt_dataset_free(&val);
}
END_TEST

/* On a terminal: "Epoch 1/2", then a bar redrawn with \r. */
START_TEST(test_progress_bar)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0)
        return; /* no pseudo-terminals here: nothing to test */
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    ck_assert(slave >= 0);
    FILE *tty = fdopen(slave, "w");
    ck_assert(tty != NULL && isatty(fileno(tty)));

    nnrt_dataset data = reg_data(40, 0); /* 10 batches of 4 */
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 2);
    o.out = tty;
    o.verbose = 1;
    char err[256] = "";
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    fclose(tty);
    char buf[8192];
    size_t len = 0;
    ssize_t got;
    fcntl(master, F_SETFL, O_NONBLOCK);
    while (len < sizeof buf - 1 &&
           (got = read(master, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    buf[len] = '\0';
    close(master);
    /* The terminal turns \n into \r\n; what matters is each line's last
     * state, after its last \r. */
    ck_assert_msg(matches(buf, "^Epoch 1/2\r?$"), "%s", buf);
    ck_assert_msg(matches(buf, "^Epoch 2/2\r?$"), "%s", buf);
    ck_assert_msg(matches(buf, "\r10/10 \\[={30}\\] - [0-9]+s [0-9]+[mu]?s/step - "
                               "loss: [0-9]+\\.[0-9]{4} - mae: [0-9]+\\.[0-9]{4}"
                               " *\r?$"), "%s", buf);
    reg32.destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

static void dummy_handler(int sig)
{
    (void)sig;
}

START_TEST(test_sigint_checkpoint)
{
    struct sigaction mine = {0}, now;
    mine.sa_handler = dummy_handler;
    sigemptyset(&mine.sa_mask);
    ck_assert_int_eq(sigaction(SIGINT, &mine, NULL), 0);

    nnrt_dataset data = reg_data(40, 0); /* 10 batches of 4 */
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 5);
    o.checkpoint = path_of("c.safetensors");
    o.history_csv = path_of("h.csv");
    hook_sigint_at = 10 + 3; /* epoch 2, batch 3 */
    char err[512] = "";
    nnrt_history h;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, &h, err,
                                sizeof err), 1);
    char want[512];
    snprintf(want, sizeof want, "interrupted at epoch 2, batch 3: checkpoint "
             "saved to %s; resume with --init %s", o.checkpoint, o.checkpoint);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(hook_steps, 13); /* the batch in flight was finished */
    ck_assert_int_eq(h.epochs, 1);
    nnrt_history_free(&h);
    /* The checkpoint counts the completed epochs and holds the weights. */
    void *m2 = reg32.create(3);
    int epoch = -1;
    ck_assert_int_eq(reg32.load_checkpoint(m2, o.checkpoint, &epoch, err,
                                           sizeof err), 0);
    ck_assert_int_eq(epoch, 1);
    double a[MAXO * MAXI + MAXO], b[MAXO * MAXI + MAXO];
    params_of(m, a);
    params_of(m2, b);
    ck_assert_mem_eq(a, b, sizeof a);
    /* The caller's handler is back. */
    ck_assert_int_eq(sigaction(SIGINT, NULL, &now), 0);
    ck_assert(now.sa_handler == dummy_handler);

    /* Ctrl-C during validation: the epoch is complete and counted. */
    nnrt_dataset val = reg_data(8, 0);
    hook_sigint_at = 0;
    hook_sigint_eval = 2;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, &val, &o, &h, err,
                                sizeof err), 1);
    snprintf(want, sizeof want, "interrupted after epoch 2: checkpoint saved "
             "to %s; resume with --init %s", o.checkpoint, o.checkpoint);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(h.epochs, 2);
    nnrt_history_free(&h);
    ck_assert_int_eq(reg32.load_checkpoint(m2, o.checkpoint, &epoch, err,
                                           sizeof err), 0);
    ck_assert_int_eq(epoch, 2);
    nnrt_dataset_free(&val);

    /* With catch_sigint 0, SIGINT is the caller's business. */
    o.catch_sigint = 0;
    hook_steps = 0;
    hook_sigint_at = 2;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), 0);
    reg32.destroy(m2);
    reg32.destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

/* Ctrl-C when the checkpoint cannot be written: an error, not an
 * interruption, saying where training stopped and why nothing was saved. */
START_TEST(test_sigint_checkpoint_fails)
{
    struct sigaction mine = {0};
    mine.sa_handler = dummy_handler;
    sigemptyset(&mine.sa_mask);
    ck_assert_int_eq(sigaction(SIGINT, &mine, NULL), 0);

    nnrt_dataset data = reg_data(40, 0), val = reg_data(8, 0);
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 5);
    o.checkpoint = "/nonexistent-dir/c.safetensors";
    char err[1024], want[1024], why[512];
    snprintf(why, sizeof why, "%s: cannot create '%s.tmp.%ld': No such file "
             "or directory", o.checkpoint, o.checkpoint, (long)getpid());
    hook_sigint_at = 10 + 3; /* epoch 2, batch 3 */
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), -1);
    snprintf(want, sizeof want, "interrupted at epoch 2, batch 3, and the "
             "checkpoint could not be saved: %s", why);
    ck_assert_str_eq(err, want);

    /* During validation: the epoch is complete, the save fails all the
     * same. */
    hook_sigint_at = 0;
    hook_sigint_eval = 2;
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, &val, &o, NULL, err,
                                sizeof err), -1);
    snprintf(want, sizeof want, "interrupted after epoch 2, and the "
             "checkpoint could not be saved: %s", why);
    ck_assert_str_eq(err, want);
    reg32.destroy(m);
    nnrt_dataset_free(&val);
    nnrt_dataset_free(&data);
}
END_TEST

START_TEST(test_train_bad_arguments)
{
    nnrt_dataset data = reg_data(8, 0);
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 1);
    char err[256];
    o.batch = 0;
    train_refuses(m, &data, NULL, &o, "the batch size must be positive, not 0");
    o.batch = 4;
    data.nx = 3;
    train_refuses(m, &data, NULL, &o,
                  "the training data has 3 input values per row, but "
                  "the model reg takes 2");
    data.nx = 2;
    nnrt_dataset val = {1, 2, 2, data.x, data.y};
    train_refuses(m, &data, &val, &o,
                  "the validation data has 2 target values per row, "
                  "but the model reg needs 1");
    /* An unwritable history is an error at the first epoch's end. */
    o.history_csv = "/nonexistent-dir/h.csv";
    ck_assert_int_eq(nnrt_train(&reg32, m, &data, NULL, &o, NULL, err,
                                sizeof err), -1);
    ck_assert(strncmp(err, "/nonexistent-dir/h.csv: cannot create", 37) == 0);
    o.history_csv = NULL;
    hook_steps = 0;
    o.epochs = -1;
    train_refuses(m, &data, NULL, &o, "epochs must not be negative");
    o.epochs = 1;
    nnrt_dataset none = {0, 2, 1, data.x, data.y};
    train_refuses(m, &none, NULL, &o, "the training data has no rows");
    ck_assert_int_eq(hook_steps, 0);
    reg32.destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

/* Descriptors the runtime cannot work with (a hand-written one, or an
 * inference-only model's) are refused before anything runs. */
START_TEST(test_train_bad_descriptors)
{
    nnrt_dataset data = reg_data(8, 0);
    void *m = reg32.create(1);
    nnrt_train_options o = quiet_options(&reg32, 1);
    char err[256];
    double loss;

    nnrt_model d = reg32;
    d.train_batch = NULL; /* an inference-only model has neither */
    d.evaluate = NULL;
    ck_assert_int_eq(nnrt_train(&d, m, &data, NULL, &o, NULL, err,
                                sizeof err), -1);
    ck_assert_str_eq(err, "model reg has no loss, so it cannot be trained");
    ck_assert_int_eq(nnrt_evaluate_dataset(&d, m, &data, &loss, NULL, err,
                                           sizeof err), -1);
    ck_assert_str_eq(err, "model reg has no loss, so it cannot be evaluated");

    d = reg32;
    d.nmetrics = 4;
    ck_assert_int_eq(nnrt_train(&d, m, &data, NULL, &o, NULL, err,
                                sizeof err), -1);
    ck_assert_str_eq(err, "model reg: 4 metrics (at most 3)");

    d = reg32;
    d.elem_size = 2;
    ck_assert_int_eq(nnrt_train(&d, m, &data, NULL, &o, NULL, err,
                                sizeof err), -1);
    ck_assert_str_eq(err, "model reg: element size 2 is neither a float's "
                          "nor a double's");
    ck_assert_int_eq(hook_steps, 0);

    /* Without save_checkpoint, a checkpoint due after epoch 1 fails. */
    d = reg32;
    d.save_checkpoint = NULL;
    o.epochs = 2;
    o.checkpoint_every = 1;
    o.checkpoint = path_of("c.safetensors");
    ck_assert_int_eq(nnrt_train(&d, m, &data, NULL, &o, NULL, err,
                                sizeof err), -1);
    ck_assert_str_eq(err, "model reg cannot save checkpoints");
    ck_assert_int_eq(hook_steps, 2); /* epoch 1 only */
    ck_assert(!exists(o.checkpoint));
    reg32.destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

/* ------------------------------------------------- evaluate, predict */

START_TEST(test_evaluate_chunks)
{
    /* More rows than one chunk: the mean over all rows all the same. */
    const nnrt_model *d = _i ? &reg64 : &reg32;
    nnrt_dataset data = reg_data(2500, 0);
    void *m = d->create(3);
    double loss, mae, mae1;
    char err[256];
    ck_assert_int_eq(nnrt_evaluate_dataset(d, m, &data, &loss, &mae, err,
                                           sizeof err), 0);
    float *x = data.x;
    double *xd = malloc(2500 * 2 * sizeof *xd), *yd = malloc(2500 * sizeof *yd);
    for (size_t i = 0; i < 5000; i++)
        xd[i] = x[i];
    for (size_t i = 0; i < 2500; i++)
        yd[i] = data.y[i];
    double whole = d->elem_size == 8
                       ? d->evaluate(m, xd, yd, 2500, &mae1)
                       : d->evaluate(m, data.x, data.y, 2500, &mae1);
    ck_assert_double_eq_tol(loss, whole, 1e-12);
    ck_assert_double_eq_tol(mae, mae1, 1e-12);
    free(xd);
    free(yd);
    d->destroy(m);
    nnrt_dataset_free(&data);
}
END_TEST

/* What nnrt_predict_dataset writes, into *text (to free). */
static void predict_text(const nnrt_model *d, void *m, nnrt_dataset *data,
                         char **text)
{
    char err[256];
    size_t len;
    FILE *f = open_memstream(text, &len);
    ck_assert(f != NULL);
    ck_assert_int_eq(nnrt_predict_dataset(d, m, data, f, err, sizeof err), 0);
    fclose(f);
}

START_TEST(test_predict_csv)
{
    float x[6] = {1, 1, 0, 0, -1, 0.5f};
    nnrt_dataset data = {3, 2, 0, x, NULL};

    Lin *r = reg32.create(1);
    r->w[0] = 1, r->w[1] = 2, r->b[0] = 0.5;
    char *t;
    predict_text(&reg32, r, &data, &t);
    ck_assert_str_eq(t, "y0\n3.5\n0.5\n0.5\n");
    free(t);
    reg32.destroy(r);

    /* One sigmoid unit: p >= 0.5 is class 1. */
    Lin *l = logit.create(1);
    l->w[0] = 1, l->w[1] = 0, l->b[0] = 0;
    predict_text(&logit, l, &data, &t);
    ck_assert_str_eq(t, "p0,class\n0.731058598,1\n0.5,1\n0.268941432,0\n");
    free(t);
    logit.destroy(l);

    /* Softmax: the argmax. */
    Lin *s = soft.create(1);
    ck_assert(s != NULL);
    for (int i = 0; i < MAXO * MAXI; i++)
        s->w[i] = 0;
    s->w[0] = 2;  /* class 0 grows with x0 */
    s->w[3] = 1;  /* class 1 grows with x1 */
    s->b[2] = 0.25;
    predict_text(&soft, s, &data, &t);
    ck_assert_match(t, "^p0,p1,p2,class\n");
    const char *row = strchr(t, '\n') + 1;
    int cls[3];
    for (int i = 0; i < 3; i++) {
        double p[3];
        ck_assert_int_eq(sscanf(row, "%lf,%lf,%lf,%d", &p[0], &p[1], &p[2],
                                &cls[i]), 4);
        ck_assert_double_eq_tol(p[0] + p[1] + p[2], 1, 1e-6);
        row = strchr(row, '\n') + 1;
    }
    ck_assert_int_eq(cls[0], 0); /* z = 2, 1, 0.25 */
    ck_assert_int_eq(cls[1], 2); /* z = 0, 0, 0.25 */
    ck_assert_int_eq(cls[2], 1); /* z = -2, 0.5, 0.25 */
    ck_assert_str_eq(row, "");
    free(t);
    soft.destroy(s);

    /* A double model prints the same. */
    Lin *r64 = reg64.create(1);
    r64->w[0] = 1, r64->w[1] = 2, r64->b[0] = 0.5;
    predict_text(&reg64, r64, &data, &t);
    ck_assert_str_eq(t, "y0\n3.5\n0.5\n0.5\n");
    free(t);
    reg64.destroy(r64);
}
END_TEST

/* A failed write (here a full device) is reported, not dropped. */
START_TEST(test_predict_write_error)
{
    float x[4] = {1, 1, 0, 0};
    nnrt_dataset data = {2, 2, 0, x, NULL};
    void *m = reg32.create(1);
    FILE *f = fopen("/dev/full", "w");
    ck_assert_msg(f != NULL, "/dev/full: %s", strerror(errno));
    setvbuf(f, NULL, _IONBF, 0); /* each write reaches the device */
    char err[256];
    ck_assert_int_eq(nnrt_predict_dataset(&reg32, m, &data, f, err,
                                          sizeof err), -1);
    ck_assert_str_eq(err, "cannot write the predictions: No space left on "
                          "device");
    fclose(f);
    reg32.destroy(m);
}
END_TEST

START_TEST(test_write_atomic)
{
    const char *p = path_of("f.txt");
    char err[256];
    put_text(p, "old");
    ck_assert_int_eq(nnrt_write_file_atomic(p, "new\n", 4, err, sizeof err), 0);
    char *s = slurp(p);
    ck_assert_str_eq(s, "new\n");
    free(s);
    ck_assert_int_eq(nnrt_write_file_atomic("/nonexistent-dir/f.txt", "x", 1,
                                            err, sizeof err), -1);
    ck_assert(strncmp(err, "/nonexistent-dir/f.txt: cannot create "
                           "'/nonexistent-dir/f.txt.tmp.", 65) == 0);

    /* A write that fails part of the way, as on a full disk: here the
     * file size limit (SIGXFSZ ignored, so write returns EFBIG).  The old
     * file stays, and no temporary is left. */
    struct rlimit limit, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &limit), 0);
    small = limit;
    small.rlim_cur = 64;
    char text[200];
    memset(text, 'y', sizeof text);
    void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = nnrt_write_file_atomic(p, text, sizeof text, err, sizeof err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    signal(SIGXFSZ, handler);
    ck_assert_int_eq(rc, -1);
    char want[300];
    snprintf(want, sizeof want, "%s: cannot write: File too large", p);
    ck_assert_str_eq(err, want);
    s = slurp(p);
    ck_assert_str_eq(s, "new\n");
    free(s);
    snprintf(want, sizeof want, "%s.tmp.%ld", p, (long)getpid());
    ck_assert(!exists(want));
}
END_TEST

/* ------------------------------------------------------------ the CLI */

START_TEST(test_cli_usage_errors)
{
    char *o, *e;
    ck_assert_int_eq(run_cli(&reg32, &o, &e, (char *)NULL), 2);
    ck_assert_str_eq(e, "prog: error: missing command: train, eval or "
                        "predict\nrun 'prog --help' for usage\n");
    free(o);
    free(e);
    ck_usage("unknown command 'trian'; did you mean 'train'?", "trian");
    ck_usage("unknown command 'fly' (commands: train, eval, predict)", "fly");
    ck_usage("missing command before '--data'", "--data", "x.csv");
    ck_usage("unknown option '--epoch' for train; did you mean '--epochs'?",
             "train", "--data", "x.csv", "--epoch", "3");
    ck_usage("unknown option '--frobnicate' for train\n", "train",
             "--frobnicate");
    ck_usage("unknown option '-q' for train", "train", "-q");
    ck_usage("option --data needs a value (--data FILE)", "train", "--data");
    ck_usage("option --data needs a value (--data FILE)", "train", "--data",
             "--epochs", "3");
    ck_usage("option --epochs expects a positive integer, got 'ten'", "train",
             "--data", "x.csv", "--epochs", "ten");
    ck_usage("option --epochs expects a positive integer, got '0'", "train",
             "--data", "x.csv", "--epochs=0");
    ck_usage("option --checkpoint-every expects a non-negative integer, got "
             "'-1'", "train", "--data", "x.csv", "--checkpoint-every", "-1");
    ck_usage("option --seed expects an integer from 0 to "
             "18446744073709551615, got '-3'", "train", "--data", "x.csv",
             "--seed", "-3");
    ck_usage("option --quiet takes no value", "train", "--quiet=yes");
    ck_usage("option --batch is given twice", "train", "--batch", "2",
             "--batch", "3");
    ck_usage("option --weights does not apply to train (it is an option of "
             "eval)", "train", "--weights", "w");
    ck_usage("option --epochs does not apply to eval", "eval", "--epochs", "3");
    ck_usage("unexpected argument 'data.csv' (options start with --)", "train",
             "data.csv");
    ck_usage("train needs --data FILE", "train", "--epochs", "3");
    ck_usage("eval needs --weights FILE", "eval", "--data", "x.csv");
    ck_usage("predict needs --data FILE", "predict", "--weights", "w");
    ck_usage("eval needs --data FILE", "eval", "--weights", "w");
    ck_usage("predict needs --weights FILE", "predict", "--data", "x.csv");
    ck_usage("option --data needs a value (--data FILE), got an empty one",
             "train", "--data=");
    ck_usage("--out and --checkpoint are the same file, w.st", "train",
             "--data", "x.csv", "--out", "w.st", "--checkpoint", "w.st");
    ck_usage("--val-labels is given without --val", "train", "--data", "x.csv",
             "--val-labels", "l");
    ck_usage("run 'prog train --help' for usage", "train");
}
END_TEST

START_TEST(test_cli_help)
{
    char *o, *e;
    ck_assert_int_eq(run_cli(&reg32, &o, &e, "--help", (char *)NULL), 0);
    ck_assert(strstr(o, "usage: prog COMMAND [options]") != NULL);
    ck_assert(strstr(o, "  predict   write the model's predictions") != NULL);
    ck_assert_str_eq(e, "");
    free(o);
    free(e);
    /* --help wins over errors elsewhere on the line. */
    ck_assert_int_eq(run_cli(&reg32, &o, &e, "train", "--bogus", "--help",
                             (char *)NULL), 0);
    ck_assert(strncmp(o, "usage: prog train --data FILE [options]\n", 40) == 0);
    ck_assert(strstr(o, "--epochs N") != NULL);
    ck_assert(strstr(o, "(default 5)") != NULL);
    ck_assert(strstr(o, "(default reg.safetensors)") != NULL);
    ck_assert(strstr(o, "2 input columns, then 1 target;") != NULL);
    free(o);
    free(e);
    ck_assert_int_eq(run_cli(&soft, &o, &e, "predict", "-h", (char *)NULL), 0);
    ck_assert(strstr(o, "--out FILE") != NULL);
    ck_assert(strstr(o, "--epochs") == NULL);
    free(o);
    free(e);
    ck_assert_int_eq(run_cli(&soft, &o, &e, "eval", "--help", (char *)NULL), 0);
    ck_assert(strstr(o, "2 input columns, then 1 class id (0 to 2)") != NULL);
    free(o);
    free(e);
    ck_assert_int_eq(run_cli(&soft, &o, &e, "--version", (char *)NULL), 0);
    ck_assert(strstr(o, "model soft from soft.nn, nnc runtime " NNRT_VERSION)
              != NULL);
    free(o);
    free(e);
}
END_TEST

/* train, then eval and predict with the weights it saved. */
START_TEST(test_cli_train_eval_predict)
{
    const char *train = reg_csv("train.csv", 48), *val = reg_csv("val.csv", 12);
    const char *w = path_of("w.safetensors"), *h = path_of("h.csv");
    const char *ck = path_of("c.safetensors");
    char *o, *e;
    int rc = run_cli(&reg32, &o, &e, "train", "--data", train, "--val", val,
                     "--epochs", "30", "--batch=6", "--seed", "3", "--out", w,
                     "--history", h, "--checkpoint", ck,
                     "--checkpoint-every", "10", (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_str_eq(o, "");
    ck_assert(matches(e, "^Epoch 30/30 - [0-9.]+s - loss: [0-9.]+ - mae: "
                         "[0-9.]+ - val_loss: [0-9.]+ - val_mae: [0-9.]+$"));
    ck_assert(matches(e, "^saved checkpoint .*c.safetensors \\(epoch 30\\)$"));
    char want[300];
    snprintf(want, sizeof want, "\nsaved weights to %s\n", w);
    ck_assert(strstr(e, want) != NULL);
    ck_assert_int_eq(hook_steps, 30 * 8);
    free(o);
    free(e);
    char *csv = slurp(h);
    ck_assert_int_eq(count_lines(csv), 31);
    free(csv);

    rc = run_cli(&reg32, &o, &e, "eval", "--weights", w, "--data", val,
                 (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_match(o, "^loss: [0-9]\\.[0-9]{4} - mae: [0-9]\\.[0-9]{4}\n$");
    ck_assert_str_eq(e, "");
    double loss;
    ck_assert_int_eq(sscanf(o, "loss: %lf", &loss), 1);
    ck_assert(loss < 0.05);
    free(o);
    free(e);

    /* Predict: to stdout, then to a file; a file with its target column
     * still present gives the same predictions. */
    put_text(path_of("new.csv"), "x0,x1\n0.5,0.25\n1,0\n");
    rc = run_cli(&reg32, &o, &e, "predict", "--weights", w, "--data",
                 path_of("new.csv"), (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_match(o, "^y0\n[-0-9.e]+\n[-0-9.e]+\n$");
    double y0, y1;
    ck_assert_int_eq(sscanf(o, "y0\n%lf\n%lf", &y0, &y1), 2);
    ck_assert_double_eq_tol(y0, 2 * 0.5 - 3 * 0.25 + 1, 0.2);
    ck_assert_double_eq_tol(y1, 3, 0.3);
    char *first = o;
    free(e);
    put_text(path_of("with_y.csv"), "0.5,0.25,1.25\n1,0,3\n");
    const char *pred = path_of("pred.csv");
    rc = run_cli(&reg32, &o, &e, "predict", "--weights", w, "--data",
                 path_of("with_y.csv"), "--out", pred, (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_str_eq(o, "");
    char *p = slurp(pred);
    ck_assert_str_eq(p, first);
    free(p);
    free(first);
    free(o);
    free(e);
    /* A checkpoint is accepted as --weights too. */
    rc = run_cli(&reg32, &o, &e, "predict", "--weights", ck, "--data",
                 path_of("new.csv"), (char *)NULL);
    ck_assert_int_eq(rc, 0);
    free(o);
    free(e);
    /* Wrong column count for predict: the inputs-only message. */
    put_text(path_of("bad.csv"), "1,2,3,4\n");
    rc = run_cli(&reg32, &o, &e, "predict", "--weights", w, "--data",
                 path_of("bad.csv"), (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert(strstr(e, "bad.csv:1: expected 2 columns (2 inputs), got 4\n"));
    free(o);
    free(e);
    /* A training file with a bad cell: that cell's message. */
    put_text(path_of("bad.csv"), "1,2,3\n4,5,x\n");
    rc = run_cli(&reg32, &o, &e, "predict", "--weights", w, "--data",
                 path_of("bad.csv"), (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(e, "bad.csv:2:5: expected a number, got 'x'\n"), "%s", e);
    free(o);
    free(e);
}
END_TEST

/* Bad data: status 1, a message, and nothing on disk changed. */
START_TEST(test_cli_bad_data_writes_nothing)
{
    const char *good = reg_csv("train.csv", 16);
    const char *w = path_of("w.safetensors"), *h = path_of("h.csv");
    put_text(w, "precious");
    put_text(path_of("bad.csv"), "x0,x1,y\n1,2,3\n4,abc,6\n");
    char *o, *e;
    int rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--val",
                     path_of("bad.csv"), "--out", w, "--history", h,
                     (char *)NULL);
    ck_assert_int_eq(rc, 1);
    char want[300];
    snprintf(want, sizeof want, "prog: error: %s:3:3: expected a number, got "
             "'abc'\n", path_of("bad.csv"));
    ck_assert_str_eq(e, want);
    ck_assert_int_eq(hook_steps, 0);
    char *s = slurp(w);
    ck_assert_str_eq(s, "precious");
    free(s);
    ck_assert(!exists(h));
    free(o);
    free(e);

    rc = run_cli(&reg32, &o, &e, "train", "--data", path_of("missing.csv"),
                 (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert(strstr(e, "missing.csv: cannot open: No such file or directory"));
    free(o);
    free(e);

    /* A bad --init file is found before training, too. */
    rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--init", w,
                 "--out", w, (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert(strstr(e, "prog: error: ") == e);
    ck_assert_int_eq(hook_steps, 0);
    free(o);
    free(e);

    /* An output directory that does not exist. */
    rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--out",
                 "/nonexistent-dir/w.safetensors", (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(e, "prog: error: --out /nonexistent-dir/w.safetensors: "
                        "cannot write to directory '/nonexistent-dir': No "
                        "such file or directory\n");
    ck_assert_int_eq(hook_steps, 0);
    free(o);
    free(e);

    /* --labels with a CSV file is a usage error. */
    rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--labels", "l",
                 (char *)NULL);
    ck_assert_int_eq(rc, 2);
    snprintf(want, sizeof want, "prog: error: --labels is for IDX images, but "
             "%s is read as CSV (its targets are its last columns)\nrun 'prog "
             "train --help' for usage\n", good);
    ck_assert_str_eq(e, want);
    free(o);
    free(e);
    rc = run_cli(&reg32, &o, &e, "train", "--data", "x.csv.gz", (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(e, "prog: error: x.csv.gz: compressed CSV files are not "
                        "supported; decompress it first (gunzip)\n");
    free(o);
    free(e);
}
END_TEST

START_TEST(test_cli_nan_no_weights)
{
    const char *good = reg_csv("train.csv", 16);
    const char *w = path_of("w.safetensors");
    hook_nan_at = 6; /* epoch 2, batch 2 */
    char *o, *e;
    int rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--out", w,
                     "--quiet", (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(e, "prog: error: loss became nan at epoch 2, batch 2 "
                        "(try a smaller learning rate)\n");
    ck_assert(!exists(w));
    free(o);
    free(e);
}
END_TEST

/* Ctrl-C: status 130, checkpoint and weights saved; --init resumes. */
START_TEST(test_cli_interrupt_resume)
{
    const char *good = reg_csv("train.csv", 16);
    const char *w = path_of("w.safetensors"), *ck = path_of("c.safetensors");
    hook_sigint_at = 4 * 2 + 1; /* epoch 3, batch 1 */
    char *o, *e;
    int rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--out", w,
                     "--checkpoint", ck, "--epochs", "6", (char *)NULL);
    ck_assert_int_eq(rc, 130);
    char want[600];
    snprintf(want, sizeof want, "saved checkpoint %s (epoch 2)\nsaved weights "
             "to %s\nprog: interrupted at epoch 3, batch 1: checkpoint saved "
             "to %s; resume with --init %s\n", ck, w, ck, ck);
    ck_assert_msg(strstr(e, want) != NULL, "%s", e);
    ck_assert(exists(w) && exists(ck));
    free(o);
    free(e);

    hook_sigint_at = 0;
    hook_steps = 0;
    rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--out", w,
                 "--checkpoint", ck, "--epochs", "6", "--init", ck,
                 (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert(strncmp(e, "resuming from epoch 2\nEpoch 3/6 - ", 34) == 0);
    ck_assert_int_eq(hook_steps, 4 * 4);
    free(o);
    free(e);

    /* Nothing left to do: a note, and the weights saved as they are. */
    rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--out", w,
                 "--checkpoint", ck, "--epochs", "2", "--init", ck,
                 (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert(strstr(e, "already holds 2 epochs (--epochs 2): nothing to "
                        "train\n"));
    free(o);
    free(e);
}
END_TEST

/* A model without a loss (inference only: no train_batch, evaluate or
 * checkpoints) cannot be trained or evaluated, but predicts. */
START_TEST(test_cli_no_loss)
{
    const char *good = reg_csv("train.csv", 16);
    const char *w = path_of("w.safetensors");
    char *o, *e;
    int rc = run_cli(&reg32, &o, &e, "train", "--data", good, "--out", w,
                     "--quiet", (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    free(o);
    free(e);
    nnrt_model infer = reg32;
    infer.targets = NNRT_TARGETS_NONE;
    infer.target_size = 0;
    infer.loss = NULL;
    infer.nmetrics = 0;
    infer.train_batch = NULL;
    infer.evaluate = NULL;
    infer.save_checkpoint = NULL;
    infer.load_checkpoint = NULL;
    hook_steps = 0;
    rc = run_cli(&infer, &o, &e, "train", "--data", good, "--out",
                 path_of("w2.safetensors"), (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(e, "prog: error: model reg has no loss, so it cannot be "
                        "trained\n");
    ck_assert_int_eq(hook_steps, 0);
    ck_assert(!exists(path_of("w2.safetensors")));
    free(o);
    free(e);
    rc = run_cli(&infer, &o, &e, "eval", "--weights", w, "--data", good,
                 (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(e, "prog: error: model reg has no loss, so it cannot be "
                        "evaluated\n");
    ck_assert_str_eq(o, "");
    free(o);
    free(e);
    put_text(path_of("new.csv"), "x0,x1\n0.5,0.25\n");
    rc = run_cli(&infer, &o, &e, "predict", "--weights", w, "--data",
                 path_of("new.csv"), (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_match(o, "^y0\n[-0-9.e]+\n$");
    free(o);
    free(e);
}
END_TEST

/* Default file names come from the model's name, in the current
 * directory. */
START_TEST(test_cli_default_paths)
{
    const char *good = reg_csv("train.csv", 16);
    ck_assert_int_eq(chdir(dir), 0);
    char *o, *e;
    int rc = run_cli(&logit, &o, &e, "train", "--data", good, "--epochs", "2",
                     "--checkpoint-every", "1", (char *)NULL);
    /* The regression targets are not 0/1: the data check says so. */
    ck_assert_int_eq(rc, 1);
    ck_assert(strstr(e, "is not 0 or 1 (binary_crossentropy needs 0/1 "
                        "targets)"));
    free(o);
    free(e);
    put_text("bin.csv", "a,b,y\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n");
    rc = run_cli(&logit, &o, &e, "train", "--data", "bin.csv", "--epochs", "2",
                 "--checkpoint-every", "1", (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert(matches(e, "^saved checkpoint logit.ckpt.safetensors \\(epoch 2\\)$"));
    ck_assert(strstr(e, "saved weights to logit.safetensors\n"));
    ck_assert(exists("logit.safetensors") && exists("logit.ckpt.safetensors"));
    free(o);
    free(e);
    rc = run_cli(&logit, &o, &e, "predict", "--weights", "logit.safetensors",
                 "--data", "bin.csv", (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_match(o, "^p0,class\n([0-9.e-]+,[01]\n){4}$");
    free(o);
    free(e);
}
END_TEST

/* Writes an uncompressed IDX file of unsigned bytes. */
static void put_idx(const char *path, const uint32_t *dims, int ndim,
                    const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL);
    unsigned char h[4] = {0, 0, 8, (unsigned char)ndim};
    fwrite(h, 1, 4, f);
    for (int i = 0; i < ndim; i++) {
        unsigned char b[4] = {(unsigned char)(dims[i] >> 24),
                              (unsigned char)(dims[i] >> 16),
                              (unsigned char)(dims[i] >> 8),
                              (unsigned char)dims[i]};
        fwrite(b, 1, 4, f);
    }
    fwrite(data, 1, len, f);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_cli_idx)
{
    /* 6 "images" of 1x2 pixels and their class ids. */
    unsigned char px[12] = {0, 255, 255, 0, 10, 20, 200, 100, 0, 0, 255, 255};
    unsigned char lab[6] = {0, 1, 2, 1, 0, 2};
    const char *img = path_of("train-images-idx3-ubyte");
    const char *lbl = path_of("train-labels-idx1-ubyte");
    put_idx(img, (uint32_t[]){6, 1, 2}, 3, px, 12);
    put_idx(lbl, (uint32_t[]){6}, 1, lab, 6);
    const char *w = path_of("w.safetensors");
    char *o, *e;
    int rc = run_cli(&soft, &o, &e, "train", "--data", img, "--out", w,
                     "--quiet", (char *)NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert(strstr(e, "is read as IDX images (by its name), so --labels "
                        "LABELS is needed too"));
    free(o);
    free(e);
    rc = run_cli(&soft, &o, &e, "train", "--data", img, "--labels", lbl,
                 "--val", img, "--val-labels", lbl, "--out", w, "--quiet",
                 (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_str_eq(e, "");
    free(o);
    free(e);
    rc = run_cli(&soft, &o, &e, "eval", "--weights", w, "--data", img,
                 "--labels", lbl, (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_match(o, "^loss: [0-9.]+ - accuracy: [0-9.]+\n$");
    free(o);
    free(e);
    rc = run_cli(&soft, &o, &e, "predict", "--weights", w, "--data", img,
                 (char *)NULL);
    ck_assert_msg(rc == 0, "%s", e);
    ck_assert_match(o, "^p0,p1,p2,class\n([0-9.e-]+,[0-9.e-]+,[0-9.e-]+,[012]\n){6}$");
    free(o);
    free(e);

    /* A model with a 2x1 input refuses 1x2 images of the same size. */
    nnrt_model tall = soft;
    tall.input_rank = 2;
    tall.input_shape[0] = 2;
    tall.input_shape[1] = 1;
    rc = run_cli(&tall, &o, &e, "eval", "--weights", w, "--data", img,
                 "--labels", lbl, (char *)NULL);
    ck_assert_int_eq(rc, 1);
    char want[300];
    snprintf(want, sizeof want, "prog: error: %s: images are 1x2, but the "
             "model's input is 2x1\n", img);
    ck_assert_str_eq(e, want);
    free(o);
    free(e);
    /* Labels out of range are the reader's message. */
    lab[3] = 7;
    put_idx(lbl, (uint32_t[]){6}, 1, lab, 6);
    rc = run_cli(&soft, &o, &e, "eval", "--weights", w, "--data", img,
                 "--labels", lbl, (char *)NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert(strstr(e, "label 7 at index 3 is out of range"));
    free(o);
    free(e);
}
END_TEST

Suite *train_suite(void)
{
    Suite *s = suite_create("train");

    TCase *tc = tcase_create("loop");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, test_setup, NULL);
    tcase_add_loop_test(tc, test_train_reduces_loss, 0, 2);
    tcase_add_test(tc, test_epoch_order);
    tcase_add_test(tc, test_train_row_order);
    tcase_add_loop_test(tc, test_resume_bit_identical, 0, 2);
    tcase_add_test(tc, test_nan_stops);
    tcase_add_test(tc, test_history_csv);
    tcase_add_test(tc, test_history_csv_resume);
    tcase_add_test(tc, test_progress_lines);
    tcase_add_test(tc, test_progress_bar);
    tcase_add_test(tc, test_sigint_checkpoint);
    tcase_add_test(tc, test_sigint_checkpoint_fails);
    tcase_add_test(tc, test_train_bad_arguments);
    tcase_add_test(tc, test_train_bad_descriptors);
    tcase_add_loop_test(tc, test_evaluate_chunks, 0, 2);
    tcase_add_test(tc, test_predict_csv);
    tcase_add_test(tc, test_predict_write_error);
    tcase_add_test(tc, test_write_atomic);
    suite_add_tcase(s, tc);

    tc = tcase_create("cli");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, test_setup, NULL);
    tcase_add_test(tc, test_cli_usage_errors);
    tcase_add_test(tc, test_cli_help);
    tcase_add_test(tc, test_cli_train_eval_predict);
    tcase_add_test(tc, test_cli_bad_data_writes_nothing);
    tcase_add_test(tc, test_cli_nan_no_weights);
    tcase_add_test(tc, test_cli_interrupt_resume);
    tcase_add_test(tc, test_cli_no_loss);
    tcase_add_test(tc, test_cli_default_paths);
    tcase_add_test(tc, test_cli_idx);
    suite_add_tcase(s, tc);
    return s;
}
