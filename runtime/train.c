/*
 * train.c - the training loop of a trainer program (nnrt_train), driven by
 * a model descriptor (nnrt_model) that generated code fills in.
 *
 * An epoch is a pass over the training set in mini-batches, in an order
 * that depends only on (seed, epoch), so a run resumed from a checkpoint
 * sees exactly the batches an uninterrupted one would. After each epoch
 * come validation, one history row (the CSV rewritten atomically, so an
 * interrupted run keeps what it did) and, when due, a checkpoint.
 * Progress looks like Keras's: a bar redrawn in place on a terminal,
 * otherwise one line per epoch.
 *
 * Datasets hold floats; a model of doubles (elem_size 8) gets each batch
 * converted into a scratch buffer as it is gathered, so memory stays one
 * copy of the data plus one batch.
 *
 * Static state in the runtime: the SIGINT flag below (a signal handler
 * can reach nothing else), and the thread pool of pool.c, whose threads
 * block every signal, so the handler runs on a thread of the program's.
 * The contract of each public function is its comment in nnrt.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* sigaction, fileno, fsync, isatty, ... */
#endif

#include "nnrt.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rows per call when evaluating or predicting a whole dataset: bounds the
 * scratch memory of double models and of predictions. */
#define CHUNK_ROWS 1024

/* A bar on a terminal is redrawn at most this often (seconds). */
#define BAR_INTERVAL 0.1
#define BAR_WIDTH 30

/* Set by the SIGINT handler, read after every batch. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Formats the message into err (if any); returns -1 for `return fail()`. */
__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void nnrt_train_options_default(nnrt_train_options *o)
{
    o->epochs = 1;
    o->batch = 32;
    o->shuffle = 1;
    o->seed = 0;
    o->initial_epoch = 0;
    o->verbose = 1;
    o->out = NULL;
    o->history_csv = NULL;
    o->checkpoint = NULL;
    o->checkpoint_every = 0;
    o->catch_sigint = 1;
}

void nnrt_train_options_model(nnrt_train_options *o, const nnrt_model *d)
{
    nnrt_train_options_default(o);
    o->epochs = d->epochs;
    o->batch = d->batch;
    o->shuffle = d->shuffle;
    o->seed = d->seed;
}

void nnrt_epoch_order(size_t *idx, size_t n, uint64_t seed, int epoch)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, seed, 3);
    nnrt_iota(idx, n);
    for (int e = 0; e < epoch; e++)
        nnrt_shuffle(idx, n, &r);
}

/* ------------------------------------------------------------ files */

/* ------------------------------------------------------------ batches */

/* Copies rows idx[0 .. count) of src (row floats each) into dst, an array
 * of the model's element type. */
static void gather(const nnrt_model *d, void *dst, const float *src,
                   const size_t *idx, size_t count, size_t row)
{
    if (d->elem_size == sizeof(float)) {
        nnrt_gather_f32(dst, src, idx, count, row);
        return;
    }
    double *out = dst;
    for (size_t b = 0; b < count; b++) {
        const float *s = src + idx[b] * row;
        for (size_t j = 0; j < row; j++)
            out[b * row + j] = (double)s[j];
    }
}

/* Rows [first, first + count) of src, row floats each, as the model's
 * element type: a pointer into src for float models, else converted into
 * scratch. */
static const void *rows_view(const nnrt_model *d, void *scratch,
                             const float *src, size_t first, size_t count,
                             size_t row)
{
    if (src == NULL)
        return NULL;
    if (d->elem_size == sizeof(float))
        return src + first * row;
    double *out = scratch;
    const float *s = src + first * row;
    for (size_t i = 0; i < count * row; i++)
        out[i] = (double)s[i];
    return out;
}

/* malloc(a * b * c), NULL on overflow as on out of memory; never 0 bytes. */
static void *alloc3(size_t a, size_t b, size_t c)
{
    if (b != 0 && a > SIZE_MAX / b)
        return NULL;
    size_t ab = a * b;
    if (c != 0 && ab > SIZE_MAX / c)
        return NULL;
    size_t bytes = ab * c;
    return malloc(bytes > 0 ? bytes : 1);
}

/* The model can use data: the sizes agree. `what` names the data. */
static int check_data(const nnrt_model *d, const nnrt_dataset *data,
                      const char *what, int need_targets, char *err,
                      size_t errlen)
{
    if (d->elem_size != sizeof(float) && d->elem_size != sizeof(double))
        return fail(err, errlen, "model %s: element size %zu is neither a "
                    "float's nor a double's", d->name, d->elem_size);
    if (data->nx != d->input_size)
        return fail(err, errlen, "%s has %zu input values per row, but the "
                    "model %s takes %zu", what, data->nx, d->name,
                    d->input_size);
    if (need_targets && (data->y == NULL || data->ny != d->target_size))
        return fail(err, errlen, "%s has %zu target values per row, but the "
                    "model %s needs %zu", what, data->y ? data->ny : 0,
                    d->name, d->target_size);
    return 0;
}

int nnrt_evaluate_dataset(const nnrt_model *d, void *m,
                          const nnrt_dataset *data, double *loss,
                          double *metrics, char *err, size_t errlen)
{
    if (d->evaluate == NULL)
        return fail(err, errlen, "model %s has no loss, so it cannot be "
                    "evaluated", d->name);
    if (check_data(d, data, "the data", 1, err, errlen) != 0)
        return -1;
    size_t chunk = data->n < CHUNK_ROWS ? data->n : CHUNK_ROWS;
    void *xs = NULL, *ys = NULL;
    if (d->elem_size != sizeof(float)) {
        xs = alloc3(chunk, d->input_size, d->elem_size);
        ys = alloc3(chunk, d->target_size, d->elem_size);
        if (xs == NULL || ys == NULL) {
            free(xs);
            free(ys);
            return fail(err, errlen, "out of memory");
        }
    }
    /* Each chunk's means weighted by its rows: the mean over all rows. */
    double sum = 0, msum[3] = {0, 0, 0}, mb[3];
    for (size_t i = 0; i < data->n; i += chunk) {
        size_t rows = data->n - i < chunk ? data->n - i : chunk;
        const void *x = rows_view(d, xs, data->x, i, rows, d->input_size);
        const void *y = rows_view(d, ys, data->y, i, rows, d->target_size);
        sum += d->evaluate(m, x, y, rows, mb) * (double)rows;
        for (int k = 0; k < d->nmetrics && k < 3; k++)
            msum[k] += mb[k] * (double)rows;
    }
    double n = data->n ? (double)data->n : 1;
    *loss = sum / n;
    for (int k = 0; metrics != NULL && k < d->nmetrics && k < 3; k++)
        metrics[k] = msum[k] / n;
    free(xs);
    free(ys);
    return 0;
}

/* The class of one prediction p[0 .. k): the argmax, or for a single
 * sigmoid unit 1 when p >= 0.5 (the threshold of the accuracy metric). */
static size_t predicted_class(const nnrt_model *d, const void *p)
{
    size_t k = d->output_size, best = 0;
    double v0 = d->elem_size == sizeof(float) ? (double)((const float *)p)[0]
                                              : ((const double *)p)[0];
    if (k == 1)
        return v0 >= 0.5;
    double bestv = v0;
    for (size_t j = 1; j < k; j++) {
        double v = d->elem_size == sizeof(float)
                       ? (double)((const float *)p)[j]
                       : ((const double *)p)[j];
        if (v > bestv || (isnan(bestv) && !isnan(v))) {
            best = j;
            bestv = v;
        }
    }
    return best;
}

int nnrt_predict_dataset(const nnrt_model *d, void *m,
                         const nnrt_dataset *data, FILE *csv,
                         char *err, size_t errlen)
{
    if (check_data(d, data, "the data", 0, err, errlen) != 0)
        return -1;
    size_t chunk = data->n < CHUNK_ROWS ? data->n : CHUNK_ROWS;
    void *xs = d->elem_size != sizeof(float)
                   ? alloc3(chunk, d->input_size, d->elem_size) : NULL;
    void *out = alloc3(chunk, d->output_size, d->elem_size);
    if ((d->elem_size != sizeof(float) && xs == NULL) || out == NULL) {
        free(xs);
        free(out);
        return fail(err, errlen, "out of memory");
    }
    /* Every write is checked and the first failure stops: a memory
     * stream (open_memstream) that cannot grow fails the write without
     * setting its error flag. */
    const char *col = d->classifier ? "p" : "y";
    int ok = 1;
    for (size_t j = 0; ok && j < d->output_size; j++)
        ok = fprintf(csv, "%s%s%zu", j ? "," : "", col, j) >= 0;
    ok = ok && fputs(d->classifier ? ",class\n" : "\n", csv) != EOF;
    for (size_t i = 0; ok && i < data->n; i += chunk) {
        size_t rows = data->n - i < chunk ? data->n - i : chunk;
        d->predict(m, rows_view(d, xs, data->x, i, rows, d->input_size),
                   rows, out);
        for (size_t r = 0; ok && r < rows; r++) {
            const char *p = (const char *)out +
                            r * d->output_size * d->elem_size;
            for (size_t j = 0; ok && j < d->output_size; j++) {
                double v = d->elem_size == sizeof(float)
                               ? (double)((const float *)(const void *)p)[j]
                               : ((const double *)(const void *)p)[j];
                ok = fprintf(csv, "%s%.9g", j ? "," : "", v) >= 0;
            }
            if (ok && d->classifier)
                ok = fprintf(csv, ",%zu", predicted_class(d, p)) >= 0;
            ok = ok && fputc('\n', csv) != EOF;
        }
    }
    int werr = ok && !ferror(csv) ? 0 : errno ? errno : EIO;
    free(xs);
    free(out);
    if (werr != 0)
        return fail(err, errlen, "cannot write the predictions: %s",
                    strerror(werr));
    return 0;
}

/* ------------------------------------------------------------ history */

/* Allocates h for `epochs` entries with their validation columns carved
 * out of the same blocks, so nnrt_history_free (fit.c) frees them too. */
static int history_alloc(nnrt_history *h, int epochs, int nmetrics,
                         int has_val, int initial_epoch)
{
    memset(h, 0, sizeof *h);
    size_t e = (size_t)epochs, cells = e * (size_t)nmetrics;
    h->loss = calloc(2 * e + 1, sizeof *h->loss);
    h->metrics = calloc(2 * cells + 1, sizeof *h->metrics);
    h->seconds = calloc(e + 1, sizeof *h->seconds);
    if (h->loss == NULL || h->metrics == NULL || h->seconds == NULL) {
        nnrt_history_free(h);
        return -1;
    }
    h->nmetrics = nmetrics;
    h->initial_epoch = initial_epoch;
    h->has_val = has_val;
    h->val_loss = h->loss + e;
    h->val_metrics = h->metrics + cells;
    return 0; /* h->epochs counts the entries filled so far */
}

/* The CSV header: epoch,loss,<metric>...,val_loss,val_<metric>...,seconds
 * Returns 0, or -1 if a write failed. */
static int csv_header(FILE *f, const nnrt_model *d, int has_val)
{
    int ok = fputs("epoch,loss", f) != EOF;
    for (int k = 0; k < d->nmetrics; k++)
        ok &= fprintf(f, ",%s", d->metric_names[k]) >= 0;
    if (has_val) {
        ok &= fputs(",val_loss", f) != EOF;
        for (int k = 0; k < d->nmetrics; k++)
            ok &= fprintf(f, ",val_%s", d->metric_names[k]) >= 0;
    }
    ok &= fputs(",seconds\n", f) != EOF;
    return ok ? 0 : -1;
}

/* Rows of an earlier history at path, for a resumed run: if its header is
 * `header`, the lines of epochs 1 .. upto, else nothing. Returns a
 * malloc'ed string (possibly empty), NULL when out of memory. */
static char *earlier_rows(const char *path, const char *header, int upto)
{
    char *kept = NULL, *line = NULL;
    size_t keptlen = 0, cap = 0;
    int ok = 1;
    FILE *k = open_memstream(&kept, &keptlen);
    if (k == NULL)
        return NULL;
    FILE *f = upto > 0 ? fopen(path, "r") : NULL;
    if (f != NULL) {
        ssize_t len = getline(&line, &cap, f);
        if (len > 0 && strcmp(line, header) == 0) {
            while ((len = getline(&line, &cap, f)) > 0) {
                char *end;
                long e = strtol(line, &end, 10);
                if (end != line && *end == ',' && e >= 1 && e <= upto &&
                    line[len - 1] == '\n')
                    ok &= fputs(line, k) != EOF;
            }
        }
        fclose(f);
    }
    free(line);
    /* A memory stream that cannot grow fails the write, not the stream,
     * and fclose leaves kept NULL when its last realloc fails. */
    if (fclose(k) != 0 || !ok || kept == NULL) {
        free(kept);
        return NULL;
    }
    return kept;
}

/* Rewrites the history CSV: header, rows kept from before, this run's. */
static int write_history(const char *path, const nnrt_model *d,
                         const nnrt_history *h, const char *header,
                         const char *kept, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return fail(err, errlen, "%s: out of memory", path);
    /* As in earlier_rows: every write checked, and buf after fclose. */
    int ok = fputs(header, f) != EOF && fputs(kept, f) != EOF;
    int nm = d->nmetrics;
    for (int i = 0; ok && i < h->epochs; i++) {
        ok &= fprintf(f, "%d,%.9g", h->initial_epoch + 1 + i,
                      h->loss[i]) >= 0;
        for (int k = 0; k < nm; k++)
            ok &= fprintf(f, ",%.9g",
                          h->metrics[(size_t)i * (size_t)nm + (size_t)k]) >= 0;
        if (h->has_val) {
            ok &= fprintf(f, ",%.9g", h->val_loss[i]) >= 0;
            for (int k = 0; k < nm; k++)
                ok &= fprintf(f, ",%.9g",
                              h->val_metrics[(size_t)i * (size_t)nm +
                                             (size_t)k]) >= 0;
        }
        ok &= fprintf(f, ",%.9g\n", h->seconds[i]) >= 0;
    }
    if (fclose(f) != 0 || !ok || buf == NULL) {
        free(buf);
        return fail(err, errlen, "%s: out of memory", path);
    }
    int rc = nnrt_write_file_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ progress */

/* A line of progress being built. */
typedef struct Line {
    char s[512];
    size_t len;
} Line;

__attribute__((format(printf, 2, 3)))
static void add(Line *l, const char *fmt, ...)
{
    if (l->len >= sizeof l->s - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->s + l->len, sizeof l->s - l->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->len += (size_t)k < sizeof l->s - l->len ? (size_t)k
                                                    : sizeof l->s - 1 - l->len;
}

/* " - loss: 0.4001 - accuracy: 0.8602", and the val_ ones if val. */
static void add_results(Line *l, const nnrt_model *d, double loss,
                        const double *metrics, const double *val_loss,
                        const double *val_metrics)
{
    add(l, " - loss: %.4f", loss);
    for (int k = 0; k < d->nmetrics; k++)
        add(l, " - %s: %.4f", d->metric_names[k], metrics[k]);
    if (val_loss == NULL)
        return;
    add(l, " - val_loss: %.4f", *val_loss);
    for (int k = 0; k < d->nmetrics; k++)
        add(l, " - val_%s: %.4f", d->metric_names[k], val_metrics[k]);
}

/* Keras's ETA: "3s", "1:05", "1:02:03". */
static void add_eta(Line *l, double s)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        add(l, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else if (t >= 60)
        add(l, "%ld:%02ld", t / 60, t % 60);
    else
        add(l, "%lds", t);
}

/* "  12/94 [===>.......]": the counter right-aligned to the total. */
static void add_bar(Line *l, size_t done, size_t steps)
{
    int digits = snprintf(NULL, 0, "%zu", steps);
    add(l, "%*zu/%zu [", digits, done, steps);
    size_t fill = steps ? BAR_WIDTH * done / steps : BAR_WIDTH;
    for (size_t i = 0; i < BAR_WIDTH; i++)
        add(l, "%c", i + 1 < fill ? '='
                     : i + 1 == fill ? (done < steps ? '>' : '=') : '.');
    add(l, "]");
}

/* Where progress goes and how it looks during one epoch. */
typedef struct Progress {
    FILE *out;
    int bar;           /* a bar redrawn with \r; else a line per epoch */
    int quiet;
    size_t steps;      /* batches per epoch */
    double start;      /* start of the epoch */
    double drawn;      /* time of the last redraw */
    size_t width;      /* length of the bar line on screen, to blank out */
    int open;          /* a bar line is on screen without its newline */
} Progress;

/* Redraws the bar line in place, padding over what was longer. */
static void bar_draw(Progress *p, const Line *l)
{
    fputc('\r', p->out);
    fputs(l->s, p->out);
    for (size_t i = l->len; i < p->width; i++)
        fputc(' ', p->out);
    p->width = l->len;
    p->open = 1;
    fflush(p->out);
}

/* Ends a bar line left open (before a message or on an early return). */
static void bar_close(Progress *p)
{
    if (p->open) {
        fputc('\n', p->out);
        fflush(p->out);
    }
    p->open = 0;
    p->width = 0;
}

static void progress_begin(Progress *p, int epoch, int epochs)
{
    p->start = p->drawn = nnrt_now();
    p->width = 0;
    if (!p->quiet && p->bar) {
        fprintf(p->out, "Epoch %d/%d\n", epoch, epochs);
        fflush(p->out);
    }
}

/* After batch `done` of the epoch: a throttled redraw of the bar. */
static void progress_step(Progress *p, const nnrt_model *d, size_t done,
                          double loss, const double *metrics)
{
    if (p->quiet || !p->bar || done == p->steps)
        return;
    double now = nnrt_now();
    if (p->open && now - p->drawn < BAR_INTERVAL)
        return;
    p->drawn = now;
    Line l = {.len = 0};
    l.s[0] = '\0';
    add_bar(&l, done, p->steps);
    add(&l, " - ETA: ");
    add_eta(&l, (now - p->start) / (double)done * (double)(p->steps - done));
    add_results(&l, d, loss, metrics, NULL, NULL);
    bar_draw(p, &l);
}

/* The epoch's final line. */
static void progress_end(Progress *p, const nnrt_model *d, int epoch,
                         int epochs, double seconds, double loss,
                         const double *metrics, const double *val_loss,
                         const double *val_metrics)
{
    if (p->quiet)
        return;
    Line l = {.len = 0};
    l.s[0] = '\0';
    if (p->bar) {
        add_bar(&l, p->steps, p->steps);
        double per = p->steps ? seconds / (double)p->steps : 0;
        add(&l, " - %.0fs ", seconds);
        if (per >= 1 || per == 0)
            add(&l, "%.0fs/step", per);
        else if (per >= 1e-3)
            add(&l, "%.0fms/step", per * 1e3);
        else
            add(&l, "%.0fus/step", per * 1e6);
    } else {
        add(&l, "Epoch %d/%d - %.1fs", epoch, epochs, seconds);
    }
    add_results(&l, d, loss, metrics, val_loss, val_metrics);
    if (p->bar) {
        bar_draw(p, &l);
        bar_close(p);
    } else {
        fprintf(p->out, "%s\n", l.s);
        fflush(p->out);
    }
}

/* ------------------------------------------------------------ training */

/* Everything nnrt_train allocates, freed in one place. */
typedef struct Work {
    size_t *idx;       /* [n] row order */
    void *xb, *yb;     /* [batch][input_size], [batch][target_size] */
    char *header;      /* the history CSV's header line */
    char *kept;        /* rows of epochs before this run */
    char *ckpt;        /* the default checkpoint path, when needed */
} Work;

static void work_free(Work *w)
{
    free(w->idx);
    free(w->xb);
    free(w->yb);
    free(w->header);
    free(w->kept);
    free(w->ckpt);
}

/* The option checks of nnrt_train. */
static int check_options(const nnrt_model *d, const nnrt_dataset *train,
                         const nnrt_dataset *val,
                         const nnrt_train_options *o, char *err,
                         size_t errlen)
{
    if (d->train_batch == NULL || d->evaluate == NULL)
        return fail(err, errlen, "model %s has no loss, so it cannot be "
                    "trained", d->name);
    if (d->nmetrics < 0 || d->nmetrics > 3)
        return fail(err, errlen, "model %s: %d metrics (at most 3)",
                    d->name, d->nmetrics);
    if (o->batch <= 0)
        return fail(err, errlen, "the batch size must be positive, not %d",
                    o->batch);
    if (o->epochs < 0 || o->initial_epoch < 0)
        return fail(err, errlen, "epochs must not be negative");
    if (check_data(d, train, "the training data", 1, err, errlen) != 0 ||
        (val && check_data(d, val, "the validation data", 1, err,
                           errlen) != 0))
        return -1;
    if (train->n == 0)
        return fail(err, errlen, "the training data has no rows");
    if (train->n > UINT32_MAX)
        return fail(err, errlen, "the training data has %zu rows; at most "
                    "%lu can be shuffled", train->n, (unsigned long)UINT32_MAX);
    return 0;
}

/* Saves a checkpoint of the completed epochs; prints a note if verbose. */
static int checkpoint(const nnrt_model *d, void *m, const char *path,
                      int epoch, Progress *p, char *err, size_t errlen)
{
    if (d->save_checkpoint == NULL)
        return fail(err, errlen, "model %s cannot save checkpoints",
                    d->name);
    if (d->save_checkpoint(m, path, epoch, err, errlen) != 0)
        return -1;
    if (!p->quiet) {
        bar_close(p);
        fprintf(p->out, "saved checkpoint %s (epoch %d)\n", path, epoch);
        fflush(p->out);
    }
    return 0;
}

int nnrt_train(const nnrt_model *d, void *m, const nnrt_dataset *train,
               const nnrt_dataset *val, const nnrt_train_options *o,
               nnrt_history *hist, char *err, size_t errlen)
{
    if (hist != NULL)
        memset(hist, 0, sizeof *hist);
    if (check_options(d, train, val, o, err, errlen) != 0)
        return -1;

    const size_t n = train->n, batch = (size_t)o->batch;
    const size_t steps = (n + batch - 1) / batch;
    const int first = o->initial_epoch + 1;
    const int nm = d->nmetrics;
    Work w = {0};
    nnrt_history h;
    int rc = 0;
    if (history_alloc(&h, o->epochs > o->initial_epoch
                              ? o->epochs - o->initial_epoch : 0,
                      nm, val != NULL, o->initial_epoch) != 0)
        return fail(err, errlen, "out of memory");

    /* The history header and the rows an earlier run left, if resuming. */
    char *hb = NULL;
    size_t hblen = 0;
    FILE *hf = open_memstream(&hb, &hblen);
    if (hf != NULL) {
        int bad = csv_header(hf, d, val != NULL);
        if (fclose(hf) != 0 || bad) {
            free(hb);
            hb = NULL;
        }
    }
    w.header = hb;
    w.idx = malloc(n * sizeof *w.idx);
    w.xb = alloc3(batch < n ? batch : n, d->input_size, d->elem_size);
    w.yb = alloc3(batch < n ? batch : n, d->target_size, d->elem_size);
    if (o->history_csv && w.header)
        w.kept = earlier_rows(o->history_csv, w.header, o->initial_epoch);
    const char *ckpt_path = o->checkpoint;
    if (ckpt_path == NULL) {
        size_t len = strlen(d->name) + sizeof ".ckpt.safetensors";
        if ((w.ckpt = malloc(len)) != NULL)
            snprintf(w.ckpt, len, "%s.ckpt.safetensors", d->name);
        ckpt_path = w.ckpt;
    }
    if (!w.header || !w.idx || !w.xb || !w.yb || !ckpt_path ||
        (o->history_csv && !w.kept)) {
        work_free(&w);
        nnrt_history_free(&h);
        return fail(err, errlen, "out of memory");
    }

    /* The order of the epoch before the first: replaying the shuffles
     * makes a resumed run continue the uninterrupted run's sequence. */
    nnrt_rng rng;
    nnrt_rng_seed(&rng, o->seed, 3);
    nnrt_iota(w.idx, n);
    for (int e = 1; o->shuffle && e < first; e++)
        nnrt_shuffle(w.idx, n, &rng);

    Progress p = {0};
    p.out = o->out ? o->out : stderr;
    p.quiet = o->verbose <= 0;
    p.bar = o->verbose == 1 && isatty(fileno(p.out));
    p.steps = steps;

    struct sigaction old, sa;
    int caught = o->catch_sigint != 0;
    interrupted = 0;
    if (caught) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        /* A second Ctrl-C, while the batch finishes and the checkpoint is
         * written, gets the default action: the user insists. */
        sa.sa_flags = (int)SA_RESETHAND;
        if (sigaction(SIGINT, &sa, &old) != 0)
            caught = 0;
    }

    for (int e = first; e <= o->epochs && rc == 0; e++) {
        if (o->shuffle)
            nnrt_shuffle(w.idx, n, &rng);
        progress_begin(&p, e, o->epochs);
        double loss = 0, msum[3] = {0, 0, 0}, mb[3] = {0, 0, 0};
        size_t seen = 0;
        for (size_t s = 0; s < steps; s++) {
            size_t rows = n - s * batch < batch ? n - s * batch : batch;
            gather(d, w.xb, train->x, w.idx + s * batch, rows,
                   d->input_size);
            gather(d, w.yb, train->y, w.idx + s * batch, rows,
                   d->target_size);
            if (s + 1 < steps) /* the next batch, loaded during this one */
                nnrt_prefetch_rows(train->x, w.idx + (s + 1) * batch,
                                   n - (s + 1) * batch < batch
                                       ? n - (s + 1) * batch : batch,
                                   d->input_size * sizeof *train->x);
            double l = d->train_batch(m, w.xb, w.yb, rows, mb);
            if (!isfinite(l)) {
                bar_close(&p);
                fail(err, errlen, "loss became %s at epoch %d, batch %zu "
                     "(try a smaller learning rate)",
                     isnan(l) ? "nan" : l > 0 ? "inf" : "-inf", e, s + 1);
                rc = -1;
                break;
            }
            /* Running means weighted by rows, as Keras reports them. */
            seen += rows;
            loss += (l - loss) * (double)rows / (double)seen;
            for (int k = 0; k < nm; k++)
                msum[k] += (mb[k] - msum[k]) * (double)rows / (double)seen;
            if (interrupted && !(e == o->epochs && s + 1 == steps)) {
                bar_close(&p);
                char why[512];
                if (checkpoint(d, m, ckpt_path, e - 1, &p, why,
                               sizeof why) != 0) {
                    fail(err, errlen, "interrupted at epoch %d, batch %zu, "
                         "and the checkpoint could not be saved: %s", e,
                         s + 1, why);
                    rc = -1;
                } else {
                    fail(err, errlen, "interrupted at epoch %d, batch %zu: "
                         "checkpoint saved to %s; resume with --init %s", e,
                         s + 1, ckpt_path, ckpt_path);
                    rc = 1;
                }
                break;
            }
            progress_step(&p, d, s + 1, loss, msum);
        }
        if (rc != 0)
            break;

        double vloss = 0, vm[3] = {0, 0, 0};
        if (val && nnrt_evaluate_dataset(d, m, val, &vloss, vm, err,
                                         errlen) != 0) {
            bar_close(&p);
            rc = -1;
            break;
        }
        int i = h.epochs++;
        h.loss[i] = loss;
        h.seconds[i] = nnrt_now() - p.start;
        for (int k = 0; k < nm; k++)
            h.metrics[(size_t)i * (size_t)nm + (size_t)k] = msum[k];
        if (val) {
            h.val_loss[i] = vloss;
            for (int k = 0; k < nm; k++)
                h.val_metrics[(size_t)i * (size_t)nm + (size_t)k] = vm[k];
        }
        progress_end(&p, d, e, o->epochs, h.seconds[i], loss, msum,
                     val ? &vloss : NULL, vm);
        if (o->history_csv &&
            write_history(o->history_csv, d, &h, w.header, w.kept, err,
                          errlen) != 0) {
            rc = -1;
            break;
        }
        int due = o->checkpoint_every > 0 && e % o->checkpoint_every == 0;
        if (due && checkpoint(d, m, ckpt_path, e, &p, err, errlen) != 0) {
            rc = -1;
            break;
        }
        /* Ctrl-C during validation or the writes: stop between epochs. */
        if (interrupted && e < o->epochs) {
            char why[512];
            if (!due && checkpoint(d, m, ckpt_path, e, &p, why,
                                   sizeof why) != 0) {
                fail(err, errlen, "interrupted after epoch %d, and the "
                     "checkpoint could not be saved: %s", e, why);
                rc = -1;
            } else {
                fail(err, errlen, "interrupted after epoch %d: checkpoint "
                     "saved to %s; resume with --init %s", e, ckpt_path,
                     ckpt_path);
                rc = 1;
            }
        }
    }

    if (caught)
        sigaction(SIGINT, &old, NULL);
    bar_close(&p);
    work_free(&w);
    if (hist != NULL) {
        *hist = h; /* h.epochs counts the epochs completed */
    } else {
        nnrt_history_free(&h);
    }
    return rc;
}
