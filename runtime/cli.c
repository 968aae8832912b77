/*
 * cli.c - the trainer program's command line (nnrt_main): `PROG train`,
 * `PROG eval` and `PROG predict`, for the model a descriptor describes.
 *
 * `nnc train` generates a model's C and a main.c that only calls
 * nnrt_main, so everything a user types after the program name is parsed
 * here. The order of work protects what is on disk: arguments first (usage
 * errors exit 2), then every data file and the --init weights are read and
 * checked, and only then does training start; results are written
 * atomically, and weights never after a loss that became NaN.
 *
 * Options are one table (opts[]) that drives parsing, the "did you mean"
 * suggestions and each mode's --help. Nothing here calls exit(): the exit
 * status is returned, so tests can run the program in-process.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* access, open_memstream */
#endif

#include "nnrt.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum {
    EXIT_OK = 0,
    EXIT_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_INTERRUPTED = 130 /* 128 + SIGINT, as a shell reports it */
};

typedef enum Mode { MODE_TRAIN, MODE_EVAL, MODE_PREDICT, NMODES } Mode;

static const char *const mode_names[NMODES] = {"train", "eval", "predict"};
static const char *const mode_summaries[NMODES] = {
    "train the model on a data file and save its weights",
    "print the loss and metrics of saved weights on a data file",
    "write the model's predictions for a data file as CSV",
};

#define IN_TRAIN (1u << MODE_TRAIN)
#define IN_EVAL (1u << MODE_EVAL)
#define IN_PREDICT (1u << MODE_PREDICT)

typedef enum OptId {
    OPT_DATA, OPT_LABELS, OPT_VAL, OPT_VAL_LABELS, OPT_WEIGHTS, OPT_EPOCHS,
    OPT_BATCH, OPT_SEED, OPT_NO_SHUFFLE, OPT_INIT, OPT_OUT, OPT_HISTORY,
    OPT_CKPT_EVERY, OPT_CKPT, OPT_QUIET, OPT_HELP, NOPTS
} OptId;

/* What a --help line appends as the default. */
typedef enum Default {
    DEF_NONE, DEF_EPOCHS, DEF_BATCH, DEF_SEED, DEF_WEIGHTS, DEF_CKPT
} Default;

/* One option in the modes of `modes`. An option may have several rows
 * when its meaning differs between modes (--out). */
typedef struct Opt {
    OptId id;
    const char *name;
    const char *arg;    /* "FILE", "N"; NULL for a flag */
    unsigned modes;
    Default def;
    const char *help;
} Opt;

static const Opt opts[] = {
    {OPT_DATA, "--data", "FILE", IN_TRAIN, DEF_NONE,
     "training data: CSV/TSV (inputs, then targets) or IDX images"},
    {OPT_DATA, "--data", "FILE", IN_EVAL, DEF_NONE,
     "test data: CSV/TSV (inputs, then targets) or IDX images"},
    {OPT_DATA, "--data", "FILE", IN_PREDICT, DEF_NONE,
     "inputs: CSV/TSV (target columns, if present, are ignored) or IDX"},
    {OPT_LABELS, "--labels", "FILE", IN_TRAIN | IN_EVAL, DEF_NONE,
     "the IDX labels file of --data (required with IDX images)"},
    {OPT_VAL, "--val", "FILE", IN_TRAIN, DEF_NONE,
     "validation data, evaluated after every epoch"},
    {OPT_VAL_LABELS, "--val-labels", "FILE", IN_TRAIN, DEF_NONE,
     "the IDX labels file of --val"},
    {OPT_WEIGHTS, "--weights", "FILE", IN_EVAL | IN_PREDICT, DEF_NONE,
     "the weights to use (a weights file or a checkpoint)"},
    {OPT_EPOCHS, "--epochs", "N", IN_TRAIN, DEF_EPOCHS,
     "train until N epochs are done"},
    {OPT_BATCH, "--batch", "N", IN_TRAIN, DEF_BATCH,
     "rows per optimizer step"},
    {OPT_SEED, "--seed", "N", IN_TRAIN, DEF_SEED,
     "seeds the initial weights and the shuffling"},
    {OPT_NO_SHUFFLE, "--no-shuffle", NULL, IN_TRAIN, DEF_NONE,
     "keep the rows in file order"},
    {OPT_INIT, "--init", "FILE", IN_TRAIN, DEF_NONE,
     "start from these weights, or resume this checkpoint"},
    {OPT_OUT, "--out", "FILE", IN_TRAIN, DEF_WEIGHTS,
     "where the trained weights go"},
    {OPT_OUT, "--out", "FILE", IN_PREDICT, DEF_NONE,
     "write the CSV to FILE instead of standard output"},
    {OPT_HISTORY, "--history", "FILE", IN_TRAIN, DEF_NONE,
     "loss and metrics of every epoch as CSV (for nnc plot)"},
    {OPT_CKPT_EVERY, "--checkpoint-every", "N", IN_TRAIN, DEF_NONE,
     "save a checkpoint every N epochs (default: only on Ctrl-C)"},
    {OPT_CKPT, "--checkpoint", "FILE", IN_TRAIN, DEF_CKPT,
     "the checkpoint file"},
    {OPT_QUIET, "--quiet", NULL, IN_TRAIN, DEF_NONE,
     "no progress output"},
    {OPT_HELP, "--help", NULL, IN_TRAIN | IN_EVAL | IN_PREDICT, DEF_NONE,
     "show this help"},
};
#define NOPT_ROWS (sizeof opts / sizeof opts[0])

/* One run of the program. */
typedef struct Cli {
    const nnrt_model *d;
    const char *prog;          /* argv[0]'s last component */
    FILE *out, *errs;          /* stdout and stderr, or a test's streams */
    Mode mode;
    const char *val[NOPTS];    /* option values; "" for a given flag */
} Cli;

/* "PROG: error: message"; returns EXIT_ERROR. */
__attribute__((format(printf, 2, 3)))
static int error(const Cli *c, const char *fmt, ...)
{
    fprintf(c->errs, "%s: error: ", c->prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->errs, fmt, ap);
    va_end(ap);
    fputc('\n', c->errs);
    return EXIT_ERROR;
}

/* A usage error with a pointer to --help; returns EXIT_USAGE. */
__attribute__((format(printf, 3, 4)))
static int usage(const Cli *c, int have_mode, const char *fmt, ...)
{
    fprintf(c->errs, "%s: error: ", c->prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->errs, fmt, ap);
    va_end(ap);
    fprintf(c->errs, "\nrun '%s%s%s --help' for usage\n", c->prog,
            have_mode ? " " : "", have_mode ? mode_names[c->mode] : "");
    return EXIT_USAGE;
}

/* ------------------------------------------------------------ suggestions */

/* Edit distance counting a swap of two neighbours as one edit (optimal
 * string alignment), for "did you mean"; long strings count as far. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 64 };
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][MAXLEN + 1]; /* rows i-2, i-1, i, cycled */
    if (la > MAXLEN || lb > MAXLEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        rows[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3],
               *prev2 = rows[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return rows[la % 3][lb];
}

/* The closest of names[0 .. n) to s if it is close enough, else NULL. */
static const char *closest(const char *s, const char *const *names,
                           size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(s, names[i]);
        if (dist < bestd) {
            bestd = dist;
            best = names[i];
        }
    }
    size_t len = strlen(s);
    return bestd <= 2 && bestd * 3 <= len ? best : NULL;
}

/* ------------------------------------------------------------ help */

/* "3 input columns, then 1 class id (0 to 9)": what a CSV row holds. */
static void describe_row(const Cli *c, FILE *f, int targets)
{
    const nnrt_model *d = c->d;
    fprintf(f, "%zu input column%s", d->input_size,
            d->input_size == 1 ? "" : "s");
    if (!targets || d->targets == NNRT_TARGETS_NONE)
        return;
    switch (d->targets) {
    case NNRT_TARGETS_CLASS_ID:
        fprintf(f, ", then 1 class id (0 to %zu)",
                d->nclasses ? d->nclasses - 1 : 0);
        break;
    case NNRT_TARGETS_ONE_HOT:
        fprintf(f, ", then %zu one-hot columns or 1 class id (0 to %zu)",
                d->nclasses, d->nclasses ? d->nclasses - 1 : 0);
        break;
    default:
        fprintf(f, ", then %zu target%s%s", d->target_size,
                d->target_size == 1 ? "" : "s",
                d->binary ? " (0 or 1)" : "");
        break;
    }
}

static void help_program(const Cli *c)
{
    FILE *f = c->out;
    fprintf(f, "usage: %s COMMAND [options]\n\n", c->prog);
    fprintf(f, "Trains and runs the model %s, generated by nnc from %s.\n\n",
            c->d->name, c->d->source ? c->d->source : "a .nn file");
    fputs("commands:\n", f);
    for (int m = 0; m < NMODES; m++)
        fprintf(f, "  %-9s %s\n", mode_names[m], mode_summaries[m]);
    fprintf(f, "\n'%s COMMAND --help' describes a command's options; "
            "'%s --version' prints the version.\n", c->prog, c->prog);
}

static void help_mode(const Cli *c)
{
    const nnrt_model *d = c->d;
    FILE *f = c->out;
    static const char *const synopsis[NMODES] = {
        "--data FILE [options]",
        "--weights FILE --data FILE [--labels FILE]",
        "--weights FILE --data FILE [--out FILE]",
    };
    fprintf(f, "usage: %s %s %s\n\n", c->prog, mode_names[c->mode],
            synopsis[c->mode]);
    fprintf(f, "%c%s.\nThe model is %s, from %s.\n\n",
            mode_summaries[c->mode][0] - 'a' + 'A',
            mode_summaries[c->mode] + 1, d->name,
            d->source ? d->source : "a .nn file");
    fputs("options:\n", f);
    for (size_t i = 0; i < NOPT_ROWS; i++) {
        const Opt *o = &opts[i];
        if (!(o->modes & (1u << c->mode)))
            continue;
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(f, "  %-24s %s", left, o->help);
        switch (o->def) {
        case DEF_EPOCHS:
            fprintf(f, " (default %d)", d->epochs);
            break;
        case DEF_BATCH:
            fprintf(f, " (default %d)", d->batch);
            break;
        case DEF_SEED:
            fprintf(f, " (default %llu)", (unsigned long long)d->seed);
            break;
        case DEF_WEIGHTS:
            fprintf(f, " (default %s.safetensors)", d->name);
            break;
        case DEF_CKPT:
            fprintf(f, " (default %s.ckpt.safetensors)", d->name);
            break;
        case DEF_NONE:
            break;
        }
        fputc('\n', f);
    }
    fputs("\nCSV and TSV rows hold ", f);
    describe_row(c, f, c->mode != MODE_PREDICT);
    fputs("; a header line is\nrecognised and skipped. IDX files (MNIST's "
          "format, gzip-compressed or not) are\nrecognised by a name "
          "containing 'idx' or ending in '-ubyte' or '.gz'.\n", f);
    if (c->mode == MODE_TRAIN)
        fputs("\nCtrl-C stops after the current batch and saves a "
              "checkpoint and the weights;\nresume with --init CHECKPOINT "
              "(and the same --seed).\n"
              "Exit status: 0 done, 1 error, 2 usage error, 130 "
              "interrupted.\n", f);
    else
        fputs("\nExit status: 0 done, 1 error, 2 usage error.\n", f);
}

/* ------------------------------------------------------------ arguments */

/* The row of option `name` for the current mode, or of any mode
 * (*elsewhere set) when it belongs to another; NULL if unknown. */
static const Opt *find_opt(const Cli *c, const char *name, size_t len,
                           int *elsewhere)
{
    const Opt *other = NULL;
    for (size_t i = 0; i < NOPT_ROWS; i++) {
        if (strlen(opts[i].name) != len ||
            strncmp(opts[i].name, name, len) != 0)
            continue;
        if (opts[i].modes & (1u << c->mode)) {
            *elsewhere = 0;
            return &opts[i];
        }
        other = &opts[i];
    }
    *elsewhere = other != NULL;
    return other;
}

/* "unknown option '--epoch'; did you mean '--epochs'?" */
static int unknown_option(const Cli *c, const char *arg, size_t len)
{
    const char *names[NOPT_ROWS];
    size_t n = 0;
    char *given = malloc(len + 1);
    if (given == NULL)
        return error(c, "out of memory");
    memcpy(given, arg, len);
    given[len] = '\0';
    for (size_t i = 0; i < NOPT_ROWS; i++)
        if (opts[i].modes & (1u << c->mode))
            names[n++] = opts[i].name;
    const char *near = closest(given, names, n);
    int rc;
    if (near != NULL)
        rc = usage(c, 1, "unknown option '%s' for %s; did you mean '%s'?",
                   given, mode_names[c->mode], near);
    else
        rc = usage(c, 1, "unknown option '%s' for %s", given,
                   mode_names[c->mode]);
    free(given);
    return rc;
}

/* Whether s is a known option name, possibly with "=value". */
static int looks_like_option(const Cli *c, const char *s)
{
    int elsewhere;
    return strncmp(s, "--", 2) == 0 &&
           find_opt(c, s, strcspn(s, "="), &elsewhere) != NULL;
}

/* Fills c->val from argv[first ..]; returns 0 or an exit status. */
static int parse_options(Cli *c, int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0)
            a = "--help";
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (a[0] == '-' && a[1] != '\0')
                return unknown_option(c, a, strlen(a));
            return usage(c, 1, "unexpected argument '%s' (options start "
                         "with --)", a);
        }
        size_t len = strcspn(a, "=");
        int elsewhere;
        const Opt *o = find_opt(c, a, len, &elsewhere);
        if (o == NULL)
            return unknown_option(c, a, len);
        if (elsewhere) {
            const char *which = (o->modes & IN_TRAIN) ? "train"
                              : (o->modes & IN_EVAL) ? "eval" : "predict";
            return usage(c, 1, "option %s does not apply to %s (it is an "
                         "option of %s)", o->name, mode_names[c->mode],
                         which);
        }
        const char *v;
        if (o->arg == NULL) {
            if (a[len] == '=')
                return usage(c, 1, "option %s takes no value", o->name);
            v = "";
        } else if (a[len] == '=') {
            v = a + len + 1;
        } else if (i + 1 < argc && !looks_like_option(c, argv[i + 1])) {
            v = argv[++i];
        } else {
            return usage(c, 1, "option %s needs a value (%s %s)", o->name,
                         o->name, o->arg);
        }
        if (o->arg != NULL && v[0] == '\0')
            return usage(c, 1, "option %s needs a value (%s %s), got an "
                         "empty one", o->name, o->name, o->arg);
        if (c->val[o->id] != NULL && o->id != OPT_HELP)
            return usage(c, 1, "option %s is given twice", o->name);
        c->val[o->id] = v;
    }
    return 0;
}

/* The value of integer option id in [min, INT_MAX], or dflt if absent. */
static int int_option(const Cli *c, OptId id, const char *name, int min,
                      int dflt, int *out)
{
    const char *s = c->val[id];
    *out = dflt;
    if (s == NULL)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < min || v > INT_MAX)
        return usage(c, 1, "option %s expects %s integer, got '%s'", name,
                     min > 0 ? "a positive" : "a non-negative", s);
    *out = (int)v;
    return 0;
}

static int seed_option(const Cli *c, uint64_t *seed)
{
    const char *s = c->val[OPT_SEED];
    if (s == NULL) {
        *seed = c->d->seed;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || s[0] == '-' ||
        s[0] == '+' || s[0] == ' ')
        return usage(c, 1, "option --seed expects an integer from 0 to "
                     "18446744073709551615, got '%s'", s);
    *seed = (uint64_t)v;
    return 0;
}

/* ------------------------------------------------------------ data */

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    if (lx > ls)
        return 0;
    for (size_t i = 0; i < lx; i++) {
        char a = s[ls - lx + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/* How a data file is read, by its name. */
typedef enum Format { FMT_CSV, FMT_IDX, FMT_CSV_GZ } Format;

static Format data_format(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (ends_with(base, ".csv") || ends_with(base, ".tsv") ||
        ends_with(base, ".txt"))
        return FMT_CSV;
    if (ends_with(base, ".csv.gz") || ends_with(base, ".tsv.gz") ||
        ends_with(base, ".txt.gz"))
        return FMT_CSV_GZ;
    if (strstr(base, "idx") || strstr(base, "IDX") ||
        ends_with(base, "-ubyte") || ends_with(base, ".gz"))
        return FMT_IDX;
    return FMT_CSV;
}

/* The per-example dimensions an IDX images file declares, from its header;
 * -1 if they cannot be read (the reader reports why). */
static int idx_dims(const char *path, int64_t *dims, int *rank)
{
    gzFile g = gzopen(path, "rb");
    if (g == NULL)
        return -1;
    unsigned char h[4 + 4 * 9];
    int rc = -1;
    if (gzread(g, h, 4) == 4 && h[0] == 0 && h[1] == 0 && h[2] == 8 &&
        h[3] >= 2 && h[3] <= 9 &&
        gzread(g, h + 4, 4u * h[3]) == 4 * (int)h[3]) {
        *rank = h[3] - 1;
        for (int i = 0; i < *rank; i++) {
            const unsigned char *b = h + 8 + 4 * i;
            dims[i] = (int64_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                                (uint32_t)b[2] << 8 | b[3]);
        }
        rc = 0;
    }
    gzclose(g);
    return rc;
}

/* "28x28" */
static void dims_str(char *buf, size_t len, const int64_t *dims, int rank)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%lld", i ? "x" : "",
                         (long long)dims[i]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

/* The spec of the model's data files; with_targets 0 for predict. */
static nnrt_data_spec data_spec(const nnrt_model *d, int with_targets)
{
    nnrt_data_spec s;
    s.nx = d->input_size;
    s.targets = with_targets ? d->targets : NNRT_TARGETS_NONE;
    s.ny = with_targets ? d->target_size : 0;
    s.nclasses = d->nclasses;
    s.binary = d->binary;
    return s;
}

/* Predict's CSV: inputs only, or inputs and the target columns, which are
 * then read as plain numbers and dropped. */
static int read_inputs_csv(const Cli *c, const char *path, nnrt_dataset *ds,
                           char *err, size_t errlen)
{
    nnrt_data_spec s = data_spec(c->d, 0);
    if (nnrt_read_csv(path, &s, ds, err, errlen) == 0)
        return 0;
    if (c->d->targets == NNRT_TARGETS_NONE)
        return -1;
    /* Targets as in a training file: target_size columns, or (one-hot)
     * one class-id column. */
    size_t widths[2] = {c->d->target_size, 1};
    int nwidths = c->d->targets == NNRT_TARGETS_ONE_HOT &&
                  c->d->target_size != 1 ? 2 : 1;
    char again[1024];
    for (int i = 0; i < nwidths; i++) {
        nnrt_data_spec t = s;
        t.targets = NNRT_TARGETS_VALUES;
        t.ny = widths[i];
        t.binary = 0;
        if (nnrt_read_csv(path, &t, ds, again, sizeof again) == 0) {
            free(ds->y);
            ds->y = NULL;
            ds->ny = 0;
            return 0;
        }
        /* The columns fit a training file but a field is bad: that is
         * the message to show. (The reader's column-count messages are
         * the only ones with "columns (".) */
        if (strstr(again, " columns (") == NULL) {
            snprintf(err, errlen, "%s", again);
            return -1;
        }
    }
    return -1; /* the first message, about inputs only, stands */
}

/* Reads one data file (and its IDX labels) as the model needs it. `opt`
 * and `lopt` name the options for messages. Returns 0 or an exit status,
 * already reported. */
static int read_data(const Cli *c, const char *path, const char *labels,
                     const char *opt, const char *lopt, int with_targets,
                     nnrt_dataset *ds)
{
    char err[1024];
    Format f = data_format(path);
    if (f == FMT_CSV_GZ)
        return error(c, "%s: compressed CSV files are not supported; "
                     "decompress it first (gunzip)", path);
    if (f == FMT_CSV) {
        if (labels != NULL && with_targets)
            return usage(c, 1, "%s is for IDX images, but %s is read as "
                         "CSV (its targets are its last columns)", lopt,
                         path);
        nnrt_data_spec s = data_spec(c->d, with_targets);
        if (with_targets ? nnrt_read_csv(path, &s, ds, err, sizeof err)
                         : read_inputs_csv(c, path, ds, err, sizeof err))
            return error(c, "%s", err);
        return 0;
    }
    if (with_targets && c->d->targets != NNRT_TARGETS_NONE && labels == NULL)
        return usage(c, 1, "%s %s is read as IDX images (by its name), so "
                     "%s LABELS is needed too", opt, path, lopt);
    nnrt_data_spec s = data_spec(c->d, with_targets);
    if (nnrt_read_idx(path, labels, &s, ds, err, sizeof err) != 0)
        return error(c, "%s", err);
    /* The reader checked the size; a model with a multi-dimensional input
     * also wants the same dimensions (a flat file or a flat input is
     * fine: the values are in the same order). */
    int64_t dims[8];
    int rank;
    if (c->d->input_rank >= 2 && idx_dims(path, dims, &rank) == 0 &&
        rank >= 2) {
        int same = rank == c->d->input_rank;
        for (int i = 0; same && i < rank; i++)
            same = dims[i] == c->d->input_shape[i];
        if (!same) {
            char a[128], b[128];
            dims_str(a, sizeof a, dims, rank);
            dims_str(b, sizeof b, c->d->input_shape, c->d->input_rank);
            nnrt_dataset_free(ds);
            return error(c, "%s: images are %s, but the model's input is %s",
                         path, a, b);
        }
    }
    return 0;
}

/* The directory of path can take a new file (checked before training, so
 * a long run does not end in "cannot create"). */
static int check_writable(const Cli *c, const char *path, const char *opt)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (slash == NULL) {
        dir = malloc(2);
        if (dir)
            strcpy(dir, ".");
    } else {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(len + 1);
        if (dir) {
            memcpy(dir, path, len);
            dir[len] = '\0';
        }
    }
    if (dir == NULL)
        return error(c, "out of memory");
    int rc = 0;
    if (access(dir, W_OK | X_OK) != 0)
        rc = error(c, "%s %s: cannot write to directory '%s': %s", opt, path,
                   dir, strerror(errno));
    free(dir);
    return rc;
}

/* "NAME" + suffix, malloc'ed. */
static char *name_with(const nnrt_model *d, const char *suffix)
{
    size_t len = strlen(d->name) + strlen(suffix) + 1;
    char *s = malloc(len);
    if (s != NULL)
        snprintf(s, len, "%s%s", d->name, suffix);
    return s;
}

/* ------------------------------------------------------------ modes */

static int run_train(Cli *c)
{
    const nnrt_model *d = c->d;
    nnrt_train_options o;
    nnrt_train_options_model(&o, d);
    int rc;
    if ((rc = int_option(c, OPT_EPOCHS, "--epochs", 1, d->epochs,
                         &o.epochs)) != 0 ||
        (rc = int_option(c, OPT_BATCH, "--batch", 1, d->batch,
                         &o.batch)) != 0 ||
        (rc = int_option(c, OPT_CKPT_EVERY, "--checkpoint-every", 0, 0,
                         &o.checkpoint_every)) != 0 ||
        (rc = seed_option(c, &o.seed)) != 0)
        return rc;
    if (c->val[OPT_DATA] == NULL)
        return usage(c, 1, "train needs --data FILE");
    if (c->val[OPT_VAL_LABELS] != NULL && c->val[OPT_VAL] == NULL)
        return usage(c, 1, "--val-labels is given without --val");
    if (d->train_batch == NULL)
        return error(c, "model %s has no loss, so it cannot be trained",
                     d->name);
    o.shuffle = c->val[OPT_NO_SHUFFLE] ? 0 : d->shuffle;
    o.verbose = c->val[OPT_QUIET] ? 0 : 1;
    o.out = c->errs;
    o.history_csv = c->val[OPT_HISTORY];

    char *out_default = name_with(d, ".safetensors");
    char *ckpt_default = name_with(d, ".ckpt.safetensors");
    const char *out = c->val[OPT_OUT] ? c->val[OPT_OUT] : out_default;
    o.checkpoint = c->val[OPT_CKPT] ? c->val[OPT_CKPT] : ckpt_default;
    nnrt_dataset train = {0}, val = {0};
    void *m = NULL;
    if (out_default == NULL || ckpt_default == NULL) {
        rc = error(c, "out of memory");
        goto done;
    }
    if (strcmp(out, o.checkpoint) == 0) {
        rc = usage(c, 1, "--out and --checkpoint are the same file, %s",
                   out);
        goto done;
    }

    /* Everything is read and checked before the first step. */
    if ((rc = read_data(c, c->val[OPT_DATA], c->val[OPT_LABELS], "--data",
                        "--labels", 1, &train)) != 0 ||
        (c->val[OPT_VAL] &&
         (rc = read_data(c, c->val[OPT_VAL], c->val[OPT_VAL_LABELS], "--val",
                         "--val-labels", 1, &val)) != 0) ||
        (rc = check_writable(c, out, "--out")) != 0 ||
        ((c->val[OPT_CKPT] || o.checkpoint_every > 0) &&
         (rc = check_writable(c, o.checkpoint, "--checkpoint")) != 0) ||
        (o.history_csv &&
         (rc = check_writable(c, o.history_csv, "--history")) != 0))
        goto done;
    m = d->create(o.seed);
    if (m == NULL) {
        rc = error(c, "out of memory creating the model");
        goto done;
    }
    char err[1024];
    if (c->val[OPT_INIT] != NULL) {
        int epoch = 0;
        if (d->load_checkpoint
                ? d->load_checkpoint(m, c->val[OPT_INIT], &epoch, err,
                                     sizeof err)
                : d->load(m, c->val[OPT_INIT], err, sizeof err)) {
            rc = error(c, "%s", err);
            goto done;
        }
        if (epoch >= o.epochs)
            fprintf(c->errs, "%s already holds %d epoch%s (--epochs %d): "
                    "nothing to train\n", c->val[OPT_INIT], epoch,
                    epoch == 1 ? "" : "s", o.epochs);
        else if (epoch > 0 && o.verbose)
            fprintf(c->errs, "resuming from epoch %d\n", epoch);
        o.initial_epoch = epoch < o.epochs ? epoch : o.epochs;
    }

    int trc = nnrt_train(d, m, &train, c->val[OPT_VAL] ? &val : NULL, &o,
                         NULL, err, sizeof err);
    if (trc < 0) {
        rc = error(c, "%s", err); /* no weights after NaN or I/O errors */
        goto done;
    }
    char serr[1024];
    if (d->save(m, out, serr, sizeof serr) != 0) {
        if (trc == 1)
            fprintf(c->errs, "%s: %s\n", c->prog, err);
        rc = error(c, "%s", serr);
        goto done;
    }
    if (o.verbose || trc == 1)
        fprintf(c->errs, "saved weights to %s\n", out);
    if (trc == 1) {
        fprintf(c->errs, "%s: %s\n", c->prog, err);
        rc = EXIT_INTERRUPTED;
    }
done:
    if (m != NULL)
        d->destroy(m);
    nnrt_dataset_free(&train);
    nnrt_dataset_free(&val);
    free(out_default);
    free(ckpt_default);
    return rc;
}

/* Creates the model and loads --weights (a weights file or a
 * checkpoint); NULL after reporting an error. */
static void *load_model(const Cli *c, int *rc)
{
    const nnrt_model *d = c->d;
    void *m = d->create(d->seed);
    if (m == NULL) {
        *rc = error(c, "out of memory creating the model");
        return NULL;
    }
    char err[1024];
    int epoch = 0;
    int bad = d->load_checkpoint
                  ? d->load_checkpoint(m, c->val[OPT_WEIGHTS], &epoch, err,
                                       sizeof err)
                  : d->load(m, c->val[OPT_WEIGHTS], err, sizeof err);
    if (bad) {
        d->destroy(m);
        *rc = error(c, "%s", err);
        return NULL;
    }
    return m;
}

static int run_eval(Cli *c)
{
    const nnrt_model *d = c->d;
    if (c->val[OPT_WEIGHTS] == NULL)
        return usage(c, 1, "eval needs --weights FILE");
    if (c->val[OPT_DATA] == NULL)
        return usage(c, 1, "eval needs --data FILE");
    if (d->evaluate == NULL)
        return error(c, "model %s has no loss, so it cannot be evaluated",
                     d->name);
    nnrt_dataset data = {0};
    int rc = read_data(c, c->val[OPT_DATA], c->val[OPT_LABELS], "--data",
                       "--labels", 1, &data);
    void *m = rc ? NULL : load_model(c, &rc);
    if (m != NULL) {
        char err[1024];
        double loss, metrics[3];
        if (nnrt_evaluate_dataset(d, m, &data, &loss, metrics, err,
                                  sizeof err) != 0) {
            rc = error(c, "%s", err);
        } else {
            fprintf(c->out, "loss: %.4f", loss);
            for (int k = 0; k < d->nmetrics && k < 3; k++)
                fprintf(c->out, " - %s: %.4f", d->metric_names[k],
                        metrics[k]);
            fputc('\n', c->out);
        }
        d->destroy(m);
    }
    nnrt_dataset_free(&data);
    return rc;
}

static int run_predict(Cli *c)
{
    const nnrt_model *d = c->d;
    if (c->val[OPT_WEIGHTS] == NULL)
        return usage(c, 1, "predict needs --weights FILE");
    if (c->val[OPT_DATA] == NULL)
        return usage(c, 1, "predict needs --data FILE");
    nnrt_dataset data = {0};
    int rc = read_data(c, c->val[OPT_DATA], NULL, "--data", "--labels", 0,
                       &data);
    void *m = rc ? NULL : load_model(c, &rc);
    if (m != NULL) {
        char err[1024];
        const char *path = c->val[OPT_OUT];
        char *buf = NULL;
        size_t len = 0;
        FILE *f = path ? open_memstream(&buf, &len) : c->out;
        if (f == NULL) {
            rc = error(c, "out of memory");
        } else {
            int bad = nnrt_predict_dataset(d, m, &data, f, err, sizeof err);
            /* fclose of a memory stream succeeds even when its last
             * realloc fails, leaving buf NULL. */
            if (path != NULL && (fclose(f) != 0 || buf == NULL) && !bad) {
                bad = 1;
                snprintf(err, sizeof err, "out of memory");
            }
            if (!bad && path != NULL)
                bad = nnrt_write_file_atomic(path, buf, len, err, sizeof err);
            if (bad)
                rc = error(c, "%s", err);
            free(buf);
        }
        d->destroy(m);
    }
    nnrt_dataset_free(&data);
    return rc;
}

/* ------------------------------------------------------------ entry */

int nnrt_main_streams(int argc, char **argv, const nnrt_model *d,
                      FILE *out, FILE *errs)
{
    Cli c = {0};
    c.d = d;
    c.out = out;
    c.errs = errs;
    c.prog = d->name;
    if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {
        const char *slash = strrchr(argv[0], '/');
        c.prog = slash && slash[1] ? slash + 1 : argv[0];
    }
    if (argc < 2)
        return usage(&c, 0, "missing command: %s, %s or %s", mode_names[0],
                     mode_names[1], mode_names[2]);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        help_program(&c);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        fprintf(out, "%s: model %s from %s, nnc runtime %s\n", c.prog,
                d->name, d->source ? d->source : "?", nnrt_version());
        return EXIT_OK;
    }
    int mode = -1;
    for (int m = 0; m < NMODES; m++)
        if (strcmp(cmd, mode_names[m]) == 0)
            mode = m;
    if (mode < 0) {
        if (cmd[0] == '-')
            return usage(&c, 0, "missing command before '%s': %s, %s or %s",
                         cmd, mode_names[0], mode_names[1], mode_names[2]);
        const char *near = closest(cmd, mode_names, NMODES);
        if (near)
            return usage(&c, 0, "unknown command '%s'; did you mean '%s'?",
                         cmd, near);
        return usage(&c, 0, "unknown command '%s' (commands: %s, %s, %s)",
                     cmd, mode_names[0], mode_names[1], mode_names[2]);
    }
    c.mode = (Mode)mode;
    /* --help wins over any other problem on the line. */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help_mode(&c);
            return EXIT_OK;
        }
    }
    int rc = parse_options(&c, argc, argv, 2);
    if (rc != 0)
        return rc;
    switch (c.mode) {
    case MODE_TRAIN:
        return run_train(&c);
    case MODE_EVAL:
        return run_eval(&c);
    default:
        return run_predict(&c);
    }
}

int nnrt_main(int argc, char **argv, const nnrt_model *d)
{
    nnrt_blas_restart(argv);
    int rc = nnrt_main_streams(argc, argv, d, stdout, stderr);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "%s: error: cannot write to standard output: %s\n",
                d->name, strerror(errno));
        rc = EXIT_ERROR;
    }
    return rc;
}
