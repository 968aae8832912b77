/*
 * fashion_data.h - Fashion-MNIST for the Fashion drivers (bench/fashion.c,
 * bench/fann_fashion.c): DIR/PREFIX-images-idx3-ubyte.gz and its labels.
 */
#ifndef FASHION_DATA_H
#define FASHION_DATA_H

#include <stdio.h>

#include "nnrt_data.h"

/* Reads set PREFIX ("train", "t10k") of DIR into d as spec says; on an
 * error prints "prog: ..." and returns -1. */
static int fashion_data(const char *prog, const char *dir, const char *prefix,
                        const nnrt_data_spec *spec, nnrt_dataset *d)
{
    char images[1024], labels[1024], err[512];
    snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    if (nnrt_read_idx(images, labels, spec, d, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return -1;
    }
    return 0;
}

#endif
