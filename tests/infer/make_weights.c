/*
 * make_weights.c — the reference side of tests/infer/run.sh: with the
 * training build of a model (nnc build), makes the weights and the
 * predictions that the inference-only build must reproduce.
 *
 *   make_weights W.safetensors X.bin Y.bin
 *
 * Creates the model with seed 7, adds a uniform in [-0.25, 0.25] to every
 * parameter (so that biases are not zero), saves the weights to W, writes
 * ROWS random input rows to X.bin and NAME_predict's outputs for them to
 * Y.bin (raw REALs, row-major).  Compiled once per build:
 *
 *   cc -std=c99 -DMODEL=grades -DMODEL_UPPER=GRADES -DREAL=float \
 *      -include DIR/grades.h -Iruntime make_weights.c DIR/grades.c \
 *      libnnrt.a -lcjson -lz -lm
 */
#include <stdio.h>
#include <stdlib.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(suffix) CAT(MODEL, suffix)
#define CONST(suffix) CAT(MODEL_UPPER, suffix)

#define NIN CONST(_INPUT_SIZE)
#define NOUT CONST(_OUTPUT_SIZE)
#define NPARAMS CONST(_PARAM_COUNT)

enum { ROWS = 37 };     /* not a multiple of any batch the tests use */

/* splitmix64: the same numbers everywhere. */
static unsigned long long state = 0x9e3779b97f4a7c15ULL;
static double uniform(double lo, double hi)
{
	unsigned long long z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return lo + (hi - lo) * (double)(z >> 11) * 0x1.0p-53;
}

static int write_all(const char *path, const void *p, size_t bytes)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(p, 1, bytes, f) == bytes;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok)
		fprintf(stderr, "make_weights: cannot write %s\n", path);
	return ok;
}

int main(int argc, char **argv)
{
	static REAL x[ROWS * NIN], y[ROWS * NOUT];
	char err[256];
	if (argc != 4) {
		fprintf(stderr, "usage: make_weights W.safetensors X.bin Y.bin\n");
		return 2;
	}
	MODEL *m = FN(_create)(7);
	if (!m)
		return 1;
	REAL *p = FN(_params)(m);
	for (int i = 0; i < NPARAMS; i++)
		p[i] += (REAL)uniform(-0.25, 0.25);
	if (FN(_save)(m, argv[1], err, sizeof err) != 0) {
		fprintf(stderr, "make_weights: %s\n", err);
		return 1;
	}
	for (int i = 0; i < ROWS * NIN; i++)
		x[i] = (REAL)uniform(-2, 2);
	FN(_predict)(m, x, ROWS, y);
	FN(_destroy)(m);
	return write_all(argv[2], x, sizeof x) && write_all(argv[3], y, sizeof y)
	       ? 0 : 1;
}
