/*
 * fuzz_csv.c — libFuzzer target for the CSV/TSV reader.
 *
 * The input is a data file; it is read with several specs (regression,
 * binary targets, class ids, one-hot, inputs only), as a trainer reads
 * training and prediction data.  Every read must return a whole dataset
 * whose sizes agree with the spec, or fail with an empty dataset and a
 * message; nothing may crash or leak.
 */
#include "fuzz_file.h"

#include <stdint.h>
#include <string.h>

#include "nnrt_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const nnrt_data_spec specs[] = {
	{.nx = 2, .targets = NNRT_TARGETS_VALUES, .ny = 1},
	{.nx = 1, .targets = NNRT_TARGETS_VALUES, .ny = 2, .binary = 1},
	{.nx = 3, .targets = NNRT_TARGETS_CLASS_ID, .ny = 1, .nclasses = 3},
	{.nx = 2, .targets = NNRT_TARGETS_ONE_HOT, .ny = 4, .nclasses = 4},
	{.nx = 3, .targets = NNRT_TARGETS_NONE},
};

static FuzzFile file = {.fd = -1};

/* Where the sum of every value read goes, so the reads are not optimized
 * away. */
static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file_set(&file, data, size);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		const nnrt_data_spec *s = &specs[i];
		nnrt_dataset ds;
		char err[256];
		memset(&ds, 0xa5, sizeof ds);   /* must be overwritten either way */
		if (nnrt_read_csv(path, s, &ds, err, sizeof err) == 0) {
			size_t ny = s->targets == NNRT_TARGETS_NONE ? 0 : s->ny;
			if (ds.nx != s->nx || ds.ny != ny || ds.n == 0 || !ds.x ||
			    (ny && !ds.y))
				abort();
			/* Touch every value so ASan checks the sizes. */
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
		nnrt_dataset_free(&ds);          /* twice is harmless */
	}
	return 0;
}
