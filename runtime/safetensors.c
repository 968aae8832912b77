/*
 * safetensors.c - saving and loading parameters in the safetensors format,
 * so weights trained by generated C load into PyTorch and back.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON mapping
 * each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the data section), then the data section itself.
 *
 * A file is untrusted input: load checks every field, with overflow-safe
 * arithmetic, before it copies a single byte, and says what is wrong in
 * terms of the file ("tensor 'w' has shape [4, 3], expected [5, 3]").
 * Save writes a temporary file and renames it, so a crash or a full disk
 * never leaves a half-written checkpoint where a good one was.
 * The contract of each public function is its comment in nnrt.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* fileno, fsync, getpid, open_memstream */
#endif

#include "nnrt.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Tensor data is copied straight between memory and file, which is only
 * right when the host stores floats as safetensors does. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nnrt safetensors I/O assumes a little-endian host"
#endif
_Static_assert(sizeof(float) == 4 && sizeof(double) == 8,
               "F32 and F64 must be float and double");

/* Safetensors dtypes and their element sizes. nnrt reads and writes only
 * the first two (indexed by nnrt_dtype), but knowing the others lets load
 * check a foreign file's layout and name its dtype in the error. */
static const struct {
    const char *name;
    uint64_t size;
} dtypes[] = {
    {"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I8", 1},
    {"U8", 1},  {"I16", 2}, {"U16", 2}, {"I32", 4},  {"U32", 4},
    {"I64", 8}, {"U64", 8}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};
#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

#define FILE_MAX_RANK 8 /* deepest shape load will parse from a file */

/* Where an error message goes and which file it is about. */
typedef struct Diag {
    char *buf;
    size_t len;
    const char *what; /* path or name that starts every message */
} Diag;

/* Formats "what: message" into d; always returns -1 so callers can
 * `return fail(...)`. */
__attribute__((format(printf, 2, 3)))
static int fail(const Diag *d, const char *fmt, ...)
{
    if (d->buf == NULL || d->len == 0)
        return -1;
    int used = snprintf(d->buf, d->len, "%s: ", d->what);
    if (used >= 0 && (size_t)used < d->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->buf + used, d->len - (size_t)used, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Writes "[4, 3]" into buf, the way error messages show shapes. */
static const char *shape_str(char *buf, size_t len, const int64_t *shape,
                             int rank)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64,
                                 i ? ", " : "", shape[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

/* Bytes of a dense tensor, or 0 with *ok = 0 if the product overflows. */
static uint64_t tensor_bytes(uint64_t elem, const int64_t *shape, int rank,
                             int *ok)
{
    uint64_t bytes = elem;
    *ok = 1;
    for (int i = 0; i < rank; i++) {
        uint64_t dim = (uint64_t)shape[i];
        if (dim != 0 && bytes > UINT64_MAX / dim) {
            *ok = 0;
            return 0;
        }
        bytes *= dim;
    }
    return bytes;
}

/* Bytes of a caller's tensor, or 0 with *ok = 0 if its dtype, rank or
 * shape is invalid or its size overflows. */
static uint64_t table_bytes(const nnrt_tensor *t, int *ok)
{
    *ok = (unsigned)t->dtype <= NNRT_F64 && t->rank >= 0 &&
          t->rank <= NNRT_MAX_RANK;
    for (int k = 0; *ok && k < t->rank; k++)
        *ok = t->shape[k] >= 0;
    return *ok ? tensor_bytes(dtypes[t->dtype].size, t->shape, t->rank, ok)
               : 0;
}

/* ----------------------------------------------------------------- save */

/* Returns 0, or -1 if a write failed. */
static int put_json_string(FILE *f, const char *s)
{
    int ok = putc('"', f) != EOF;
    for (const unsigned char *p = (const unsigned char *)s; ok && *p; p++) {
        if (*p == '"' || *p == '\\')
            ok = fprintf(f, "\\%c", *p) >= 0;
        else if (*p < 0x20)
            ok = fprintf(f, "\\u%04x", *p) >= 0;
        else
            ok = putc(*p, f) != EOF;
    }
    return ok && putc('"', f) != EOF ? 0 : -1;
}

/* Checks the caller's table while building the padded JSON header in a
 * malloc'ed buffer, so nothing touches the disk for a table that is
 * wrong. Returns 0 with *hdr and *hlen set, or -1. Every write's result
 * is checked: a memory stream that cannot grow fails the write without
 * setting its error flag, and its fclose succeeds even when the final
 * realloc fails and leaves *hdr NULL (glibc). */
static int build_header(const nnrt_tensor *t, size_t n, const Diag *d,
                        char **hdr, size_t *hlen)
{
    size_t size = 0;
    FILE *f = open_memstream(hdr, &size);
    if (f == NULL)
        return fail(d, "cannot build header: %s", strerror(errno));
    int written = fputs("{\"__metadata__\":{\"format\":\"pt\"}", f) != EOF;
    uint64_t offset = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int ok;
        uint64_t bytes = table_bytes(&t[i], &ok);
        if (t[i].name == NULL || strcmp(t[i].name, "__metadata__") == 0)
            rc = fail(d, "tensor %zu has an invalid name", i);
        else if (!ok || bytes > UINT64_MAX - offset)
            rc = fail(d, "tensor '%s' has an invalid dtype, rank or shape",
                      t[i].name);
        for (size_t j = 0; j < i && rc == 0; j++)
            if (strcmp(t[i].name, t[j].name) == 0)
                rc = fail(d, "tensor '%s' is given twice", t[i].name);
        if (rc != 0)
            break;
        written &= putc(',', f) != EOF;
        written &= put_json_string(f, t[i].name) == 0;
        written &= fprintf(f, ":{\"dtype\":\"%s\",\"shape\":[",
                           dtypes[t[i].dtype].name) >= 0;
        for (int k = 0; k < t[i].rank; k++)
            written &= fprintf(f, "%s%" PRId64, k ? "," : "",
                               t[i].shape[k]) >= 0;
        written &= fprintf(f, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64
                           "]}", offset, offset + bytes) >= 0;
        offset += bytes;
    }
    written &= putc('}', f) != EOF;
    /* Pad so the data section starts 8-byte aligned, as the Python
     * writer does; JSON allows the trailing spaces. */
    while (written && ftell(f) % 8 != 0)
        written = putc(' ', f) != EOF;
    int bad = ferror(f) || !written;
    if (fclose(f) != 0 || bad || *hdr == NULL)
        rc = rc ? rc : fail(d, "cannot build header: out of memory");
    if (rc != 0)
        free(*hdr);
    *hlen = size;
    return rc;
}

/* Writes the whole file image to f; returns 0 or an errno value. */
static int write_file(FILE *f, const char *hdr, size_t hlen,
                      const nnrt_tensor *t, size_t n)
{
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    errno = 0;
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, hlen, f) == hlen;
    for (size_t i = 0; ok && i < n; i++) {
        size_t bytes = (size_t)table_bytes(&t[i], &ok);
        ok = bytes == 0 || fwrite(t[i].data, 1, bytes, f) == bytes;
    }
    if (ok && fflush(f) == 0 && fsync(fileno(f)) == 0)
        return 0;
    return errno ? errno : EIO; /* a short write need not set errno */
}

int nnrt_save_safetensors(const char *path, const nnrt_tensor *t, size_t n,
                          char *err, size_t errlen)
{
    Diag d = {err, errlen, path};
    char *hdr = NULL;
    size_t hlen = 0;
    if (build_header(t, n, &d, &hdr, &hlen) != 0)
        return -1;

    /* Same directory as path, so the rename cannot cross file systems;
     * the pid keeps two processes saving the same path apart. */
    size_t tmplen = strlen(path) + 32;
    char *tmp = malloc(tmplen);
    if (tmp == NULL) {
        free(hdr);
        return fail(&d, "out of memory");
    }
    snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());

    int rc = -1;
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        fail(&d, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    int werr = write_file(f, hdr, hlen, t, n);
    if (fclose(f) != 0 && werr == 0)
        werr = errno;
    if (werr != 0) {
        fail(&d, "cannot write '%s': %s", tmp, strerror(werr));
        remove(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        fail(&d, "cannot replace it with '%s': %s", tmp, strerror(errno));
        remove(tmp);
        goto out;
    }
    rc = 0;
out:
    free(tmp);
    free(hdr);
    return rc;
}

/* ----------------------------------------------------------------- load */

/* One tensor entry of a file's header, once validated. */
typedef struct Entry {
    const char *name;
    uint64_t begin, end; /* data_offsets, within the data section */
    size_t order;        /* position in the header, for stable messages */
    size_t target;       /* index into the caller's table */
} Entry;

/* A JSON number that is a non-negative integer exactly representable as
 * a double (offsets and dimensions beyond 2^53 cannot be trusted). */
static int json_u64(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return 0;
    double v = j->valuedouble;
    if (!(v >= 0 && v <= 9007199254740992.0) || (double)(uint64_t)v != v)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* Validates one header entry against the data section and the caller's
 * table; fills e. Returns 0 or -1 with the message in d. */
static int check_entry(const cJSON *it, uint64_t data_len,
                       const nnrt_tensor *t, size_t n, unsigned char *seen,
                       const Diag *d, Entry *e)
{
    const char *name = it->string;
    char s1[160], s2[160];

    if (!cJSON_IsObject(it))
        return fail(d, "tensor '%s' is not a JSON object", name);
    const cJSON *jdtype = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *jshape = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *joff = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsString(jdtype))
        return fail(d, "tensor '%s' has no \"dtype\" string", name);
    size_t dt = 0;
    while (dt < NDTYPES && strcmp(dtypes[dt].name, jdtype->valuestring))
        dt++;
    if (dt == NDTYPES)
        return fail(d, "tensor '%s' has unknown dtype '%s'", name,
                    jdtype->valuestring);

    int64_t shape[FILE_MAX_RANK];
    int rank = cJSON_IsArray(jshape) ? cJSON_GetArraySize(jshape) : -1;
    if (rank < 0 || rank > FILE_MAX_RANK)
        return fail(d, "tensor '%s' has no \"shape\" array of at most %d "
                    "dimensions", name, FILE_MAX_RANK);
    for (int k = 0; k < rank; k++) {
        uint64_t dim;
        if (!json_u64(cJSON_GetArrayItem(jshape, k), &dim))
            return fail(d, "tensor '%s' has a shape entry that is not a "
                        "non-negative integer", name);
        shape[k] = (int64_t)dim;
    }

    uint64_t begin, end;
    if (!cJSON_IsArray(joff) || cJSON_GetArraySize(joff) != 2 ||
        !json_u64(cJSON_GetArrayItem(joff, 0), &begin) ||
        !json_u64(cJSON_GetArrayItem(joff, 1), &end))
        return fail(d, "tensor '%s' has no \"data_offsets\" pair of "
                    "non-negative integers", name);
    if (begin > end)
        return fail(d, "data_offsets of '%s' [%" PRIu64 ", %" PRIu64 "] "
                    "end before they begin", name, begin, end);
    if (end > data_len)
        return fail(d, "file is truncated: data_offsets of '%s' [%" PRIu64
                    ", %" PRIu64 "] reach past the %" PRIu64 "-byte data "
                    "section", name, begin, end, data_len);
    int ok;
    uint64_t bytes = tensor_bytes(dtypes[dt].size, shape, rank, &ok);
    if (!ok || bytes != end - begin)
        return fail(d, "tensor '%s' has %" PRIu64 " bytes of data, but "
                    "dtype %s and shape %s need %s%" PRIu64, name,
                    end - begin, dtypes[dt].name,
                    shape_str(s1, sizeof s1, shape, rank),
                    ok ? "" : "more than ", ok ? bytes : UINT64_MAX);

    size_t i = 0;
    while (i < n && strcmp(t[i].name, name) != 0)
        i++;
    if (i == n)
        return fail(d, "unexpected tensor '%s' (this model has no such "
                    "parameter)", name);
    if (seen[i])
        return fail(d, "tensor '%s' appears twice in the header", name);
    seen[i] = 1;
    if (dt != (size_t)t[i].dtype)
        return fail(d, "tensor '%s' has dtype %s, expected %s", name,
                    dtypes[dt].name, dtypes[t[i].dtype].name);
    int same = rank == t[i].rank;
    for (int k = 0; same && k < rank; k++)
        same = shape[k] == t[i].shape[k];
    if (!same)
        return fail(d, "tensor '%s' has shape %s, expected %s", name,
                    shape_str(s1, sizeof s1, shape, rank),
                    shape_str(s2, sizeof s2, t[i].shape, t[i].rank));

    e->name = name;
    e->begin = begin;
    e->end = end;
    e->target = i;
    return 0;
}

static int by_begin(const void *pa, const void *pb)
{
    const Entry *a = pa, *b = pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Sorts e by offset and reports the first two tensors sharing bytes,
 * naming the one that comes first in the header first. */
static int check_overlap(Entry *e, size_t ne, const Diag *d)
{
    qsort(e, ne, sizeof *e, by_begin);
    const Entry *reach = NULL; /* the entry ending last so far */
    for (size_t i = 0; i < ne; i++) {
        if (e[i].begin == e[i].end)
            continue; /* empty tensors share no bytes */
        if (reach != NULL && e[i].begin < reach->end) {
            const Entry *x = reach->order < e[i].order ? reach : &e[i];
            const Entry *y = x == reach ? &e[i] : reach;
            return fail(d, "data_offsets of '%s' [%" PRIu64 ", %" PRIu64
                        "] overlap '%s' [%" PRIu64 ", %" PRIu64 "]",
                        x->name, x->begin, x->end, y->name, y->begin,
                        y->end);
        }
        if (reach == NULL || e[i].end > reach->end)
            reach = &e[i];
    }
    return 0;
}

int nnrt_load_safetensors_mem(const void *buf, size_t len, const char *what,
                              nnrt_tensor *t, size_t n,
                              char *err, size_t errlen)
{
    Diag d = {err, errlen, what};
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        int ok;
        table_bytes(&t[i], &ok);
        if (t[i].name == NULL || !ok)
            return fail(&d, "tensor %zu of the caller's table is invalid", i);
    }
    if (len < 8)
        return fail(&d, "file is truncated (%zu bytes, too short for the "
                    "header length)", len);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)p[i] << (8 * i);
    /* Compare against what remains rather than computing 8 + hlen,
     * which a hostile length could overflow. */
    if (hlen > len - 8)
        return fail(&d, "header length %" PRIu64 " exceeds file size %zu",
                    hlen, len);
    const char *json = (const char *)p + 8;
    const unsigned char *data = p + 8 + hlen;
    uint64_t data_len = len - 8 - hlen;

    /* The error position comes back through stop, not cJSON_GetErrorPtr,
     * which reads a global that another thread's parse may overwrite. */
    const char *stop = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &stop, 0);
    if (root == NULL)
        return fail(&d, "header is not valid JSON (error near header byte "
                    "%td)", stop ? stop - json : (ptrdiff_t)0);
    /* cJSON stops after the value; only padding may follow it. */
    while (stop < json + hlen && *stop != '\0' && strchr(" \t\r\n", *stop))
        stop++;
    int rc = -1;
    Entry *entries = NULL;
    unsigned char *seen = NULL;
    if (stop != json + hlen) {
        fail(&d, "header is not valid JSON (trailing characters at header "
             "byte %td)", stop - json);
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        fail(&d, "header is not a JSON object");
        goto out;
    }

    size_t count = (size_t)cJSON_GetArraySize(root);
    entries = calloc(count + 1, sizeof *entries);
    seen = calloc(n + 1, 1);
    if (entries == NULL || seen == NULL) {
        fail(&d, "out of memory");
        goto out;
    }
    size_t ne = 0;
    for (const cJSON *it = root->child; it != NULL; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0) {
            int strings = cJSON_IsObject(it);
            for (const cJSON *m = it->child; strings && m; m = m->next)
                strings = cJSON_IsString(m);
            if (!strings) {
                fail(&d, "__metadata__ is not an object of strings");
                goto out;
            }
            continue;
        }
        if (check_entry(it, data_len, t, n, seen, &d, &entries[ne]) != 0)
            goto out;
        entries[ne].order = ne;
        ne++;
    }
    for (size_t i = 0; i < n; i++)
        if (!seen[i]) {
            fail(&d, "missing tensor '%s'", t[i].name);
            goto out;
        }
    if (check_overlap(entries, ne, &d) != 0)
        goto out;

    /* Everything checked: only now touch the caller's buffers. */
    for (size_t i = 0; i < ne; i++)
        if (entries[i].end > entries[i].begin)
            memcpy(t[entries[i].target].data, data + entries[i].begin,
                   (size_t)(entries[i].end - entries[i].begin));
    rc = 0;
out:
    free(seen);
    free(entries);
    cJSON_Delete(root);
    return rc;
}

int nnrt_load_safetensors(const char *path, nnrt_tensor *t, size_t n,
                          char *err, size_t errlen)
{
    Diag d = {err, errlen, path};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail(&d, "cannot open: %s", strerror(errno));
    /* Read to EOF in growing chunks rather than trusting a size from
     * stat, which works for any readable file, pipes included. */
    size_t len = 0, cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap || ferror(f))
            break;
        unsigned char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2)
                                                    : NULL;
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int rc;
    if (buf == NULL)
        rc = fail(&d, "out of memory reading the file");
    else if (ferror(f))
        rc = fail(&d, "cannot read: %s", strerror(errno));
    else
        rc = nnrt_load_safetensors_mem(buf, len, path, t, n, err, errlen);
    fclose(f);
    free(buf);
    return rc;
}
