/*
 * predict.c — the deployment side of tests/infer/run.sh: runs a model built
 * with nnc build --infer-only on the rows of X.bin and writes its outputs.
 *
 *   predict X.bin Y.bin [W.safetensors]
 *
 * Compiled once per build, with the macros of make_weights.c and
 *   -DLOAD     the build has NAME_load and NAME_load_memory (no --weights):
 *              W is loaded with both, which must give the same outputs,
 *              after checking that a missing file gives -1, a broken image
 *              -2, and that a failed load changes nothing;
 *   -DCALLER   NAME_predict takes a scratch block (--scratch caller): it
 *              runs with two blocks, one filled with garbage first, which
 *              must give the same outputs.
 * Every build: predicting twice gives the same bytes, and (unless
 * -DBLAS: a BLAS may sum differently for another number of rows) so does
 * predicting row by row.  Exits 1 on a failed check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(suffix) CAT(MODEL, suffix)
#define CONST(suffix) CAT(MODEL_UPPER, suffix)

#define NIN CONST(_INPUT_SIZE)
#define NOUT CONST(_OUTPUT_SIZE)
#define SCRATCH CONST(_SCRATCH_BYTES)

enum { ROWS = 37 };

static int failures;

#define CHECK(cond, what)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                     \
			fprintf(stderr, "predict: %s\n", what);                        \
			failures++;                                                    \
		}                                                                  \
	} while (0)

#ifdef CALLER
/* Scratch blocks, aligned for double (and so for float). */
static double scratch1[SCRATCH / sizeof(double) + 1];
static double scratch2[SCRATCH / sizeof(double) + 1];
static void *scratch = scratch1;
#define PREDICT(x, n, y) FN(_predict)(x, n, y, scratch)
#else
#define PREDICT(x, n, y) FN(_predict)(x, n, y)
#endif

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16;
	unsigned char *buf = malloc(cap);
	*len = 0;
	while (f && buf) {
		*len += fread(buf + *len, 1, cap - *len, f);
		if (*len < cap)
			break;
		buf = realloc(buf, cap *= 2);
	}
	if (f)
		fclose(f);
	if (!f || !buf) {
		fprintf(stderr, "predict: cannot read %s\n", path);
		exit(1);
	}
	return buf;
}

int main(int argc, char **argv)
{
	static REAL y[ROWS * NOUT], again[ROWS * NOUT];
	size_t len;
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: predict X.bin Y.bin [W.safetensors]\n");
		return 2;
	}
	unsigned char *xbytes = read_all(argv[1], &len);
	if (len != sizeof(REAL) * ROWS * NIN) {
		fprintf(stderr, "predict: %s has %zu bytes, expected %zu\n", argv[1],
		        len, sizeof(REAL) * ROWS * NIN);
		return 1;
	}
	const REAL *x = (const REAL *)(void *)xbytes;
#ifdef LOAD
	if (argc != 4) {
		fprintf(stderr, "predict: this build loads its weights: give W\n");
		return 2;
	}
	unsigned char *w = read_all(argv[3], &len);
	CHECK(FN(_load)("no/such/file.safetensors") == -1, "missing file: not -1");
	CHECK(FN(_load_memory)(w, 7) == -2, "7-byte image: not -2");
	CHECK(FN(_load)(argv[3]) == 0, "load failed");
	PREDICT(x, ROWS, y);
	/* A broken image (the data cut short) is refused and changes nothing. */
	CHECK(FN(_load_memory)(w, len - 1) == -2, "truncated image: not -2");
	w[8] ^= 0x40;          /* the header's '{' becomes ';' */
	CHECK(FN(_load_memory)(w, len) == -2, "bad header: not -2");
	w[8] ^= 0x40;
	PREDICT(x, ROWS, again);
	CHECK(!memcmp(y, again, sizeof y), "a failed load changed the outputs");
	CHECK(FN(_load_memory)(w, len) == 0, "load_memory failed");
	PREDICT(x, ROWS, again);
	CHECK(!memcmp(y, again, sizeof y), "load and load_memory differ");
	free(w);
#else
	if (argc != 3) {
		fprintf(stderr, "predict: this build has its weights built in\n");
		return 2;
	}
	PREDICT(x, ROWS, y);
#endif
	PREDICT(x, ROWS, again);
	CHECK(!memcmp(y, again, sizeof y), "two runs differ");
#ifndef BLAS
	for (int i = 0; i < ROWS; i++)
		PREDICT(x + i * NIN, 1, again + i * NOUT);
	CHECK(!memcmp(y, again, sizeof y), "row by row differs");
#endif
#ifdef CALLER
	memset(scratch2, 0xff, sizeof scratch2);   /* NaNs everywhere */
	scratch = scratch2;
	PREDICT(x, ROWS, again);
	CHECK(!memcmp(y, again, sizeof y), "another scratch block differs");
#endif
	FILE *f = fopen(argv[2], "wb");
	if (!f || fwrite(y, 1, sizeof y, f) != sizeof y || fclose(f) != 0) {
		fprintf(stderr, "predict: cannot write %s\n", argv[2]);
		return 1;
	}
	free(xbytes);
	return failures ? 1 : 0;
}
