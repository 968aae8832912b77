/*
 * gen_seeds.c — writes the binary seed inputs of fuzz_safetensors and
 * fuzz_idx into tests/fuzz/corpus/ (`make fuzz-seeds`).  The text seeds
 * (.nn, CSV) are copies of examples and test files and need no generator.
 *
 * The safetensors seeds are written by the runtime itself, so they are
 * valid files the loader accepts (or rejects for one reason: a wrong
 * dtype, a missing tensor); the fuzzer mutates from there.  The IDX seeds
 * use fuzz_idx.c's layout: a 4-byte little-endian length of the images
 * file, the images file, then the labels file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnrt.h"

static void die(const char *what, const char *err)
{
	fprintf(stderr, "gen_seeds: %s: %s\n", what, err);
	exit(1);
}

static void save(const char *dir, const char *name, const nnrt_tensor *t,
                 size_t n)
{
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (nnrt_save_safetensors(path, t, n, err, sizeof err) != 0)
		die(path, err);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die(path, "cannot write");
}

/* An IDX file of unsigned bytes with the given dimensions; returns its
 * length in buf. */
static size_t idx_file(unsigned char *buf, const unsigned *dims, int ndim,
                       const unsigned char *data, size_t ndata)
{
	size_t k = 0;
	buf[k++] = 0;
	buf[k++] = 0;
	buf[k++] = 0x08;
	buf[k++] = (unsigned char)ndim;
	for (int i = 0; i < ndim; i++) {
		buf[k++] = (unsigned char)(dims[i] >> 24);
		buf[k++] = (unsigned char)(dims[i] >> 16);
		buf[k++] = (unsigned char)(dims[i] >> 8);
		buf[k++] = (unsigned char)dims[i];
	}
	memcpy(buf + k, data, ndata);
	return k + ndata;
}

/* gzip of src (a gzip stream, which gzread accepts, unlike raw zlib). */
static size_t gzip(unsigned char *dst, size_t cap, const unsigned char *src,
                   size_t n)
{
	z_stream z = {0};
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2", "failed");
	z.next_in = (unsigned char *)src;
	z.avail_in = (unsigned)n;
	z.next_out = dst;
	z.avail_out = (unsigned)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("deflate", "failed");
	size_t len = z.total_out;
	deflateEnd(&z);
	return len;
}

/* Writes one fuzz_idx input: images then labels, either maybe gzipped. */
static void idx_seed(const char *dir, const char *name,
                     const unsigned char *im, size_t nim,
                     const unsigned char *lb, size_t nlb, int gz)
{
	unsigned char a[4096], b[4096], out[8192];
	if (gz) {
		nim = gzip(a, sizeof a, im, nim);
		im = a;
		nlb = gzip(b, sizeof b, lb, nlb);
		lb = b;
	}
	out[0] = (unsigned char)nim;
	out[1] = (unsigned char)(nim >> 8);
	out[2] = out[3] = 0;
	memcpy(out + 4, im, nim);
	memcpy(out + 4 + nim, lb, nlb);
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	write_bytes(path, out, 4 + nim + nlb);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds tests/fuzz/corpus\n");
		return 2;
	}
	char st[512], idx[512];
	snprintf(st, sizeof st, "%s/safetensors", argv[1]);
	snprintf(idx, sizeof idx, "%s/idx", argv[1]);

	/* The tensors fuzz_safetensors.c expects. */
	float w[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
	double b[3] = {0.25, -0.5, 1e300};
	float s[1] = {42};
	nnrt_tensor t[3] = {
		{"dense_1.weight", NNRT_F32, 2, {2, 3}, w},
		{"dense_1.bias", NNRT_F64, 1, {3}, b},
		{"step", NNRT_F32, 0, {0}, s},
	};
	save(st, "valid_three.safetensors", t, 3);
	save(st, "valid_weight_only.safetensors", t, 1);
	nnrt_tensor wrong[2] = {t[0], t[1]};
	wrong[1].dtype = NNRT_F32;   /* bias stored as F32: a dtype mismatch */
	wrong[1].rank = 2;
	wrong[1].shape[0] = 1;
	wrong[1].shape[1] = 3;
	save(st, "wrong_dtype_shape.safetensors", wrong, 2);
	nnrt_tensor other = {"other", NNRT_F64, 4, {1, 1, 1, 3}, b};
	save(st, "other_name_rank4.safetensors", &other, 1);

	/* IDX: 3 images of 2x2 and 3 labels; 2 images of 2x3 (6 values). */
	unsigned char im[256], lb[64];
	static const unsigned char px[12] = {0, 255, 128, 7, 1, 2, 3, 4, 9, 8, 7, 6};
	static const unsigned char labels3[3] = {0, 2, 1};
	unsigned d22[3] = {3, 2, 2}, d23[3] = {2, 2, 3}, d3[1] = {3}, d2[1] = {2};
	size_t nim = idx_file(im, d22, 3, px, 12);
	size_t nlb = idx_file(lb, d3, 1, labels3, 3);
	idx_seed(idx, "images_2x2_labels.idx", im, nim, lb, nlb, 0);
	idx_seed(idx, "images_2x2_labels_gzip.idx", im, nim, lb, nlb, 1);
	nim = idx_file(im, d23, 3, px, 12);
	nlb = idx_file(lb, d2, 1, labels3, 2);
	idx_seed(idx, "images_2x3_labels.idx", im, nim, lb, nlb, 0);
	unsigned d4[2] = {3, 4};
	nim = idx_file(im, d4, 2, px, 12);
	nlb = idx_file(lb, d3, 1, labels3, 3);
	idx_seed(idx, "images_flat4_labels.idx", im, nim, lb, nlb, 0);
	return 0;
}
