/*
 * data.c - reading datasets into float arrays: CSV/TSV files of numbers,
 * and IDX files (the MNIST format), gzip-compressed or plain.
 *
 * Data files are untrusted input and the first thing a user gets wrong,
 * so each reader validates every field before it returns, says exactly
 * where the first problem is ("data.csv:7:12: expected a number, got
 * 'abc'") and returns either the whole dataset or nothing: nothing is
 * ever trained on half a file. Sizes from a file are never trusted:
 * buffers grow geometrically as data actually arrives, with every size
 * computation checked for overflow, so a lying header costs nothing.
 * Numbers are parsed with strtod, which assumes the C locale that
 * generated programs run in; decimal commas are rewritten before.
 */
#define _POSIX_C_SOURCE 200809L /* getline */

#include "nnrt_data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

/* Where an error message goes and which file it is about. */
typedef struct Diag {
    char *buf;
    size_t len;
    const char *path; /* starts every message */
} Diag;

/* Formats "path:line:col: message" into d, leaving out col when it is
 * 0 and line when that is 0 too; always returns -1 so callers can
 * `return fail_at(...)`. */
__attribute__((format(printf, 4, 5)))
static int fail_at(const Diag *d, size_t line, size_t col, const char *fmt,
                   ...)
{
    if (d->buf == NULL || d->len == 0)
        return -1;
    int used;
    if (col)
        used = snprintf(d->buf, d->len, "%s:%zu:%zu: ", d->path, line, col);
    else if (line)
        used = snprintf(d->buf, d->len, "%s:%zu: ", d->path, line);
    else
        used = snprintf(d->buf, d->len, "%s: ", d->path);
    if (used >= 0 && (size_t)used < d->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->buf + used, d->len - (size_t)used, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* "path: message", about the file as a whole. */
#define fail(d, ...) fail_at(d, 0, 0, __VA_ARGS__)

/* Makes *p hold at least `need` floats, at most `most`: the capacity at
 * least doubles on each growth, so n appends cost O(n) copying, yet it
 * never runs ahead of the data by more than a factor of two. Returns 0,
 * or -1 on overflow or out of memory (*p is then unchanged). */
static int reserve(float **p, size_t *cap, size_t need, size_t most)
{
    if (need <= *cap)
        return 0;
    if (most > SIZE_MAX / sizeof **p)
        most = SIZE_MAX / sizeof **p;
    if (need > most)
        return -1;
    size_t c = *cap < 1024 ? 1024 : *cap;
    while (c < need)
        c = c > most / 2 ? most : c * 2;
    if (c > most)
        c = most;
    float *q = realloc(*p, c * sizeof **p);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Checks that spec makes sense and returns the floats per row of y. */
static int check_spec(const nnrt_data_spec *s, const Diag *d, size_t *ny)
{
    const size_t big = SIZE_MAX / 16; /* keeps nx + ny and friends exact */
    int classes = s->targets == NNRT_TARGETS_CLASS_ID ||
                  s->targets == NNRT_TARGETS_ONE_HOT;
    *ny = s->targets == NNRT_TARGETS_VALUES ? s->ny
        : s->targets == NNRT_TARGETS_CLASS_ID ? 1
        : s->targets == NNRT_TARGETS_ONE_HOT ? s->nclasses : 0;
    if ((unsigned)s->targets > NNRT_TARGETS_ONE_HOT)
        return fail(d, "invalid data spec: unknown kind of targets %d",
                    (int)s->targets);
    if (s->nx == 0 || s->nx > big)
        return fail(d, "invalid data spec: %zu inputs", s->nx);
    if (s->targets == NNRT_TARGETS_VALUES && (s->ny == 0 || s->ny > big))
        return fail(d, "invalid data spec: %zu targets", s->ny);
    if (classes && (s->nclasses == 0 || s->nclasses > big))
        return fail(d, "invalid data spec: %zu classes", s->nclasses);
    if (classes && s->ny != *ny)
        return fail(d, "invalid data spec: ny is %zu, expected %zu", s->ny,
                    *ny);
    return 0;
}

void nnrt_dataset_free(nnrt_dataset *d)
{
    free(d->x);
    free(d->y);
    d->n = d->nx = d->ny = 0;
    d->x = d->y = NULL;
}

/* ================================================================== CSV */

/* One field of a line, as split at the separator. */
typedef struct Field {
    const char *s; /* text without the surrounding blanks and quotes */
    size_t len;
    size_t col;    /* 1-based byte column where the text (or its opening
                    * quote) starts, after the BOM on line 1 */
    int quoted;
} Field;

/* The state of one nnrt_read_csv. */
typedef struct Csv {
    const nnrt_data_spec *spec;
    Diag d;
    size_t line;       /* physical line number, 1-based */
    char sep;          /* '\t', ';' or ',', from the first non-blank line */
    size_t ncols;      /* columns every line must have; 0 until known */
    int class_column;  /* ONE_HOT: a class id column instead of nclasses */
    Field *f;          /* fields of the current line */
    size_t nf, fcap;
    char *num;         /* scratch copy of a number for strtod */
    size_t numcap;
    char *buf;         /* the current line, from getline */
    size_t bufcap;
    size_t n, ny;      /* rows stored so far; floats per row of y */
    float *x, *y;
    size_t xcap, ycap; /* floats allocated */
} Csv;

static int is_blank(const Csv *c, char ch)
{
    return ch == ' ' || (ch == '\t' && c->sep != '\t');
}

/* Tab if the line has one outside quotes, else ';' if it has one,
 * else ','. */
static char detect_sep(const char *s, size_t len)
{
    int quoted = 0, semicolon = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && s[i] == '\t')
            return '\t';
        else if (!quoted && s[i] == ';')
            semicolon = 1;
    }
    return semicolon ? ';' : ',';
}

/* Splits s[0 .. len) at c->sep into c->f. A field may be surrounded by
 * blanks and by double quotes (then "" inside stands for one quote, and
 * the separator may appear); a quoted field cannot span lines. */
static int split(Csv *c, const char *s, size_t len)
{
    size_t i = 0;
    c->nf = 0;
    for (;;) {
        if (c->nf == c->fcap) {
            size_t cap = c->fcap ? c->fcap * 2 : 64;
            Field *f = cap <= SIZE_MAX / sizeof *f
                           ? realloc(c->f, cap * sizeof *f) : NULL;
            if (f == NULL)
                return fail_at(&c->d, c->line, 0, "out of memory");
            c->f = f;
            c->fcap = cap;
        }
        Field *f = &c->f[c->nf++];
        while (i < len && is_blank(c, s[i]))
            i++;
        f->col = i + 1;
        f->quoted = i < len && s[i] == '"';
        size_t j = f->quoted ? ++i : i;
        if (f->quoted) {
            while (j < len &&
                   (s[j] != '"' || (j + 1 < len && s[j + 1] == '"')))
                j += s[j] == '"' ? 2 : 1; /* "" is an escaped quote */
            if (j >= len)
                return fail_at(&c->d, c->line, f->col, "unterminated quoted "
                               "field (a quoted field must end on its line)");
        } else {
            const char *sep = memchr(s + i, c->sep, len - i);
            j = sep ? (size_t)(sep - s) : len;
        }
        while (i < j && is_blank(c, s[i]))
            i++;
        f->s = s + i;
        f->len = j - i;
        while (f->len > 0 && is_blank(c, f->s[f->len - 1]))
            f->len--;
        i = j + f->quoted;
        while (f->quoted && i < len && is_blank(c, s[i]))
            i++;
        if (i >= len)
            return 0;
        if (s[i] != c->sep)
            return fail_at(&c->d, c->line, i + 1,
                           "unexpected text after the closing quote");
        i++;
    }
}

/* Whether s[0 .. len) is a decimal number as strtod reads it in the C
 * locale (no hex, no blanks), or nan / inf / infinity in any case. A
 * decimal comma is accepted in place of the point if comma_ok. */
static int is_number(const char *s, size_t len, int comma_ok)
{
    static const char *const words[] = {"nan", "inf", "infinity"};
    size_t i = len > 0 && (s[0] == '+' || s[0] == '-'), digits = 0;
    for (size_t w = 0; w < 3 && i < len && (s[i] | 0x20) >= 'a'; w++) {
        size_t k = 0;
        while (i + k < len && (s[i + k] | 0x20) == words[w][k])
            k++;
        if (i + k == len && words[w][k] == '\0')
            return 1;
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < len && (s[i] == '.' || (comma_ok && s[i] == ',')))
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t first = ++i;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            first = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == first)
            return 0;
    }
    return i == len;
}

/* A decimal comma is a separator in a comma file, unless quoted. */
static int comma_ok(const Csv *c, const Field *f)
{
    return c->sep != ',' || f->quoted;
}

/* For messages: at most the first 40 bytes of a field. */
#define SHOW(f) (int)((f)->len > 40 ? 40 : (f)->len), (f)->s, \
                ((f)->len > 40 ? "..." : "")

/* Converts field f to a finite value that fits a float, or fails. */
static int parse_number(Csv *c, const Field *f, double *v)
{
    if (f->len == 0)
        return fail_at(&c->d, c->line, f->col,
                       "expected a number, got an empty field");
    if (!is_number(f->s, f->len, comma_ok(c, f)))
        return fail_at(&c->d, c->line, f->col,
                       "expected a number, got '%.*s%s'", SHOW(f));
    if (f->len >= c->numcap) {
        size_t cap = f->len < c->numcap * 2 ? c->numcap * 2 : f->len + 32;
        char *num = realloc(c->num, cap);
        if (num == NULL)
            return fail_at(&c->d, c->line, 0, "out of memory");
        c->num = num;
        c->numcap = cap;
    }
    for (size_t i = 0; i < f->len; i++)
        c->num[i] = f->s[i] == ',' ? '.' : f->s[i];
    c->num[f->len] = '\0';
    *v = strtod(c->num, NULL);
    if (!isfinite(*v))
        return fail_at(&c->d, c->line, f->col,
                       "value '%.*s%s' is not a finite number", SHOW(f));
    if (fabs(*v) > FLT_MAX)
        return fail_at(&c->d, c->line, f->col,
                       "value '%.*s%s' is too large for a float", SHOW(f));
    return 0;
}

/* The first line is a header if any field is text (not empty, not a
 * number), so a first data row with a bad field is reported, not
 * silently skipped. */
static int is_header(const Csv *c)
{
    for (size_t j = 0; j < c->nf; j++)
        if (c->f[j].len > 0 &&
            !is_number(c->f[j].s, c->f[j].len, comma_ok(c, &c->f[j])))
            return 1;
    return 0;
}

/* Writes "5 columns (3 inputs + 2 targets)" into buf. */
static const char *columns(char *buf, size_t len, size_t nx, size_t nt,
                           const char *kind)
{
    int k = snprintf(buf, len, "%zu column%s (%zu input%s", nx + nt,
                     nx + nt == 1 ? "" : "s", nx, nx == 1 ? "" : "s");
    if (k >= 0 && (size_t)k < len)
        snprintf(buf + k, len - (size_t)k, nt ? " + %zu %s%s)" : ")", nt,
                 kind, nt == 1 ? "" : "s");
    return buf;
}

/* Checks the number of fields; the first line (header or data) fixes
 * it, and for ONE_HOT whether targets are one-hot or one class id. */
static int check_columns(Csv *c)
{
    const nnrt_data_spec *s = c->spec;
    size_t nt = s->targets == NNRT_TARGETS_VALUES ? s->ny
              : s->targets == NNRT_TARGETS_CLASS_ID ? 1
              : s->targets == NNRT_TARGETS_ONE_HOT ? s->nclasses : 0;
    const char *kind = s->targets == NNRT_TARGETS_VALUES ? "target"
                     : s->targets == NNRT_TARGETS_CLASS_ID ? "class id"
                     : "one-hot target";
    char what[128];
    if (c->ncols == 0 && s->targets == NNRT_TARGETS_ONE_HOT) {
        if (c->nf == s->nx + nt || c->nf == s->nx + 1) {
            c->class_column = c->nf != s->nx + nt;
            c->ncols = c->nf;
            return 0;
        }
        return fail_at(&c->d, c->line, 0, "expected %s or %zu (%zu input%s "
                       "+ 1 class id), got %zu",
                       columns(what, sizeof what, s->nx, nt, kind),
                       s->nx + 1, s->nx, s->nx == 1 ? "" : "s", c->nf);
    }
    if (c->class_column) {
        nt = 1;
        kind = "class id";
    }
    if (c->ncols == 0)
        c->ncols = s->nx + nt;
    if (c->nf == c->ncols)
        return 0;
    return fail_at(&c->d, c->line, 0, "expected %s, got %zu",
                   columns(what, sizeof what, s->nx, nt, kind), c->nf);
}

/* A class id must be an integer in [0, nclasses). */
static int check_class(const Csv *c, const Field *f, double v)
{
    if (v != floor(v))
        return fail_at(&c->d, c->line, f->col,
                       "class id %.*s%s is not an integer", SHOW(f));
    if (v < 0 || v >= (double)c->spec->nclasses)
        return fail_at(&c->d, c->line, f->col, "class id %.*s%s is out of "
                       "range (the model has %zu classes: 0 to %zu)", SHOW(f),
                       c->spec->nclasses, c->spec->nclasses - 1);
    return 0;
}

/* Parses the current line's fields into a new row of x and y. */
static int add_row(Csv *c)
{
    const nnrt_data_spec *s = c->spec;
    if (c->n + 1 > SIZE_MAX / s->nx ||
        reserve(&c->x, &c->xcap, (c->n + 1) * s->nx, SIZE_MAX) != 0 ||
        (c->ny && reserve(&c->y, &c->ycap, (c->n + 1) * c->ny, SIZE_MAX)))
        return fail(&c->d, "out of memory after %zu rows", c->n);
    float *x = c->x + c->n * s->nx;
    float *y = c->ny ? c->y + c->n * c->ny : NULL;
    size_t ones = 0;
    for (size_t j = 0; j < c->nf; j++) {
        const Field *f = &c->f[j];
        double v = 0;
        if (parse_number(c, f, &v) != 0)
            return -1;
        if (j < s->nx) {
            x[j] = (float)v;
        } else if (s->targets == NNRT_TARGETS_VALUES) {
            if (s->binary && v != 0 && v != 1)
                return fail_at(&c->d, c->line, f->col, "target %.*s%s is not "
                               "0 or 1 (binary_crossentropy needs 0/1 "
                               "targets)", SHOW(f));
            y[j - s->nx] = (float)v;
        } else if (s->targets == NNRT_TARGETS_CLASS_ID || c->class_column) {
            if (check_class(c, f, v) != 0)
                return -1;
            if (s->targets == NNRT_TARGETS_CLASS_ID) {
                y[0] = (float)v;
            } else {
                memset(y, 0, c->ny * sizeof *y);
                y[(size_t)v] = 1;
            }
        } else {
            if (v != 0 && v != 1)
                return fail_at(&c->d, c->line, f->col,
                               "one-hot target %.*s%s is not 0 or 1", SHOW(f));
            y[j - s->nx] = (float)v;
            ones += v == 1;
        }
    }
    if (s->targets == NNRT_TARGETS_ONE_HOT && !c->class_column && ones == 0)
        return fail_at(&c->d, c->line, 0, "expected one-hot targets (one 1, "
                       "the rest 0), got all 0");
    if (s->targets == NNRT_TARGETS_ONE_HOT && !c->class_column && ones > 1)
        return fail_at(&c->d, c->line, 0, "expected one-hot targets (one 1, "
                       "the rest 0), got %zu ones", ones);
    c->n++;
    return 0;
}

/* The body of nnrt_read_csv: reads f line by line into c's rows. */
static int read_lines(Csv *c, FILE *f)
{
    int first = 1;
    ssize_t got;
    while ((got = getline(&c->buf, &c->bufcap, f)) != -1) {
        char *s = c->buf;
        size_t len = (size_t)got;
        if (++c->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3; /* the UTF-8 byte order mark */
            len -= 3;
        }
        if (memchr(s, '\0', len) != NULL)
            return fail_at(&c->d, c->line, 0, "line contains a NUL byte (is "
                           "this a binary file?)");
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
            len--;
        size_t i = 0;
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == len)
            continue; /* blank line */
        if (first)
            c->sep = detect_sep(s, len);
        if (split(c, s, len) != 0 || check_columns(c) != 0)
            return -1;
        if (first) {
            first = 0;
            if (is_header(c))
                continue;
        }
        if (add_row(c) != 0)
            return -1;
    }
    if (ferror(f) || !feof(f)) /* getline also fails on out of memory */
        return fail(&c->d, "cannot read: %s", strerror(errno));
    if (c->n == 0)
        return fail(&c->d, "no data rows");
    return 0;
}

int nnrt_read_csv(const char *path, const nnrt_data_spec *spec,
                  nnrt_dataset *out, char *err, size_t errlen)
{
    Csv c = {.spec = spec, .d = {err, errlen, path}};
    memset(out, 0, sizeof *out);
    if (check_spec(spec, &c.d, &c.ny) != 0)
        return -1;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail(&c.d, "cannot open: %s", strerror(errno));
    int rc = read_lines(&c, f);
    fclose(f);
    free(c.buf);
    free(c.f);
    free(c.num);
    if (rc != 0) {
        free(c.x);
        free(c.y);
        return -1;
    }
    /* Give back what the last doubling left unused; failing is fine. */
    float *x = realloc(c.x, c.n * spec->nx * sizeof *x);
    float *y = c.ny ? realloc(c.y, c.n * c.ny * sizeof *y) : NULL;
    out->x = x ? x : c.x;
    out->y = c.ny ? (y ? y : c.y) : NULL;
    out->n = c.n;
    out->nx = spec->nx;
    out->ny = c.ny;
    /* cppcheck (2.10) loses x through the ?: above and reports a leak;
     * x is either NULL or out->x. */
    /* cppcheck-suppress memleak */
    return 0;
}

/* ================================================================== IDX */

#define IDX_MAX_DIMS 8
#define IDX_CHUNK (1u << 16) /* bytes per gzread, on the stack */

/* One open IDX file and its header. */
typedef struct Idx {
    gzFile f;
    Diag d;
    unsigned ndim;
    uint32_t dims[IDX_MAX_DIMS]; /* dims[0] counts the examples */
} Idx;

/* Reads up to len <= IDX_CHUNK bytes into buf; *got < len only at the
 * end of the data, including a gzip stream that is cut short (which
 * callers report as truncation). A corrupt stream or a read error fails. */
static int read_some(Idx *ix, unsigned char *buf, size_t len, size_t *got)
{
    int k = gzread(ix->f, buf, (unsigned)len);
    int saved = errno, code;
    const char *msg = gzerror(ix->f, &code);
    *got = k > 0 ? (size_t)k : 0;
    if (code == Z_OK || code == Z_BUF_ERROR)
        return 0;
    if (code == Z_ERRNO)
        return fail(&ix->d, "cannot read: %s", strerror(saved));
    /* zlib's message starts with the path, which fail() prints anyway. */
    size_t pl = strlen(ix->d.path);
    if (strncmp(msg, ix->d.path, pl) == 0 && msg[pl] == ':')
        msg += pl + 2;
    return fail(&ix->d, "cannot read: corrupt gzip data (%s)", msg);
}

/* Opens path (gzip or plain) and reads and checks its header; ix->d
 * is already set up. */
static int idx_open(Idx *ix, const char *path)
{
    unsigned char h[4 * IDX_MAX_DIMS];
    size_t got;
    errno = 0;
    ix->f = gzopen(path, "rb");
    if (ix->f == NULL)
        return fail(&ix->d, "cannot open: %s",
                    errno ? strerror(errno) : "out of memory");
    gzbuffer(ix->f, 1u << 17);
    if (read_some(ix, h, 4, &got) != 0)
        return -1;
    if (got < 4)
        return fail(&ix->d, "not an IDX file (only %zu bytes long)", got);
    if (h[0] != 0 || h[1] != 0)
        return fail(&ix->d, "not an IDX file (it starts with %02x %02x %02x "
                    "%02x, not 00 00 08 and a dimension count)",
                    h[0], h[1], h[2], h[3]);
    static const char *const types[16] = {
        [0x09] = "signed bytes", [0x0B] = "16-bit integers",
        [0x0C] = "32-bit integers", [0x0D] = "floats", [0x0E] = "doubles"};
    if (h[2] != 0x08)
        return fail(&ix->d, "IDX data type 0x%02X (%s) is not supported, "
                    "only 0x08 (unsigned bytes)", h[2],
                    h[2] < 16 && types[h[2]] ? types[h[2]] : "unknown");
    ix->ndim = h[3];
    if (ix->ndim == 0 || ix->ndim > IDX_MAX_DIMS)
        return fail(&ix->d, "IDX files with %u dimensions are not supported "
                    "(1 to %d)", ix->ndim, IDX_MAX_DIMS);
    if (read_some(ix, h, 4 * ix->ndim, &got) != 0)
        return -1;
    if (got < 4 * ix->ndim)
        return fail(&ix->d, "file is truncated: the header ends early");
    for (unsigned i = 0; i < ix->ndim; i++)
        ix->dims[i] = (uint32_t)h[4 * i] << 24 | (uint32_t)h[4 * i + 1] << 16 |
                      (uint32_t)h[4 * i + 2] << 8 | h[4 * i + 3];
    return 0;
}

/* Reads the n examples of `per` bytes each that follow the header into
 * *out (malloc'ed, freed by the caller even on failure) as floats
 * table[byte], then checks that the file ends there. *out grows as data
 * arrives, so a header claiming more than the file holds costs no more
 * memory than the file does. */
static int read_values(Idx *ix, size_t n, size_t per, const char *what,
                       const float *table, float **out)
{
    unsigned char buf[IDX_CHUNK];
    size_t total = n * per, done = 0, cap = 0, got;
    while (done < total) {
        size_t want = total - done < IDX_CHUNK ? total - done : IDX_CHUNK;
        if (read_some(ix, buf, want, &got) != 0)
            return -1;
        if (reserve(out, &cap, done + got, total) != 0)
            return fail(&ix->d, "out of memory after %zu %s", done / per,
                        what);
        for (size_t i = 0; i < got; i++)
            (*out)[done + i] = table[buf[i]];
        done += got;
        if (got < want)
            break;
    }
    if (done < total)
        return fail(&ix->d, "file is truncated: header says %zu %s, found "
                    "%zu", n, what, done / per);
    if (read_some(ix, buf, 1, &got) != 0)
        return -1;
    if (got != 0)
        return fail(&ix->d, "unexpected data after %zu %s", n, what);
    return 0;
}

/* Checks an images file's header against the model: returns the values
 * per image (the product of the dimensions after the count). */
static int check_images(const Idx *ix, size_t nx, size_t *per)
{
    char shape[IDX_MAX_DIMS * 12] = "";
    size_t used = 0;
    if (ix->ndim < 2)
        return fail(&ix->d, "has 1 dimension, like a labels file; images "
                    "need 2 or more (the count, then each image's shape)");
    *per = 1;
    for (unsigned i = 1; i < ix->ndim; i++) {
        if (ix->dims[i] != 0 && *per > SIZE_MAX / 16 / ix->dims[i])
            return fail(&ix->d, "images are too large (their dimensions' "
                        "product overflows)");
        *per *= ix->dims[i];
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%u",
                                 i > 1 ? "x" : "", (unsigned)ix->dims[i]);
    }
    if (*per == nx)
        return 0;
    if (ix->ndim == 2)
        return fail(&ix->d, "images have %zu values, but the model's input "
                    "has %zu values", *per, nx);
    return fail(&ix->d, "images are %s (%zu values), but the model's input "
                "has %zu values", shape, *per, nx);
}

/* Turns labels (one float per example, the byte's value) into targets:
 * checked in place for CLASS_ID and VALUES, expanded for ONE_HOT. */
static int convert_labels(const Idx *ix, const nnrt_data_spec *s, size_t n,
                          float **labels)
{
    const float *lab = *labels;
    for (size_t i = 0; i < n; i++) {
        if (s->targets == NNRT_TARGETS_VALUES && s->binary && lab[i] > 1)
            return fail(&ix->d, "label %d at index %zu is not 0 or 1 "
                        "(binary_crossentropy needs 0/1 targets)",
                        (int)lab[i], i);
        if (s->targets != NNRT_TARGETS_VALUES && lab[i] >= s->nclasses)
            return fail(&ix->d, "label %d at index %zu is out of range (the "
                        "model has %zu classes: 0 to %zu)", (int)lab[i], i,
                        s->nclasses, s->nclasses - 1);
    }
    if (s->targets != NNRT_TARGETS_ONE_HOT)
        return 0;
    float *y = n <= SIZE_MAX / sizeof *y / s->nclasses
                   ? calloc(n * s->nclasses, sizeof *y) : NULL;
    if (y == NULL)
        return fail(&ix->d, "out of memory for %zu one-hot labels", n);
    for (size_t i = 0; i < n; i++)
        y[i * s->nclasses + (size_t)lab[i]] = 1;
    free(*labels);
    *labels = y;
    return 0;
}

/* The body of nnrt_read_idx: im and lb are opened here and closed by
 * the caller, *x and *y are allocated here and freed by the caller. */
static int read_idx(Idx *im, Idx *lb, const char *images, const char *labels,
                    const nnrt_data_spec *spec, float **x, float **y,
                    size_t *n)
{
    float table[256], ids[256];
    size_t per = 1;
    int want_labels = spec->targets != NNRT_TARGETS_NONE;
    if (want_labels && labels == NULL)
        return fail(&im->d, "the model has targets, but no labels file was "
                    "given");
    if (spec->targets == NNRT_TARGETS_VALUES && spec->ny != 1)
        return fail(&im->d, "a labels file holds one target per example, "
                    "but the model has %zu", spec->ny);

    /* Both headers first, so a mismatch is found before reading data. */
    if (idx_open(im, images) != 0 || check_images(im, spec->nx, &per) != 0)
        return -1;
    *n = im->dims[0];
    if (want_labels) {
        if (idx_open(lb, labels) != 0)
            return -1;
        if (lb->ndim != 1)
            return fail(&lb->d, "labels must have 1 dimension, but this "
                        "file has %u (is it an images file?)", lb->ndim);
        if (lb->dims[0] != *n)
            return fail(&lb->d, "has %u labels, but %s has %zu images",
                        (unsigned)lb->dims[0], images, *n);
    }
    if (*n == 0)
        return fail(&im->d, "no images");
    if (*n > SIZE_MAX / sizeof(float) / per)
        return fail(&im->d, "too many values (%zu images of %zu values "
                    "each)", *n, per);
    for (int b = 0; b < 256; b++) {
        table[b] = (float)b / 255.0f;
        ids[b] = (float)b;
    }
    if (read_values(im, *n, per, "images", table, x) != 0)
        return -1;
    if (want_labels && (read_values(lb, *n, 1, "labels", ids, y) != 0 ||
                        convert_labels(lb, spec, *n, y) != 0))
        return -1;
    return 0;
}

int nnrt_read_idx(const char *images, const char *labels,
                  const nnrt_data_spec *spec, nnrt_dataset *out,
                  char *err, size_t errlen)
{
    Idx im = {.d = {err, errlen, images}}, lb = {.d = {err, errlen, labels}};
    float *x = NULL, *y = NULL;
    size_t ny, n = 0;
    memset(out, 0, sizeof *out);
    int rc = check_spec(spec, &im.d, &ny) != 0 ? -1
           : read_idx(&im, &lb, images, labels, spec, &x, &y, &n);
    if (im.f != NULL)
        gzclose(im.f);
    if (lb.f != NULL)
        gzclose(lb.f);
    if (rc != 0) {
        free(x);
        free(y);
        return -1;
    }
    out->n = n;
    out->nx = spec->nx;
    out->ny = ny;
    out->x = x;
    out->y = y;
    return 0;
}
