/*
 * compare.c — tests/infer/run.sh's comparison within a tolerance:
 *
 *   compare A.bin B.bin f32|f64 TOL [ROW]
 *
 * Both files hold the same number of reals; each pair must satisfy
 * |a - b| <= TOL * max(|a|, |b|) (relative), or both be NaN.  With ROW,
 * the scale is rather the largest magnitude in the row of ROW values of
 * A and B the pair is in (for outputs like softmax probabilities, whose
 * tiny values carry the absolute error of their logits).  Prints the
 * largest relative difference; exits 1 if a pair is farther apart.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double *read_reals(const char *path, int f64, size_t *n)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1024, len = 0, elem = f64 ? 8 : 4;
	double *v = malloc(cap * sizeof *v);
	unsigned char b[8];
	while (f && v && fread(b, 1, elem, f) == elem) {
		if (len == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		if (f64) {
			double d;
			memcpy(&d, b, 8);
			v[len++] = d;
		} else {
			float s;
			memcpy(&s, b, 4);
			v[len++] = s;
		}
	}
	if (!f || !v) {
		fprintf(stderr, "compare: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	*n = len;
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: compare A.bin B.bin f32|f64 TOL [ROW]\n");
		return 2;
	}
	size_t row = argc == 6 ? (size_t)atol(argv[5]) : 0;
	int f64 = !strcmp(argv[3], "f64");
	double tol = atof(argv[4]), worst = 0;
	size_t na, nb, bad = 0;
	double *a = read_reals(argv[1], f64, &na), *b = read_reals(argv[2], f64, &nb);
	if (na != nb || na == 0) {
		fprintf(stderr, "compare: %zu values against %zu\n", na, nb);
		free(a);
		free(b);
		return 1;
	}
	for (size_t i = 0; i < na; i++) {
		if (isnan(a[i]) && isnan(b[i]))
			continue;
		double scale = fmax(fabs(a[i]), fabs(b[i]));
		for (size_t j = i - i % (row ? row : 1); row && j < i - i % row + row &&
		     j < na; j++)
			scale = fmax(scale, fmax(fabs(a[j]), fabs(b[j])));
		double rel = scale > 0 ? fabs(a[i] - b[i]) / scale : 0;
		if (!(rel <= tol)) {
			if (bad++ < 5)
				fprintf(stderr, "compare: value %zu: %.9g against %.9g\n", i,
				        a[i], b[i]);
		}
		if (rel > worst || isnan(rel))
			worst = rel;
	}
	printf("largest relative difference %.3g over %zu values\n", worst, na);
	free(a);
	free(b);
	return bad ? 1 : 0;
}
