/*
 * fuzz_idx.c — libFuzzer target for the IDX (MNIST format) reader.
 *
 * Input layout: a 4-byte little-endian length L, then L bytes of the
 * images file (fewer if the input is shorter), then the labels file.
 * Either file may be gzip-compressed.  The pair is read with several
 * specs (2x2 and 2x3 images, class ids, one-hot, values, images only).
 * Every read must return a whole dataset consistent with the spec, or fail
 * with an empty dataset and a message.
 */
#include "fuzz_file.h"

#include <stdint.h>
#include <string.h>

#include "nnrt_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const nnrt_data_spec specs[] = {
	{.nx = 4, .targets = NNRT_TARGETS_CLASS_ID, .ny = 1, .nclasses = 10},
	{.nx = 4, .targets = NNRT_TARGETS_ONE_HOT, .ny = 3, .nclasses = 3},
	{.nx = 6, .targets = NNRT_TARGETS_VALUES, .ny = 1},
	{.nx = 4, .targets = NNRT_TARGETS_NONE},
};

static FuzzFile images = {.fd = -1}, labels = {.fd = -1};

/* Where the sum of every value read goes, so the reads are not optimized
 * away. */
static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	size_t len = (size_t)data[0] | (size_t)data[1] << 8 |
	             (size_t)data[2] << 16 | (size_t)data[3] << 24;
	data += 4;
	size -= 4;
	if (len > size)
		len = size;
	const char *ip = fuzz_file_set(&images, data, len);
	const char *lp = fuzz_file_set(&labels, data + len, size - len);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		const nnrt_data_spec *s = &specs[i];
		nnrt_dataset ds;
		char err[256];
		memset(&ds, 0xa5, sizeof ds);
		const char *l = s->targets == NNRT_TARGETS_NONE ? NULL : lp;
		if (nnrt_read_idx(ip, l, s, &ds, err, sizeof err) == 0) {
			size_t ny = s->targets == NNRT_TARGETS_NONE ? 0 : s->ny;
			if (ds.nx != s->nx || ds.ny != ny || !ds.x || (ny && !ds.y))
				abort();
			float sum = 0;
			for (size_t k = 0; k < ds.n * ds.nx; k++)
				sum += ds.x[k];
			for (size_t k = 0; k < ds.n * ds.ny; k++)
				sum += ds.y[k];
			sink = sum;
		} else if (ds.n != 0 || ds.x || ds.y || !memchr(err, 0, sizeof err)) {
			abort();
		}
		nnrt_dataset_free(&ds);
	}
	return 0;
}
