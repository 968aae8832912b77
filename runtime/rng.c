/*
 * rng.c - PCG32 random numbers and what training draws from them: weight
 * initialisation, shuffling and gathering mini-batches.
 *
 * Every random choice in a generated program goes through nnrt_rng, so a
 * run is reproducible from its seed, and docs/RUNTIME.md specifies each
 * function down to the bit so the same numbers can be drawn elsewhere.
 * The contract of each public function is its comment in nnrt.h.
 */
#include "nnrt.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* The 64-bit LCG multiplier of pcg-c-basic (Knuth's MMIX constant). */
#define PCG_MULT 6364136223846793005ULL

uint32_t nnrt_rng_u32(nnrt_rng *r)
{
    uint64_t old = r->state;
    r->state = old * PCG_MULT + r->inc;
    /* XSH-RR: xorshift the high bits down, then rotate by the top 5 bits.
     * The output uses the old state, which lets the LCG step overlap. */
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

void nnrt_rng_seed(nnrt_rng *r, uint64_t seed, uint64_t stream)
{
    /* Exactly pcg32_srandom_r, so the reference test vectors apply. */
    r->state = 0;
    r->inc = (stream << 1) | 1u; /* the LCG increment must be odd */
    nnrt_rng_u32(r);
    r->state += seed;
    nnrt_rng_u32(r);
}

uint32_t nnrt_rng_below(nnrt_rng *r, uint32_t bound)
{
    assert(bound > 0);
    /* Lemire (2019): the high word of x*bound is uniform in [0, bound)
     * except for the few x whose low word falls below 2^32 mod bound;
     * reject those. The division only runs when rejection is possible. */
    uint64_t m = (uint64_t)nnrt_rng_u32(r) * bound;
    uint32_t low = (uint32_t)m;
    if (low < bound) {
        uint32_t threshold = (uint32_t)(-bound) % bound; /* 2^32 mod bound */
        while (low < threshold) {
            m = (uint64_t)nnrt_rng_u32(r) * bound;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float nnrt_rng_uniform_f32(nnrt_rng *r)
{
    /* 24 bits fill a float's significand, so every value is exact. */
    return (float)(nnrt_rng_u32(r) >> 8) * 0x1p-24f;
}

double nnrt_rng_uniform_f64(nnrt_rng *r)
{
    uint64_t hi = nnrt_rng_u32(r);
    uint64_t lo = nnrt_rng_u32(r);
    return (double)(((hi << 32) | lo) >> 11) * 0x1p-53;
}

/* Both variants compute limit * (2u - 1): 2u - 1 is exact in the working
 * precision and lies in [-1, 1 - ulp], so the product rounds into
 * [-limit, limit) and never reaches +limit. */
void nnrt_glorot_uniform_f32(float *w, size_t fan_in, size_t fan_out,
                             nnrt_rng *r)
{
    size_t n = fan_in * fan_out;
    if (n == 0)
        return;
    float limit = (float)sqrt(6.0 / ((double)fan_in + (double)fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = limit * (2.0f * nnrt_rng_uniform_f32(r) - 1.0f);
}

void nnrt_glorot_uniform_f64(double *w, size_t fan_in, size_t fan_out,
                             nnrt_rng *r)
{
    size_t n = fan_in * fan_out;
    if (n == 0)
        return;
    double limit = sqrt(6.0 / ((double)fan_in + (double)fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = limit * (2.0 * nnrt_rng_uniform_f64(r) - 1.0);
}

void nnrt_iota(size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
}

void nnrt_shuffle(size_t *idx, size_t n, nnrt_rng *r)
{
    assert(n <= UINT32_MAX);
    for (size_t i = n; i > 1; i--) {
        size_t j = nnrt_rng_below(r, (uint32_t)i); /* j in [0, i-1] */
        size_t tmp = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = tmp;
    }
}

void nnrt_gather_f32(float *dst, const float *src, const size_t *idx,
                     size_t count, size_t row)
{
    for (size_t b = 0; b < count; b++)
        memcpy(dst + b * row, src + idx[b] * row, row * sizeof *dst);
}

void nnrt_gather_f64(double *dst, const double *src, const size_t *idx,
                     size_t count, size_t row)
{
    for (size_t b = 0; b < count; b++)
        memcpy(dst + b * row, src + idx[b] * row, row * sizeof *dst);
}

void nnrt_prefetch_rows(const void *src, const size_t *idx, size_t count,
                        size_t row_bytes)
{
#if defined(__GNUC__) || defined(__clang__)
    const char *base = src;
    for (size_t b = 0; b < count; b++) {
        const char *row = base + idx[b] * row_bytes;
        for (size_t at = 0; at < row_bytes; at += 64)
            __builtin_prefetch(row + at, 0, 2);
        __builtin_prefetch(row + row_bytes - 1, 0, 2);
    }
#else
    (void)src, (void)idx, (void)count, (void)row_bytes;
#endif
}
