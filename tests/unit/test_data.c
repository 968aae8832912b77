/*
 * test_data.c - Check suite for reading datasets (runtime/nnrt_data.h).
 *
 * Every error message the CSV and IDX readers can give is pinned exactly,
 * since users see nothing else when their data is wrong, and every
 * failure must leave the dataset empty. Good inputs cover the formats
 * people actually produce (separators, decimal commas, headers, CRLF,
 * BOM, quotes) and the repository's example files. Small files live in
 * tests/data/ (the runner starts in the repository root); the others are
 * written under one mkdtemp directory in /tmp, created and removed
 * around the test cases. IDX files are built here, plain and gzip'ed.
 * Exports data_suite(); the runner is tests/unit/main.c.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */

#include "nnrt_data.h"
#include "tmpdir.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

Suite *data_suite(void);

/* ----------------------------------------------------------- helpers */


/* Writes len bytes to name, gzip-compressed if gz; returns the path. */
static const char *put(const char *name, const void *data, size_t len,
                       int gz)
{
    const char *path = path_of(name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert(f != NULL);
        ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert(f != NULL);
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }
    return path;
}

static const char *put_text(const char *name, const char *text)
{
    return put(name, text, strlen(text), 0);
}

static nnrt_data_spec spec(size_t nx, nnrt_targets t, size_t ny,
                           size_t nclasses, int binary)
{
    nnrt_data_spec s = {nx, t, ny, nclasses, binary};
    return s;
}
#define NONE(nx) spec(nx, NNRT_TARGETS_NONE, 0, 0, 0)
#define VALUES(nx, ny) spec(nx, NNRT_TARGETS_VALUES, ny, 0, 0)
#define BINARY(nx, ny) spec(nx, NNRT_TARGETS_VALUES, ny, 0, 1)
#define CLASS_ID(nx, nc) spec(nx, NNRT_TARGETS_CLASS_ID, 1, nc, 0)
#define ONE_HOT(nx, nc) spec(nx, NNRT_TARGETS_ONE_HOT, nc, nc, 0)

static void assert_empty(const nnrt_dataset *d)
{
    ck_assert_uint_eq(d->n, 0);
    ck_assert_uint_eq(d->nx, 0);
    ck_assert_uint_eq(d->ny, 0);
    ck_assert_ptr_null(d->x);
    ck_assert_ptr_null(d->y);
}

/* Reads path, which must fail with exactly "<path><suffix>". */
static void csv_fails(const char *path, nnrt_data_spec s, const char *suffix)
{
    nnrt_dataset d;
    char err[512], want[512];
    memset(&d, 0xAB, sizeof d); /* the reader must empty it */
    ck_assert_int_eq(nnrt_read_csv(path, &s, &d, err, sizeof err), -1);
    assert_empty(&d);
    snprintf(want, sizeof want, "%s%s", path, suffix);
    ck_assert_str_eq(err, want);
    nnrt_dataset_free(&d);
}

/* Writes text to data.csv, which must fail with "<path><suffix>". */
static void text_fails(const char *text, nnrt_data_spec s, const char *suffix)
{
    csv_fails(put_text("data.csv", text), s, suffix);
}

static nnrt_dataset csv_ok(const char *path, nnrt_data_spec s)
{
    nnrt_dataset d;
    char err[512] = "";
    int rc = nnrt_read_csv(path, &s, &d, err, sizeof err);
    ck_assert_msg(rc == 0, "unexpected error: %s", err);
    return d;
}

static nnrt_dataset text_ok(const char *text, nnrt_data_spec s)
{
    return csv_ok(put_text("data.csv", text), s);
}

static void assert_floats(const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "[%zu]: got %.9g, want %.9g", i,
                      (double)got[i], (double)want[i]);
}

/* ------------------------------------------------------ CSV: good */

/* grades.csv: a header, then 8 rows of 3 inputs and 2 targets. */
START_TEST(test_csv_grades_example)
{
    nnrt_dataset d = csv_ok("examples/grades.csv", VALUES(3, 2));
    ck_assert_uint_eq(d.n, 8);
    ck_assert_uint_eq(d.nx, 3);
    ck_assert_uint_eq(d.ny, 2);
    static const float x0[] = {2, 24, 4}, y0[] = {7, 7.2f};
    static const float x6[] = {13.4f, 21, 5}, y6[] = {5.5f, 10};
    assert_floats(d.x, x0, 3);
    assert_floats(d.y, y0, 2);
    assert_floats(d.x + 6 * 3, x6, 3);
    assert_floats(d.y + 6 * 2, y6, 2);
    nnrt_dataset_free(&d);
    nnrt_dataset_free(&d); /* twice is harmless */
    assert_empty(&d);
}
END_TEST

/* careers.csv: class ids 0..2, read as ids and expanded to one-hot. */
START_TEST(test_csv_careers_example)
{
    static const float ids[] = {0, 1, 1, 2, 0, 2, 1, 0};
    nnrt_dataset d = csv_ok("examples/careers.csv", CLASS_ID(3, 3));
    ck_assert_uint_eq(d.n, 8);
    ck_assert_uint_eq(d.ny, 1);
    assert_floats(d.y, ids, 8);
    nnrt_dataset_free(&d);

    d = csv_ok("examples/careers.csv", ONE_HOT(3, 3));
    ck_assert_uint_eq(d.n, 8);
    ck_assert_uint_eq(d.ny, 3);
    for (size_t i = 0; i < 8; i++)
        for (size_t k = 0; k < 3; k++)
            ck_assert(d.y[i * 3 + k] == (k == (size_t)ids[i]));
    nnrt_dataset_free(&d);
}
END_TEST

START_TEST(test_csv_no_header)
{
    static const float x[] = {1, 2, -3, 0.5f, 5, -1500}, y[] = {3, 0.25f};
    nnrt_dataset d = text_ok("1,2,-3,3\n.5,+5.,-1.5e3,2.5E-1\n",
                             VALUES(3, 1));
    ck_assert_uint_eq(d.n, 2);
    assert_floats(d.x, x, 6);
    assert_floats(d.y, y, 2);
    nnrt_dataset_free(&d);
}
END_TEST

/* A decimal comma is read with ';' and tab separators, and inside quotes
 * even in a comma file; blanks around fields are fine. */
START_TEST(test_csv_shipped_good_files)
{
    static const float x[] = {2, 24, 4, 13.4f, 21, 5};
    static const float y[] = {7, 7.2f, 5.5f, 10};
    const char *files[] = {"tests/data/good_semicolon.csv",
                           "tests/data/good_bom_crlf.tsv",
                           "tests/data/good_quoted.csv"};
    for (int i = 0; i < 3; i++) {
        nnrt_dataset d = csv_ok(files[i], VALUES(3, 2));
        ck_assert_uint_eq(d.n, 2);
        assert_floats(d.x, x, 6);
        assert_floats(d.y, y, 4);
        nnrt_dataset_free(&d);
    }
}
END_TEST

START_TEST(test_csv_separators)
{
    static const float x[] = {1.5f, 2}, y[] = {3};
    static const char *texts[] = {
        "a,b,c\n1.5,2,3\n",       "a;b;c\n1,5;2;3\n",
        "a\tb\tc\n1,5\t2\t3\n",   "a\tb\tc\n1.5\t2\t3\n",
        "1;2,0;3\n",              " 1,5 ; 2 ;3 \n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        nnrt_dataset d = text_ok(texts[i], VALUES(2, 1));
        ck_assert_uint_eq(d.n, 1);
        ck_assert(d.x[0] == (i == 4 ? 1.0f : 1.5f));
        assert_floats(d.x + 1, x + 1, 1);
        assert_floats(d.y, y, 1);
        nnrt_dataset_free(&d);
    }
}
END_TEST

START_TEST(test_csv_blank_lines_crlf_bom)
{
    nnrt_dataset d = text_ok("\xEF\xBB\xBF\r\n \t \r\n  x,y\r\n\r\n1,2\r\n"
                             "\r\n3,4\r\n \t \r\n\r\n\n", VALUES(1, 1));
    static const float x[] = {1, 3}, y[] = {2, 4};
    ck_assert_uint_eq(d.n, 2);
    assert_floats(d.x, x, 2);
    assert_floats(d.y, y, 2);
    nnrt_dataset_free(&d);

    d = text_ok("\xEF\xBB\xBF" "5;6", VALUES(1, 1)); /* no final newline */
    ck_assert_uint_eq(d.n, 1);
    ck_assert(d.x[0] == 5 && d.y[0] == 6);
    nnrt_dataset_free(&d);
}
END_TEST

/* Quotes: "" escapes a quote, a quoted separator is not one, and a
 * quoted header may hold anything. */
START_TEST(test_csv_quotes)
{
    /* In the header, "" escapes a quote and the ',' ';' and tab inside
     * quotes neither split a field nor choose the separator; a quoted
     * "13,4" is one field with a decimal comma even in a comma file. */
    nnrt_dataset d = text_ok("\"a, \"\"b\"\"\",\"c;d\te\"\n"
                             " \"13,4\" , \" 2 \"\n", VALUES(1, 1));
    ck_assert_uint_eq(d.n, 1);
    ck_assert(d.x[0] == 13.4f && d.y[0] == 2);
    nnrt_dataset_free(&d);
}
END_TEST

START_TEST(test_csv_one_hot)
{
    static const float y[] = {0, 1, 0, 1, 0, 0};
    nnrt_dataset d = text_ok("x,a,b,c\n7,0,1,0\n8,1,0.0,0e5\n", ONE_HOT(1, 3));
    ck_assert_uint_eq(d.n, 2);
    ck_assert_uint_eq(d.ny, 3);
    assert_floats(d.y, y, 6);
    nnrt_dataset_free(&d);

    d = text_ok("7,1\n8,0\n", ONE_HOT(1, 3)); /* class ids, expanded */
    ck_assert_uint_eq(d.ny, 3);
    assert_floats(d.y, y, 6);
    nnrt_dataset_free(&d);
}
END_TEST

START_TEST(test_csv_none_and_binary)
{
    static const float x[] = {1, 2, 3, 4};
    nnrt_dataset d = text_ok("a,b\n1,2\n3,4\n", NONE(2));
    ck_assert_uint_eq(d.n, 2);
    ck_assert_uint_eq(d.ny, 0);
    ck_assert_ptr_null(d.y);
    assert_floats(d.x, x, 4);
    nnrt_dataset_free(&d);

    d = text_ok("1,0,1\n2,1.0,0\n", BINARY(1, 2));
    ck_assert_uint_eq(d.n, 2);
    nnrt_dataset_free(&d);
}
END_TEST

/* A 1 MB line (200000 inputs), and enough rows to grow the buffers a
 * few times; err may be NULL. */
START_TEST(test_csv_long_line_and_many_rows)
{
    const size_t nx = 200000;
    char *text = malloc(nx * 5 + 16);
    ck_assert_ptr_nonnull(text);
    size_t len = 0;
    for (size_t i = 0; i < nx; i++)
        len += (size_t)sprintf(text + len, "%s%zu", i ? "," : "", i % 1000);
    strcpy(text + len, ",7\n");
    ck_assert_uint_gt(len, 700000);
    nnrt_data_spec s = VALUES(nx, 1);
    nnrt_dataset d;
    ck_assert_int_eq(nnrt_read_csv(put_text("wide.csv", text), &s, &d,
                                   NULL, 0), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert(d.x[nx - 1] == (float)((nx - 1) % 1000) && d.y[0] == 7);
    nnrt_dataset_free(&d);
    free(text);

    FILE *f = fopen(path_of("long.csv"), "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 100000; i++)
        fprintf(f, "%d;%d,5\n", i, i % 7);
    fclose(f);
    s = VALUES(1, 1);
    ck_assert_int_eq(nnrt_read_csv(path_of("long.csv"), &s, &d, NULL, 0), 0);
    ck_assert_uint_eq(d.n, 100000);
    ck_assert(d.x[99999] == 99999 && d.y[99999] == 99999 % 7 + 0.5f);
    nnrt_dataset_free(&d);
}
END_TEST

/* ------------------------------------------------------- CSV: bad */

START_TEST(test_csv_shipped_bad_files)
{
    csv_fails("tests/data/bad_columns.csv", VALUES(3, 2),
              ":7: expected 5 columns (3 inputs + 2 targets), got 4");
    csv_fails("tests/data/bad_number.csv", VALUES(3, 2),
              ":7:12: expected a number, got 'abc'");
    csv_fails("tests/data/bad_nan.csv", VALUES(3, 2),
              ":3:5: value 'nan' is not a finite number");
    csv_fails("tests/data/bad_class_id.csv", CLASS_ID(3, 3),
              ":5:7: class id 3 is out of range (the model has 3 classes: "
              "0 to 2)");
}
END_TEST

START_TEST(test_csv_column_counts)
{
    text_fails("1,2,3\n", VALUES(1, 1),
               ":1: expected 2 columns (1 input + 1 target), got 3");
    text_fails("a,b\n1,2,3\n", VALUES(1, 1),
               ":2: expected 2 columns (1 input + 1 target), got 3");
    text_fails("a,b,c\n1,2\n", VALUES(1, 1), /* the header is checked too */
               ":1: expected 2 columns (1 input + 1 target), got 3");
    text_fails("1,2,3,4\n", NONE(3),
               ":1: expected 3 columns (3 inputs), got 4");
    text_fails("1,2,3\n", NONE(1), ":1: expected 1 column (1 input), got 3");
    text_fails("\n\n1,2,3,4,5\n", CLASS_ID(3, 3),
               ":3: expected 4 columns (3 inputs + 1 class id), got 5");
    text_fails("1,2,3,0,1\n", ONE_HOT(3, 3),
               ":1: expected 6 columns (3 inputs + 3 one-hot targets) or 4 "
               "(3 inputs + 1 class id), got 5");
    /* The first row decides; later rows must agree. */
    text_fails("1,2,3,0\n1,2,3,0,0,1\n", ONE_HOT(3, 3),
               ":2: expected 4 columns (3 inputs + 1 class id), got 6");
    text_fails("a,b,c,d,e,f\n1,2,3,0\n", ONE_HOT(3, 3),
               ":2: expected 6 columns (3 inputs + 3 one-hot targets), got 4");
    /* A decimal comma in a comma file splits the field. */
    text_fails("13,4,1\n", VALUES(1, 1),
               ":1: expected 2 columns (1 input + 1 target), got 3");
    text_fails("1,2,\n", VALUES(1, 1),
               ":1: expected 2 columns (1 input + 1 target), got 3");
}
END_TEST

START_TEST(test_csv_not_numbers)
{
    text_fails("x,y\n1,2\n3, abc \n", VALUES(1, 1),
               ":3:4: expected a number, got 'abc'");
    text_fails("1,,3\n", VALUES(2, 1),
               ":1:3: expected a number, got an empty field");
    text_fails("x,y\n1,\"\"\n", VALUES(1, 1),
               ":2:3: expected a number, got an empty field");
    text_fails("x,y\n0x10,2\n", VALUES(1, 1),
               ":2:1: expected a number, got '0x10'");
    text_fails("x;y\n1.5,5;2\n", VALUES(1, 1),
               ":2:1: expected a number, got '1.5,5'");
    text_fails("x;y\n1;2e\n", VALUES(1, 1),
               ":2:3: expected a number, got '2e'");
    text_fails("x;y\n1;.\n", VALUES(1, 1), ":2:3: expected a number, got '.'");
    text_fails("x;y\n1;- 2\n", VALUES(1, 1),
               ":2:3: expected a number, got '- 2'");
    text_fails("x,y\n1,12345678901234567890123456789012345678901234x\n",
               VALUES(1, 1), ":2:3: expected a number, got "
               "'1234567890123456789012345678901234567890...'");
}
END_TEST

START_TEST(test_csv_not_finite)
{
    text_fails("x,y\n1,inf\n", VALUES(1, 1),
               ":2:3: value 'inf' is not a finite number");
    text_fails("x,y\n-Infinity,1\n", VALUES(1, 1),
               ":2:1: value '-Infinity' is not a finite number");
    text_fails("x,y\n1,1e999\n", VALUES(1, 1),
               ":2:3: value '1e999' is not a finite number");
    text_fails("1,NaN\n", VALUES(1, 1), /* numeric first row: not a header */
               ":1:3: value 'NaN' is not a finite number");
    text_fails("x,y\n1,-1e39\n", VALUES(1, 1),
               ":2:3: value '-1e39' is too large for a float");
    text_fails("x,y\n1,123456789012345678901234567890123456789012345\n",
               VALUES(1, 1), ":2:3: value "
               "'1234567890123456789012345678901234567890...' is too large "
               "for a float");
    nnrt_dataset d = text_ok("1,1e-999\n", VALUES(1, 1)); /* underflow: 0 */
    ck_assert(d.y[0] == 0);
    nnrt_dataset_free(&d);
}
END_TEST

START_TEST(test_csv_bad_targets)
{
    text_fails("a,b,c,y\n1,2,3,1\n1,2,3,1.5\n", CLASS_ID(3, 3),
               ":3:7: class id 1.5 is not an integer");
    text_fails("1,2,3,-1\n", CLASS_ID(3, 3), ":1:7: class id -1 is out of "
               "range (the model has 3 classes: 0 to 2)");
    text_fails("1;2;3;2,5\n", ONE_HOT(3, 3),
               ":1:7: class id 2,5 is not an integer");
    text_fails("1,2,3,3\n", ONE_HOT(3, 3), ":1:7: class id 3 is out of "
               "range (the model has 3 classes: 0 to 2)");
    text_fails("x,a,b,c\n1,0,0.5,0.5\n", ONE_HOT(1, 3),
               ":2:5: one-hot target 0.5 is not 0 or 1");
    text_fails("x,a,b,c\n1,0,1,0\n1,0,0,0\n", ONE_HOT(1, 3),
               ":3: expected one-hot targets (one 1, the rest 0), got all 0");
    text_fails("x,a,b,c\n1,1,1,1\n", ONE_HOT(1, 3),
               ":2: expected one-hot targets (one 1, the rest 0), got 3 ones");
    text_fails("x,y\n1,1\n2,0.7\n", BINARY(1, 1), ":3:3: target 0.7 is not "
               "0 or 1 (binary_crossentropy needs 0/1 targets)");
}
END_TEST

START_TEST(test_csv_file_level)
{
    text_fails("", VALUES(1, 1), ": no data rows");
    text_fails("a,b\n", VALUES(1, 1), ": no data rows");
    text_fails("\n \r\n\t\n", VALUES(1, 1), ": no data rows");
    text_fails("\xEF\xBB\xBF", VALUES(1, 1), ": no data rows");
    csv_fails(path_of("missing.csv"), VALUES(1, 1),
              ": cannot open: No such file or directory");
    csv_fails(dir, VALUES(1, 1), ": cannot read: Is a directory");
    csv_fails(put("bin.csv", "1,2\n3,\0" "4\n", 9, 0), VALUES(1, 1),
              ":2: line contains a NUL byte (is this a binary file?)");
    text_fails("x,y\n1,\"2\n", VALUES(1, 1), ":2:3: unterminated quoted "
               "field (a quoted field must end on its line)");
    text_fails("x,y\n1,\"2\"3\n", VALUES(1, 1),
               ":2:6: unexpected text after the closing quote");
}
END_TEST

START_TEST(test_csv_bad_spec)
{
    text_fails("1\n", NONE(0), ": invalid data spec: 0 inputs");
    text_fails("1\n", VALUES(1, 0), ": invalid data spec: 0 targets");
    text_fails("1\n", CLASS_ID(1, 0), ": invalid data spec: 0 classes");
    text_fails("1\n", spec(1, NNRT_TARGETS_ONE_HOT, 1, 3, 0),
               ": invalid data spec: ny is 1, expected 3");
    text_fails("1\n", spec(1, (nnrt_targets)9, 1, 3, 0),
               ": invalid data spec: unknown kind of targets 9");
}
END_TEST

/* A message longer than err is truncated, not overflowed. */
START_TEST(test_csv_short_err_buffer)
{
    char err[8];
    nnrt_dataset d;
    nnrt_data_spec s = VALUES(1, 1);
    ck_assert_int_eq(nnrt_read_csv("/nonexistent/x.csv", &s, &d, err,
                                   sizeof err), -1);
    ck_assert_str_eq(err, "/nonexi");
}
END_TEST

/* ------------------------------------------------------------ IDX */

/* Writes an IDX file of unsigned bytes: header for dims[0 .. ndim), then
 * len bytes of data (which may disagree with the header on purpose). */
static const char *put_idx(const char *name, int gz, unsigned ndim,
                           const uint32_t *dims, const unsigned char *data,
                           size_t len)
{
    unsigned char *buf = malloc(4 + 4 * ndim + len);
    ck_assert_ptr_nonnull(buf);
    buf[0] = buf[1] = 0;
    buf[2] = 0x08;
    buf[3] = (unsigned char)ndim;
    for (unsigned i = 0; i < ndim; i++)
        for (int b = 0; b < 4; b++)
            buf[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    if (len > 0)
        memcpy(buf + 4 + 4 * ndim, data, len);
    const char *path = put(name, buf, 4 + 4 * ndim + len, gz);
    free(buf);
    return path;
}

/* Four 2x3 images and their labels 0 2 1 2. */
static const unsigned char pixels[24] = {
    0, 255, 51, 102, 0, 0,   1, 2, 3, 4, 5, 6,
    255, 255, 255, 0, 0, 0,  10, 20, 30, 40, 50, 60,
};
static const unsigned char label_ids[4] = {0, 2, 1, 2};
static const uint32_t image_dims[3] = {4, 2, 3}, label_dims[1] = {4};

/* Reads images and labels, which must fail with "<path><suffix>" where
 * path is the one the message is about. */
static void idx_fails(const char *images, const char *labels,
                      const char *about, nnrt_data_spec s,
                      const char *suffix)
{
    nnrt_dataset d;
    char err[512], want[512];
    memset(&d, 0xAB, sizeof d);
    ck_assert_int_eq(nnrt_read_idx(images, labels, &s, &d, err, sizeof err),
                     -1);
    assert_empty(&d);
    snprintf(want, sizeof want, "%s%s", about, suffix);
    ck_assert_str_eq(err, want);
}

START_TEST(test_idx_plain_and_gzip)
{
    for (int gz = 0; gz < 2; gz++) {
        const char *im = put_idx("im", gz, 3, image_dims, pixels, 24);
        const char *lb = put_idx("lb", gz, 1, label_dims, label_ids, 4);
        nnrt_data_spec s = CLASS_ID(6, 3);
        nnrt_dataset d;
        char err[256] = "";
        ck_assert_msg(nnrt_read_idx(im, lb, &s, &d, err, sizeof err) == 0,
                      "%s", err);
        ck_assert_uint_eq(d.n, 4);
        ck_assert_uint_eq(d.nx, 6);
        ck_assert_uint_eq(d.ny, 1);
        for (int i = 0; i < 24; i++)
            ck_assert(d.x[i] == (float)pixels[i] / 255.0f);
        ck_assert(d.x[0] == 0 && d.x[1] == 1 && d.x[2] == 0.2f);
        for (int i = 0; i < 4; i++)
            ck_assert(d.y[i] == label_ids[i]);
        nnrt_dataset_free(&d);

        s = ONE_HOT(6, 3);
        ck_assert_int_eq(nnrt_read_idx(im, lb, &s, &d, err, sizeof err), 0);
        ck_assert_uint_eq(d.ny, 3);
        for (int i = 0; i < 4; i++)
            for (unsigned k = 0; k < 3; k++)
                ck_assert(d.y[i * 3 + k] == (k == label_ids[i]));
        nnrt_dataset_free(&d);

        s = NONE(6); /* labels are not needed, and ignored if given */
        ck_assert_int_eq(nnrt_read_idx(im, NULL, &s, &d, err, sizeof err), 0);
        ck_assert_uint_eq(d.n, 4);
        ck_assert_ptr_null(d.y);
        nnrt_dataset_free(&d);
        ck_assert_int_eq(nnrt_read_idx(im, "/nonexistent", &s, &d, err,
                                       sizeof err), 0);
        ck_assert_ptr_null(d.y);
        nnrt_dataset_free(&d);

        s = VALUES(6, 1);
        ck_assert_int_eq(nnrt_read_idx(im, lb, &s, &d, err, sizeof err), 0);
        ck_assert(d.y[1] == 2);
        nnrt_dataset_free(&d);
    }
}
END_TEST

/* Two-dimensional images (count x values) and a binary label file. */
START_TEST(test_idx_flat_images_binary_labels)
{
    static const uint32_t dims[2] = {4, 6};
    static const unsigned char bits[4] = {0, 1, 1, 0};
    const char *im = put_idx("im", 0, 2, dims, pixels, 24);
    const char *lb = put_idx("lb", 1, 1, label_dims, bits, 4);
    nnrt_data_spec s = BINARY(6, 1);
    nnrt_dataset d;
    ck_assert_int_eq(nnrt_read_idx(im, lb, &s, &d, NULL, 0), 0);
    ck_assert(d.y[0] == 0 && d.y[1] == 1);
    nnrt_dataset_free(&d);

    lb = put_idx("lb", 0, 1, label_dims, label_ids, 4);
    idx_fails(im, lb, lb, s, ": label 2 at index 1 is not 0 or 1 "
              "(binary_crossentropy needs 0/1 targets)");
}
END_TEST

START_TEST(test_idx_header_mismatches)
{
    const char *im = put_idx("im", 1, 3, image_dims, pixels, 24);
    const char *lb = put_idx("lb", 0, 1, label_dims, label_ids, 4);
    idx_fails(im, lb, im, CLASS_ID(5, 3), ": images are 2x3 (6 values), "
              "but the model's input has 5 values");
    static const uint32_t flat[2] = {4, 6};
    const char *im2 = put_idx("im2", 0, 2, flat, pixels, 24);
    idx_fails(im2, lb, im2, CLASS_ID(5, 3), ": images have 6 values, "
              "but the model's input has 5 values");
    static const uint32_t three[1] = {3};
    const char *lb3 = put_idx("lb3", 1, 1, three, label_ids, 3);
    char suffix[256];
    snprintf(suffix, sizeof suffix, ": has 3 labels, but %s has 4 images",
             im);
    idx_fails(im, lb3, lb3, CLASS_ID(6, 3), suffix);
    /* Images and labels swapped. */
    idx_fails(lb, im, lb, CLASS_ID(6, 3), ": has 1 dimension, like a "
              "labels file; images need 2 or more (the count, then each "
              "image's shape)");
    idx_fails(im, im, im, CLASS_ID(6, 3), ": labels must have 1 "
              "dimension, but this file has 3 (is it an images file?)");
    idx_fails(im, NULL, im, CLASS_ID(6, 3), ": the model has targets, but "
              "no labels file was given");
    idx_fails(im, lb, im, VALUES(6, 2), ": a labels file holds one target "
              "per example, but the model has 2");
    idx_fails(im, lb, lb, CLASS_ID(6, 2), ": label 2 at index 1 is out of "
              "range (the model has 2 classes: 0 to 1)");
    static const uint32_t none[3] = {0, 2, 3};
    const char *empty = put_idx("empty", 0, 3, none, NULL, 0);
    idx_fails(empty, NULL, empty, NONE(6), ": no images");
}
END_TEST

START_TEST(test_idx_truncated_and_trailing)
{
    for (int gz = 0; gz < 2; gz++) {
        const char *im = put_idx("im", gz, 3, image_dims, pixels, 17);
        idx_fails(im, NULL, im, NONE(6), ": file is truncated: header says "
                  "4 images, found 2");
        const char *lb = put_idx("lb", gz, 1, label_dims, label_ids, 3);
        im = put_idx("im", gz, 3, image_dims, pixels, 24);
        idx_fails(im, lb, lb, CLASS_ID(6, 3), ": file is truncated: header "
                  "says 4 labels, found 3");
        unsigned char more[25];
        memcpy(more, pixels, 24);
        more[24] = 0;
        im = put_idx("im", gz, 3, image_dims, more, 25);
        idx_fails(im, NULL, im, NONE(6), ": unexpected data after 4 images");
        lb = put_idx("lb", gz, 1, label_dims, more, 5);
        im = put_idx("im", gz, 3, image_dims, pixels, 24);
        idx_fails(im, lb, lb, CLASS_ID(6, 3), ": unexpected data after 4 "
                  "labels");
        idx_fails(put("hdr", "\0\0\x08\x03\0\0\0\x04\0\0", 10, gz), NULL,
                  path_of("hdr"), NONE(6), ": file is truncated: the header "
                  "ends early");
    }
}
END_TEST

/* A gzip file cut in the middle of its compressed stream. */
START_TEST(test_idx_truncated_gzip_stream)
{
    static const uint32_t dims[3] = {1000, 28, 28};
    size_t len = 1000 * 784;
    unsigned char *data = malloc(len);
    ck_assert_ptr_nonnull(data);
    uint32_t r = 2463534242u; /* xorshift32: incompressible bytes */
    for (size_t i = 0; i < len; i++) {
        r ^= r << 13;
        r ^= r >> 17;
        r ^= r << 5;
        data[i] = (unsigned char)r;
    }
    const char *im = put_idx("im.gz", 1, 3, dims, data, len);
    free(data);
    FILE *f = fopen(im, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), 100000), 0);
    fclose(f);
    nnrt_dataset d;
    char err[256];
    nnrt_data_spec s = NONE(784);
    ck_assert_int_eq(nnrt_read_idx(im, NULL, &s, &d, err, sizeof err), -1);
    assert_empty(&d);
    ck_assert_msg(strstr(err, ": file is truncated: header says 1000 images, "
                         "found ") != NULL, "%s", err);
}
END_TEST

START_TEST(test_idx_bad_headers)
{
    nnrt_data_spec s = NONE(6);
    const char *p = put("csv", "Estudio,Edad\n", 13, 0);
    idx_fails(p, NULL, p, s, ": not an IDX file (it starts with 45 73 74 "
              "75, not 00 00 08 and a dimension count)");
    p = put("short", "\0\0\x08", 3, 1);
    idx_fails(p, NULL, p, s, ": not an IDX file (only 3 bytes long)");
    p = put("empty", "", 0, 0);
    idx_fails(p, NULL, p, s, ": not an IDX file (only 0 bytes long)");
    p = put("float", "\0\0\x0d\x03", 4, 0);
    idx_fails(p, NULL, p, s, ": IDX data type 0x0D (floats) is not "
              "supported, only 0x08 (unsigned bytes)");
    p = put("odd", "\0\0\x42\x03", 4, 0);
    idx_fails(p, NULL, p, s, ": IDX data type 0x42 (unknown) is not "
              "supported, only 0x08 (unsigned bytes)");
    p = put("dim0", "\0\0\x08\0", 4, 0);
    idx_fails(p, NULL, p, s, ": IDX files with 0 dimensions are not "
              "supported (1 to 8)");
    p = put("dim9", "\0\0\x08\x09", 4, 1);
    idx_fails(p, NULL, p, s, ": IDX files with 9 dimensions are not "
              "supported (1 to 8)");
    p = path_of("missing.gz");
    idx_fails(p, NULL, p, s, ": cannot open: No such file or directory");
    idx_fails(dir, NULL, dir, s, ": cannot read: Is a directory");

    /* The gzip magic, then garbage: zlib's own words in parentheses. */
    p = put("corrupt.gz", "\x1f\x8b\x08\0garbagegarbagegarbage", 25, 0);
    nnrt_dataset d;
    char err[256], want[256];
    ck_assert_int_eq(nnrt_read_idx(p, NULL, &s, &d, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot read: corrupt gzip data (", p);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
}
END_TEST

/* A header claiming 2^32 - 1 images must not allocate for them: the
 * reader grows its buffer only as data arrives (ASan would report an
 * allocation of terabytes). */
START_TEST(test_idx_huge_claims)
{
    static const uint32_t huge[3] = {0xFFFFFFFFu, 28, 28};
    const char *im = put_idx("huge", 1, 3, huge, pixels, 24);
    idx_fails(im, NULL, im, NONE(784), ": file is truncated: header says "
              "4294967295 images, found 0");
    static const uint32_t big[7] = {2, 0x10000, 0x10000, 0x10000, 0x10000,
                                    0x10000, 0x10000};
    im = put_idx("big", 0, 7, big, pixels, 24);
    idx_fails(im, NULL, im, NONE(784), ": images are too large (their "
              "dimensions' product overflows)");
    static const uint32_t wide[2] = {0xFFFFFFFFu, 0xFFFFFFFFu};
    im = put_idx("wide", 0, 2, wide, pixels, 24);
    idx_fails(im, NULL, im, NONE(0xFFFFFFFFu), ": too many values (4294967295 "
              "images of 4294967295 values each)");
}
END_TEST

Suite *data_suite(void)
{
    Suite *s = suite_create("data");

    TCase *tc = tcase_create("csv");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, dir_setup, NULL);
    tcase_add_test(tc, test_csv_grades_example);
    tcase_add_test(tc, test_csv_careers_example);
    tcase_add_test(tc, test_csv_no_header);
    tcase_add_test(tc, test_csv_shipped_good_files);
    tcase_add_test(tc, test_csv_separators);
    tcase_add_test(tc, test_csv_blank_lines_crlf_bom);
    tcase_add_test(tc, test_csv_quotes);
    tcase_add_test(tc, test_csv_one_hot);
    tcase_add_test(tc, test_csv_none_and_binary);
    tcase_add_test(tc, test_csv_long_line_and_many_rows);
    tcase_add_test(tc, test_csv_shipped_bad_files);
    tcase_add_test(tc, test_csv_column_counts);
    tcase_add_test(tc, test_csv_not_numbers);
    tcase_add_test(tc, test_csv_not_finite);
    tcase_add_test(tc, test_csv_bad_targets);
    tcase_add_test(tc, test_csv_file_level);
    tcase_add_test(tc, test_csv_bad_spec);
    tcase_add_test(tc, test_csv_short_err_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("idx");
    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, dir_setup, NULL);
    tcase_add_test(tc, test_idx_plain_and_gzip);
    tcase_add_test(tc, test_idx_flat_images_binary_labels);
    tcase_add_test(tc, test_idx_header_mismatches);
    tcase_add_test(tc, test_idx_truncated_and_trailing);
    tcase_add_test(tc, test_idx_truncated_gzip_stream);
    tcase_add_test(tc, test_idx_bad_headers);
    tcase_add_test(tc, test_idx_huge_claims);
    suite_add_tcase(s, tc);
    return s;
}
