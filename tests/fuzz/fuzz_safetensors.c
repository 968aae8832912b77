/*
 * fuzz_safetensors.c — libFuzzer target for the safetensors reader.
 *
 * The input is a file image handed to nnrt_load_safetensors_mem, which must
 * either load the expected tensors or fail with a message, never read out
 * of bounds or leave its destination half-written.  Two expected lists are
 * tried: three tensors of both dtypes and ranks 0, 1 and 2 (what a model's
 * weights look like), and a single one.  A failed load must leave every
 * destination as it was (nnrt.h's contract), which is checked too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FILL = 0x5a };

/* Fills every destination with FILL; returns 1 if they all still hold it. */
static int untouched(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != FILL)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	float w[2 * 3];
	double b[3];
	float s[1];
	nnrt_tensor t[3] = {
		{"dense_1.weight", NNRT_F32, 2, {2, 3}, w},
		{"dense_1.bias", NNRT_F64, 1, {3}, b},
		{"step", NNRT_F32, 0, {0}, s},
	};
	char err[256];

	memset(w, FILL, sizeof w);
	memset(b, FILL, sizeof b);
	memset(s, FILL, sizeof s);
	if (nnrt_load_safetensors_mem(data, size, "fuzz.safetensors", t, 3,
	                              err, sizeof err) != 0) {
		if (!untouched((unsigned char *)w, sizeof w) ||
		    !untouched((unsigned char *)b, sizeof b) ||
		    !untouched((unsigned char *)s, sizeof s) || !memchr(err, 0, sizeof err))
			abort();
	}

	memset(w, FILL, sizeof w);
	if (nnrt_load_safetensors_mem(data, size, "fuzz.safetensors", t, 1,
	                              err, sizeof err) != 0 &&
	    !untouched((unsigned char *)w, sizeof w))
		abort();

	/* A tiny error buffer: messages must be truncated, not overflowed. */
	char tiny[8];
	nnrt_load_safetensors_mem(data, size, "fuzz.safetensors", t, 3, tiny,
	                          sizeof tiny);
	return 0;
}
