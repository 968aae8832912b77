/*
 * test_runtime.c - Check suite for the runtime library (runtime/nnrt.h).
 *
 * Pins everything generated programs rely on being exact: the PCG32
 * sequence against O'Neill's reference vectors, the bit-level definition
 * of the derived draws, GEMM against naive loops on both the BLAS and the
 * plain C path, and safetensors I/O including the exact message for every
 * kind of malformed file. Files are written only under one mkdtemp
 * directory in /tmp, created and removed around each test case.
 * Exports runtime_suite(); the runner is tests/unit/main.c.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw, getpid */
#endif

#include "nnrt.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

Suite *runtime_suite(void);

/* First outputs of the pcg32 demo, pcg32_srandom_r(&rng, 42, 54). */
static const uint32_t pcg_ref[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                    0x83d2f293, 0xbfa4784b, 0xcbed606e};

/* --------------------------------------------------------------- rng */

START_TEST(test_pcg32_reference)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 42, 54);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(nnrt_rng_u32(&r), pcg_ref[i]);
}
END_TEST

START_TEST(test_rng_streams_differ)
{
    nnrt_rng a, b, c;
    nnrt_rng_seed(&a, 7, 1);
    nnrt_rng_seed(&b, 7, 2);
    nnrt_rng_seed(&c, 7, 1);
    int same_ab = 1;
    for (int i = 0; i < 8; i++) {
        uint32_t x = nnrt_rng_u32(&a);
        same_ab &= x == nnrt_rng_u32(&b);
        ck_assert_uint_eq(x, nnrt_rng_u32(&c));
    }
    ck_assert(!same_ab);
}
END_TEST

/* below(6) is the high word of u32 * 6 unless the low word is under
 * 2^32 mod 6 = 4, which none of the reference outputs hits. */
START_TEST(test_rng_below_reference)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 42, 54);
    for (int i = 0; i < 6; i++) {
        uint64_t m = (uint64_t)pcg_ref[i] * 6;
        ck_assert_uint_ge((uint32_t)m, 4);
        ck_assert_uint_eq(nnrt_rng_below(&r, 6), m >> 32);
    }
}
END_TEST

START_TEST(test_rng_below_bounds)
{
    static const uint32_t bounds[] = {1, 2, 3, 7, 10, 1000, 0x80000001u,
                                      UINT32_MAX};
    nnrt_rng r;
    nnrt_rng_seed(&r, 1, 0);
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
        for (int i = 0; i < 20000; i++)
            ck_assert_uint_lt(nnrt_rng_below(&r, bounds[b]), bounds[b]);
}
END_TEST

/* Chi-square over 10 bins: 100000 draws, df = 9, and 27.9 is the 0.001
 * critical value; the seed is fixed, so this never flakes. */
START_TEST(test_rng_below_uniform)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 2024, 3);
    int count[10] = {0};
    for (int i = 0; i < 100000; i++)
        count[nnrt_rng_below(&r, 10)]++;
    double chi2 = 0;
    for (int k = 0; k < 10; k++)
        chi2 += (count[k] - 10000.0) * (count[k] - 10000.0) / 10000.0;
    ck_assert_double_lt(chi2, 27.9);
}
END_TEST

/* With bound 2^31 + 1, plain modulo would make values below 2^31 - 1
 * twice as likely as the rest; unbiased draws split about evenly. */
START_TEST(test_rng_below_large_bound_unbiased)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 99, 5);
    const uint32_t bound = 0x80000001u;
    int low = 0;
    for (int i = 0; i < 100000; i++)
        low += nnrt_rng_below(&r, bound) < bound / 2;
    ck_assert_int_gt(low, 49000);
    ck_assert_int_lt(low, 51000);
}
END_TEST

/* With bound 3 * 2^30, multiply-and-shift without Lemire's rejection
 * gives every value divisible by 3 two preimages and the others one,
 * so such values would come up half the time instead of a third. */
START_TEST(test_rng_below_rejection)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 100, 7);
    int div3 = 0;
    for (int i = 0; i < 90000; i++)
        div3 += nnrt_rng_below(&r, 0xC0000000u) % 3 == 0;
    ck_assert_int_gt(div3, 29000);
    ck_assert_int_lt(div3, 31000);
}
END_TEST

START_TEST(test_uniform_reference)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 42, 54);
    float f = (float)(pcg_ref[0] >> 8) * 0x1p-24f;
    ck_assert(nnrt_rng_uniform_f32(&r) == f);
    uint64_t bits = (((uint64_t)pcg_ref[1] << 32) | pcg_ref[2]) >> 11;
    ck_assert(nnrt_rng_uniform_f64(&r) == (double)bits * 0x1p-53);
}
END_TEST

START_TEST(test_uniform_range)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 5, 5);
    double sum32 = 0, sum64 = 0;
    for (int i = 0; i < 100000; i++) {
        float f = nnrt_rng_uniform_f32(&r);
        double d = nnrt_rng_uniform_f64(&r);
        ck_assert(f >= 0.0f && f < 1.0f);
        ck_assert(d >= 0.0 && d < 1.0);
        sum32 += f;
        sum64 += d;
    }
    ck_assert_double_eq_tol(sum32 / 100000, 0.5, 0.005);
    ck_assert_double_eq_tol(sum64 / 100000, 0.5, 0.005);
}
END_TEST

/* -------------------------------------------------------- initialisers */

START_TEST(test_glorot_f32)
{
    enum { FI = 100, FO = 50, N = FI * FO };
    static float w[N], w2[N];
    nnrt_rng r;
    nnrt_rng_seed(&r, 3, 0);
    nnrt_glorot_uniform_f32(w, FI, FO, &r);
    double limit = sqrt(6.0 / (FI + FO)), sum = 0, sq = 0;
    float lo = 1, hi = -1;
    for (int i = 0; i < N; i++) {
        ck_assert(w[i] >= -(float)limit && w[i] < (float)limit);
        sum += w[i];
        sq += (double)w[i] * w[i];
        lo = w[i] < lo ? w[i] : lo;
        hi = w[i] > hi ? w[i] : hi;
    }
    /* Mean 0 and variance limit^2/3 of U(-limit, limit); extremes near
     * the ends show the scale is right, not just the sign. */
    ck_assert_double_lt(fabs(sum / N), 0.02 * limit);
    double var = limit * limit / 3;
    ck_assert_double_eq_tol(sq / N, var, 0.05 * var);
    ck_assert_double_lt(lo, -0.99 * limit);
    ck_assert_double_gt(hi, 0.99 * limit);
    nnrt_rng_seed(&r, 3, 0);
    nnrt_glorot_uniform_f32(w2, FI, FO, &r);
    ck_assert_mem_eq(w, w2, sizeof w);
}
END_TEST

START_TEST(test_glorot_f64)
{
    enum { FI = 30, FO = 200, N = FI * FO };
    static double w[N];
    nnrt_rng r;
    nnrt_rng_seed(&r, 4, 0);
    nnrt_glorot_uniform_f64(w, FI, FO, &r);
    double limit = sqrt(6.0 / (FI + FO)), sum = 0, sq = 0;
    for (int i = 0; i < N; i++) {
        ck_assert(w[i] >= -limit && w[i] < limit);
        sum += w[i];
        sq += w[i] * w[i];
    }
    ck_assert_double_lt(fabs(sum / N), 0.02 * limit);
    double var = limit * limit / 3;
    ck_assert_double_eq_tol(sq / N, var, 0.05 * var);
    /* One uniform_f64 per value, in order: the documented contract. */
    nnrt_rng_seed(&r, 4, 0);
    ck_assert(w[0] == limit * (2.0 * nnrt_rng_uniform_f64(&r) - 1.0));
}
END_TEST

/* ----------------------------------------------------------- batching */

START_TEST(test_shuffle_permutation)
{
    enum { N = 1000 };
    size_t a[N], b[N];
    int hits[N] = {0};
    nnrt_rng r;
    nnrt_iota(a, N);
    for (size_t i = 0; i < N; i++)
        ck_assert_uint_eq(a[i], i);
    nnrt_rng_seed(&r, 11, 0);
    nnrt_shuffle(a, N, &r);
    size_t fixed = 0;
    for (size_t i = 0; i < N; i++) {
        ck_assert_uint_lt(a[i], N);
        hits[a[i]]++;
        fixed += a[i] == i;
    }
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(hits[i], 1);
    ck_assert_uint_lt(fixed, 10); /* a shuffle, not the identity */

    nnrt_iota(b, N);
    nnrt_rng_seed(&r, 11, 0);
    nnrt_shuffle(b, N, &r);
    ck_assert_mem_eq(a, b, sizeof a);
    nnrt_iota(b, N);
    nnrt_rng_seed(&r, 12, 0);
    nnrt_shuffle(b, N, &r);
    ck_assert(memcmp(a, b, sizeof a) != 0);
}
END_TEST

/* All 6 orders of 3 items appear about equally often. */
START_TEST(test_shuffle_uniform)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 8, 8);
    int count[6] = {0};
    for (int t = 0; t < 60000; t++) {
        size_t p[3];
        nnrt_iota(p, 3);
        nnrt_shuffle(p, 3, &r);
        count[p[0] * 2 + (p[1] > p[2])]++;
    }
    for (int k = 0; k < 6; k++)
        ck_assert_int_lt(abs(count[k] - 10000), 500);
}
END_TEST

START_TEST(test_shuffle_small)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 1, 1);
    size_t one = 0;
    nnrt_shuffle(NULL, 0, &r);
    nnrt_shuffle(&one, 1, &r);
    ck_assert_uint_eq(one, 0);
}
END_TEST

START_TEST(test_gather)
{
    const float src32[4 * 3] = {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32};
    const double src64[4 * 2] = {0, 1, 10, 11, 20, 21, 30, 31};
    const size_t idx[3] = {3, 0, 3};
    float d32[3 * 3];
    double d64[3 * 2];
    nnrt_gather_f32(d32, src32, idx, 3, 3);
    nnrt_gather_f64(d64, src64, idx, 3, 2);
    const float e32[9] = {30, 31, 32, 0, 1, 2, 30, 31, 32};
    const double e64[6] = {30, 31, 0, 1, 30, 31};
    ck_assert_mem_eq(d32, e32, sizeof e32);
    ck_assert_mem_eq(d64, e64, sizeof e64);
}
END_TEST

/* --------------------------------------------------------------- gemm */

typedef void SGemm(int, int, int, int, int, float, const float *, int,
                   const float *, int, float, float *, int);
typedef void DGemm(int, int, int, int, int, double, const double *, int,
                   const double *, int, double, double *, int);
/* Loop index 0 tests the public entry (BLAS, or the loops under
 * -DNNRT_NO_BLAS), index 1 the plain C loops directly. */
static SGemm *const sgemms[2] = {nnrt_sgemm, nnrt_sgemm_ref};
static DGemm *const dgemms[2] = {nnrt_dgemm, nnrt_dgemm_ref};

/* C = alpha*op(A)*op(B) + beta*C by the definition, in double, reading
 * A and B through the same row-major strides the callee gets. */
static void naive_gemm(int ta, int tb, int m, int n, int k, double alpha,
                       const double *a, int lda, const double *b, int ldb,
                       double beta, double *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (ta ? a[p * lda + i] : a[i * lda + p]) *
                     (tb ? b[j * ldb + p] : b[p * ldb + j]);
            double old = beta == 0 ? 0 : c[i * ldc + j];
            c[i * ldc + j] = alpha * s + beta * old;
        }
}

/* Runs one product in f32 and f64 against naive_gemm. Leading
 * dimensions are padded by 3 so strides are really used; the padding of
 * C must survive untouched. */
static void check_gemm(int impl, int ta, int tb, int m, int n, int k,
                       double alpha, double beta, nnrt_rng *r)
{
    int ar = ta ? k : m, ac = ta ? m : k; /* A as stored */
    int br = tb ? n : k, bc = tb ? k : n;
    int lda = ac + 3, ldb = bc + 3, ldc = n + 3;
    size_t na = (size_t)ar * lda, nb = (size_t)br * ldb, nc = (size_t)m * ldc;
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    double *c = malloc(nc * sizeof *c), *cd = malloc(nc * sizeof *c);
    float *af = malloc(na * sizeof *af), *bf = malloc(nb * sizeof *bf);
    float *cf = malloc(nc * sizeof *cf);
    ck_assert(a && b && c && cd && af && bf && cf);
    /* Values on a 1/8 grid are exact in float, so both precisions see
     * the same inputs and differ only by rounding in the product. */
    for (size_t i = 0; i < na; i++)
        af[i] = (float)(a[i] = (double)nnrt_rng_below(r, 33) / 8 - 2);
    for (size_t i = 0; i < nb; i++)
        bf[i] = (float)(b[i] = (double)nnrt_rng_below(r, 33) / 8 - 2);
    for (size_t i = 0; i < nc; i++)
        cf[i] = (float)(cd[i] = c[i] = (double)nnrt_rng_below(r, 33) / 8 - 2);

    naive_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    sgemms[impl](ta, tb, m, n, k, (float)alpha, af, lda, bf, ldb,
                 (float)beta, cf, ldc);
    dgemms[impl](ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cd, ldc);
    double scale = 4.0 * k * fabs(alpha) + 2.0 * fabs(beta) + 1;
    for (size_t i = 0; i < nc; i++) {
        ck_assert_msg(fabs(cf[i] - c[i]) <= 1e-6 * scale,
                      "sgemm impl %d ta %d tb %d: c[%zu] = %g, want %g",
                      impl, ta, tb, i, cf[i], c[i]);
        ck_assert_msg(fabs(cd[i] - c[i]) <= 1e-13 * scale,
                      "dgemm impl %d ta %d tb %d: c[%zu] = %g, want %g",
                      impl, ta, tb, i, cd[i], c[i]);
    }
    free(a), free(b), free(c), free(cd), free(af), free(bf), free(cf);
}

START_TEST(test_gemm_transposes)
{
    static const double ab[][2] = {{1, 0}, {1, 1}, {0.5, 0.25}, {-2, -1}};
    nnrt_rng r;
    nnrt_rng_seed(&r, 17, _i);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t s = 0; s < sizeof ab / sizeof ab[0]; s++) {
                check_gemm(_i, ta, tb, 5, 7, 3, ab[s][0], ab[s][1], &r);
                check_gemm(_i, ta, tb, 1, 4, 9, ab[s][0], ab[s][1], &r);
                check_gemm(_i, ta, tb, 6, 1, 1, ab[s][0], ab[s][1], &r);
            }
}
END_TEST

/* Big enough for OpenBLAS to take its blocked, threaded kernels. */
START_TEST(test_gemm_large)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 18, _i);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            check_gemm(_i, ta, tb, 67, 45, 129, 0.75, 0.5, &r);
}
END_TEST

/* Big enough for nnrt_?gemm to split C over the runtime's threads: by
 * columns, by rows when A is transposed or C has fewer than 32 columns,
 * a single row (GEMV) by columns, and not at all when both are short. */
START_TEST(test_gemm_split)
{
    nnrt_rng r;
    nnrt_rng_seed(&r, 19, _i);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_gemm(_i, ta, tb, 67, 150, 40, 1, 1, &r);
            check_gemm(_i, ta, tb, 1, 300, 400, 0.5, 0, &r);
            check_gemm(_i, ta, tb, 200, 20, 30, -1, 0.25, &r);
            check_gemm(_i, ta, tb, 20, 20, 300, 1, 0, &r);
            check_gemm(_i, ta, tb, 33, 33, 100, 2, 1, &r);
        }
}
END_TEST

/* Which products the pool splits, counted by nnrt_pool_stats_get: one
 * job each for a large product and a large single row (GEMV), none for a
 * small one. */
START_TEST(test_gemm_split_jobs)
{
#ifndef NNRT_NO_BLAS
    enum { M = 67, N = 300, K = 400 };
    float *a = calloc((size_t)M * K, sizeof *a), *b = calloc((size_t)K * N, sizeof *b);
    float *c = calloc((size_t)M * N, sizeof *c);
    ck_assert(a && b && c);
    const unsigned long split = nnrt_num_threads() > 1;
    nnrt_pool_stats s0, s1, s2, s3;
    nnrt_pool_stats_get(&s0);
    nnrt_sgemm(0, 0, 1, N, K, 1, a, K, b, N, 0, c, N); /* 120,000 MACs, one row */
    nnrt_pool_stats_get(&s1);
    nnrt_sgemm(0, 0, M, N, K, 1, a, K, b, N, 0, c, N);
    nnrt_pool_stats_get(&s2);
    nnrt_sgemm(0, 0, 2, N, 100, 1, a, 100, b, N, 0, c, N); /* 60,000 MACs */
    nnrt_pool_stats_get(&s3);
    ck_assert_uint_eq(s1.jobs, s0.jobs + split);
    ck_assert_uint_eq(s2.jobs, s1.jobs + split);
    ck_assert_uint_eq(s3.jobs, s2.jobs);
    free(a), free(b), free(c);
#endif
}
END_TEST

/* beta == 0 must overwrite C, and alpha == 0 or k == 0 must not read A
 * or B: NaN planted there must not reach the result. */
START_TEST(test_gemm_nan_semantics)
{
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, c[4];
    double ad[6] = {1, 2, 3, 4, 5, 6}, bd[6] = {1, 0, 0, 1, 1, 1}, cd[4];
    for (int i = 0; i < 4; i++)
        c[i] = NAN, cd[i] = NAN;
    sgemms[_i](0, 0, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
    dgemms[_i](0, 0, 2, 2, 3, 1, ad, 3, bd, 2, 0, cd, 2);
    const float want[4] = {4, 5, 10, 11};
    for (int i = 0; i < 4; i++) {
        ck_assert(c[i] == want[i]);
        ck_assert(cd[i] == want[i]);
    }
    a[0] = NAN, ad[0] = NAN;
    sgemms[_i](0, 0, 2, 2, 3, 0, a, 3, b, 2, 2, c, 2);
    dgemms[_i](0, 0, 2, 2, 3, 0, ad, 3, bd, 2, 2, cd, 2);
    for (int i = 0; i < 4; i++) {
        ck_assert(c[i] == 2 * want[i]);
        ck_assert(cd[i] == 2 * want[i]);
    }
    sgemms[_i](0, 0, 2, 2, 0, 1, a, 0, b, 2, 0.5f, c, 2);
    dgemms[_i](0, 0, 2, 2, 0, 1, ad, 0, bd, 2, 0.5, cd, 2);
    for (int i = 0; i < 4; i++) {
        ck_assert(c[i] == want[i]);
        ck_assert(cd[i] == want[i]);
    }
    /* a single row takes the GEMV path: the same contract */
    a[0] = 1, ad[0] = 1;
    for (int i = 0; i < 2; i++)
        c[i] = NAN, cd[i] = NAN;
    sgemms[_i](0, 0, 1, 2, 3, 1, a, 3, b, 2, 0, c, 2);
    dgemms[_i](0, 0, 1, 2, 3, 1, ad, 3, bd, 2, 0, cd, 2);
    ck_assert(c[0] == 4 && c[1] == 5);
    ck_assert(cd[0] == 4 && cd[1] == 5);
}
END_TEST

/* The OpenBLAS core a program restarts with: only away from a generic
 * fallback, and only to kernels the CPU can run. */
START_TEST(test_blas_core_for)
{
    ck_assert_str_eq(nnrt_blas_core_for("Prescott", 1, 1), "SkylakeX");
    ck_assert_str_eq(nnrt_blas_core_for("Prescott", 1, 0), "Haswell");
    ck_assert_str_eq(nnrt_blas_core_for("NEHALEM", 1, 0), "Haswell");
    ck_assert_str_eq(nnrt_blas_core_for("Sandybridge", 1, 1), "SkylakeX");
    ck_assert_ptr_null(nnrt_blas_core_for("Prescott", 0, 0));
    ck_assert_ptr_null(nnrt_blas_core_for("SkylakeX", 1, 1));
    ck_assert_ptr_null(nnrt_blas_core_for("Cooperlake", 1, 1));
    ck_assert_ptr_null(nnrt_blas_core_for("Haswell", 1, 1));
    ck_assert_ptr_null(nnrt_blas_core_for("Zen", 1, 0));
    ck_assert_ptr_null(nnrt_blas_core_for(NULL, 1, 1));
}
END_TEST

/* --------------------------------------------------------------- pool */

START_TEST(test_part_bounds)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 32768, 235146, 1000003};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (int parts = 1; parts <= 7; parts++) {
            size_t next = 0;
            for (int t = 0; t < parts; t++) {
                size_t lo, hi;
                nnrt_part(sizes[s], parts, t, 16, &lo, &hi);
                ck_assert_uint_eq(lo, next); /* contiguous, in order */
                ck_assert_uint_le(lo, hi);
                if (t < parts - 1)
                    ck_assert_uint_eq(hi % 16, 0);
                next = hi;
            }
            ck_assert_uint_eq(next, sizes[s]); /* covers [0, n) */
        }
    }
    size_t lo, hi;
    nnrt_part(10, 3, 1, 0, &lo, &hi); /* align 0 is 1 */
    ck_assert_uint_eq(lo, 3);
    ck_assert_uint_eq(hi, 6);
    /* equal shares, rounded down to 16 */
    nnrt_part(235146, 2, 0, 16, &lo, &hi);
    ck_assert_uint_eq(hi, 117568);
    nnrt_part(235146, 2, 1, 16, &lo, &hi);
    ck_assert_uint_eq(lo, 117568);
    ck_assert_uint_eq(hi, 235146);
}
END_TEST

START_TEST(test_threads_wanted)
{
    ck_assert_int_eq(nnrt_threads_wanted(NULL, 2), 2);
    ck_assert_int_eq(nnrt_threads_wanted("", 4), 4);
    ck_assert_int_eq(nnrt_threads_wanted("1", 8), 1);
    ck_assert_int_eq(nnrt_threads_wanted("3", 2), 3);
    ck_assert_int_eq(nnrt_threads_wanted("0", 2), 1);
    ck_assert_int_eq(nnrt_threads_wanted("-5", 2), 1);
    ck_assert_int_eq(nnrt_threads_wanted("two", 2), 2);
    ck_assert_int_eq(nnrt_threads_wanted("2x", 6), 6);
    ck_assert_int_eq(nnrt_threads_wanted("1000", 2), NNRT_MAX_THREADS);
    ck_assert_int_eq(nnrt_threads_wanted(NULL, -1), 1); /* sysconf failed */
    ck_assert_int_eq(nnrt_threads_wanted(NULL, 500), NNRT_MAX_THREADS);
}
END_TEST

/* A job that counts how often each element is visited and how many
 * parts there were. */
typedef struct visit_job {
    unsigned char *seen;
    int parts;
    size_t nested; /* > 0: each part also runs a nested loop this long */
} visit_job;

static void visit(void *ctx, size_t lo, size_t hi)
{
    visit_job *v = ctx;
    for (size_t i = lo; i < hi; i++)
        v->seen[i]++;
    __atomic_fetch_add(&v->parts, 1, __ATOMIC_RELAXED);
    if (v->nested) {
        visit_job inner = {v->seen + lo, 0, 0};
        nnrt_parallel_for(visit, &inner, v->nested < hi - lo ? v->nested : hi - lo);
        ck_assert_int_eq(inner.parts, 1); /* not split: runs inline */
    }
}

static void check_visits(size_t n, size_t nested, int want_parts)
{
    unsigned char *seen = calloc(n ? n : 1, 1);
    ck_assert_ptr_nonnull(seen);
    visit_job v = {seen, 0, nested};
    for (int round = 1; round <= 3; round++) { /* the pool is reused */
        v.parts = 0;
        nnrt_parallel_for(visit, &v, n);
        ck_assert_int_eq(v.parts, want_parts);
        for (size_t i = 0; i < n; i++) {
            /* nested loops visit the first elements of a part again */
            if (!nested)
                ck_assert_uint_eq(seen[i], round);
        }
    }
    free(seen);
}

START_TEST(test_parallel_for_splits)
{
    const int threads = nnrt_num_threads();
    ck_assert_int_ge(threads, 1);
    ck_assert_int_le(threads, NNRT_MAX_THREADS);
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1 && !getenv("NNRT_NUM_THREADS"))
        ck_assert_int_gt(threads, 1);
    check_visits(235146, 0, threads);
    check_visits(32768, 0, threads);
    check_visits(32767, 0, 1); /* too short to split */
    check_visits(0, 0, 1);
    check_visits(100000, 1000, threads);
}
END_TEST

/* A child of fork() has no workers: its loops must run, alone. */
START_TEST(test_parallel_for_after_fork)
{
    check_visits(100000, 0, nnrt_num_threads()); /* the pool is running */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        unsigned char *seen = calloc(100000, 1);
        visit_job v = {seen, 0, 0};
        alarm(10); /* a wait for missing workers would hang */
        nnrt_parallel_for(visit, &v, 100000);
        _exit(seen && v.parts == 1 && seen[0] == 1 && seen[99999] == 1 ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* The pool's threads (named nnrt-pool) block SIGINT, so that a program's
 * handler runs on one of its own threads. */
START_TEST(test_pool_blocks_signals)
{
    if (nnrt_num_threads() == 1)
        return; /* no workers on this machine */
    /* A job waits for every worker, so each has started (and named
     * itself) by the time it returns. */
    check_visits(100000, 0, nnrt_num_threads());
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL)
        return; /* not Linux */
    int workers = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[320], line[256], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(comm, sizeof comm, f) == NULL)
            comm[0] = '\0';
        fclose(f);
        if (strcmp(comm, "nnrt-pool\n") != 0)
            continue;
        workers++;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        unsigned long long blocked = 0;
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "SigBlk: %llx", &blocked) == 1)
                break;
        fclose(f);
        ck_assert_msg(blocked & (1ull << (SIGINT - 1)),
                      "worker %s does not block SIGINT", e->d_name);
    }
    closedir(dir);
    ck_assert_int_eq(workers, nnrt_num_threads() - 1);
}
END_TEST

START_TEST(test_parallel_zero)
{
    const size_t n = 100003;
    double *d = malloc(n * sizeof *d);
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < n; i++)
        d[i] = 1.5;
    nnrt_parallel_zero(d, n - 1, sizeof *d);
    for (size_t i = 0; i + 1 < n; i++)
        ck_assert(d[i] == 0);
    ck_assert(d[n - 1] == 1.5);
    free(d);
}
END_TEST

/* Each split loop counts one job, with the time of its parts; loops that
 * are not split count nothing. */
START_TEST(test_pool_stats)
{
    nnrt_pool_stats a, b, c;
    nnrt_pool_stats_get(&a);
    check_visits(100000, 0, nnrt_num_threads()); /* three split loops */
    nnrt_pool_stats_get(&b);
    check_visits(1000, 0, 1); /* three loops too short to split */
    nnrt_pool_stats_get(&c);
    if (nnrt_num_threads() == 1) {
        ck_assert_uint_eq(b.jobs, a.jobs);
        ck_assert(b.own_s == a.own_s && b.others_s == a.others_s);
    } else {
        ck_assert_uint_eq(b.jobs, a.jobs + 3);
        ck_assert(b.own_s > a.own_s);
        ck_assert(b.others_s > a.others_s);
        ck_assert(b.wait_s >= a.wait_s);
    }
    ck_assert_uint_eq(c.jobs, b.jobs);
    ck_assert(c.own_s == b.own_s && c.wait_s == b.wait_s);
}
END_TEST

/* -------------------------------------------------------- safetensors */

/* Root of this test case's files, made by a fixture in the parent
 * process so it is removed even when a forked test fails. */
static char tmp_root[64];

static void tmp_setup(void)
{
    strcpy(tmp_root, "/tmp/nnrt-test-XXXXXX");
    ck_assert(mkdtemp(tmp_root) != NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void tmp_teardown(void)
{
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory for one test, so tests cannot see each other's files. */
static void tmp_dir(char *dir, size_t len)
{
    snprintf(dir, len, "%s/tXXXXXX", tmp_root);
    ck_assert(mkdtemp(dir) != NULL);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static nnrt_tensor tensor(const char *name, nnrt_dtype dt, void *data,
                          int rank, int64_t d0, int64_t d1)
{
    nnrt_tensor t = {name, dt, rank, {d0, d1, 0, 0}, data};
    return t;
}

START_TEST(test_safetensors_roundtrip_f32)
{
    char dir[128], path[192], err[256];
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    float w[12], b[3], s = 2.5f, e[1], w2[12], b2[3], s2, e2[1];
    for (int i = 0; i < 12; i++)
        w[i] = (float)i / 3 - 1.75f;
    b[0] = 1e-30f, b[1] = -0.0f, b[2] = INFINITY;
    nnrt_tensor out[4] = {
        tensor("dense_1.weight", NNRT_F32, w, 2, 4, 3),
        tensor("dense_1.bias", NNRT_F32, b, 1, 3, 0),
        tensor("scale", NNRT_F32, &s, 0, 0, 0),
        tensor("empty", NNRT_F32, e, 2, 0, 5),
    };
    ck_assert_int_eq(nnrt_save_safetensors(path, out, 4, err, sizeof err), 0);
    ck_assert_int_eq(count_files(dir), 1); /* no temporary left behind */
    ck_assert_int_eq(file_size(path), 8 + 288 + 64);

    /* The caller's table may list tensors in any order. */
    nnrt_tensor in[4] = {
        tensor("scale", NNRT_F32, &s2, 0, 0, 0),
        tensor("empty", NNRT_F32, e2, 2, 0, 5),
        tensor("dense_1.bias", NNRT_F32, b2, 1, 3, 0),
        tensor("dense_1.weight", NNRT_F32, w2, 2, 4, 3),
    };
    ck_assert_msg(nnrt_load_safetensors(path, in, 4, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_mem_eq(w, w2, sizeof w);
    ck_assert_mem_eq(b, b2, sizeof b);
    ck_assert(s2 == 2.5f);
}
END_TEST

/* The header is pinned byte for byte: docs/RUNTIME.md shows this layout
 * and other tools parse it. */
START_TEST(test_safetensors_layout_f64)
{
    char dir[128], path[192], err[256];
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    double w[4] = {1, -2, 0.1, 1e300}, b[2] = {-1e-300, 3};
    nnrt_tensor t[2] = {tensor("w", NNRT_F64, w, 2, 2, 2),
                        tensor("b\"\\", NNRT_F64, b, 1, 2, 0)};
    ck_assert_int_eq(nnrt_save_safetensors(path, t, 2, err, sizeof err), 0);

    static const char hdr[] =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"w\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[0,32]},"
        "\"b\\\"\\\\\":{\"dtype\":\"F64\",\"shape\":[2],"
        "\"data_offsets\":[32,48]}}";
    size_t hlen = (sizeof hdr - 1 + 7) / 8 * 8;
    unsigned char buf[512];
    FILE *f = fopen(path, "rb");
    ck_assert(f != NULL);
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_eq(len, 8 + hlen + 48);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(buf[i], (hlen >> (8 * i)) & 0xff);
    ck_assert_mem_eq(buf + 8, hdr, sizeof hdr - 1);
    for (size_t i = 8 + sizeof hdr - 1; i < 8 + hlen; i++)
        ck_assert_uint_eq(buf[i], ' ');
    ck_assert_mem_eq(buf + 8 + hlen, w, sizeof w);
    ck_assert_mem_eq(buf + 8 + hlen + 32, b, sizeof b);

    double w2[4], b2[2];
    nnrt_tensor in[2] = {tensor("b\"\\", NNRT_F64, b2, 1, 2, 0),
                         tensor("w", NNRT_F64, w2, 2, 2, 2)};
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, len, "m", in, 2, err,
                                               sizeof err), 0);
    ck_assert_mem_eq(w, w2, sizeof w);
    ck_assert_mem_eq(b, b2, sizeof b);
}
END_TEST

/* Builds a file image: 8-byte length, json, then dlen zero bytes. */
static size_t image(unsigned char *buf, const char *json, size_t dlen)
{
    size_t hlen = strlen(json);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, json, hlen);
    memset(buf + 8 + hlen, 0, dlen);
    return 8 + hlen + dlen;
}

/* What most malformed-file cases expect: a [4, 3] F32 'a' and a [2] F32
 * 'b'; both buffers hold a sentinel that a failed load must not touch. */
typedef struct Model {
    float a[12], b[2];
    nnrt_tensor t[2];
} Model;

static void model_init(Model *m)
{
    for (int i = 0; i < 12; i++)
        m->a[i] = 42;
    m->b[0] = m->b[1] = 42;
    m->t[0] = tensor("a", NNRT_F32, m->a, 2, 4, 3);
    m->t[1] = tensor("b", NNRT_F32, m->b, 1, 2, 0);
}

static void model_untouched(const Model *m)
{
    for (int i = 0; i < 12; i++)
        ck_assert(m->a[i] == 42);
    ck_assert(m->b[0] == 42 && m->b[1] == 42);
}

/* Loads a header (plus dlen data bytes) into the standard model and
 * checks the failure message is exactly "w.safetensors: " + want. */
static void bad_header(const char *json, size_t dlen, const char *want)
{
    unsigned char buf[1024];
    char err[300], full[300];
    Model m;
    model_init(&m);
    size_t len = image(buf, json, dlen);
    int rc = nnrt_load_safetensors_mem(buf, len, "w.safetensors", m.t, 2,
                                       err, sizeof err);
    ck_assert_msg(rc == -1, "loaded: %s", json);
    snprintf(full, sizeof full, "w.safetensors: %s", want);
    ck_assert_str_eq(err, full);
    model_untouched(&m);
}

#define A_OK "\"a\":{\"dtype\":\"F32\",\"shape\":[4,3],\"data_offsets\":[0,48]}"
#define B_OK "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56]}"

START_TEST(test_load_valid_image)
{
    /* The baseline the bad cases below vary: it must load. */
    unsigned char buf[256];
    char err[256];
    Model m;
    model_init(&m);
    size_t len = image(buf, "{" A_OK "," B_OK "}", 56);
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, len, "w", m.t, 2, err,
                                               sizeof err), 0);
    ck_assert(m.a[0] == 0 && m.b[1] == 0);
}
END_TEST

START_TEST(test_load_shape_mismatch)
{
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[5,3],"
               "\"data_offsets\":[0,60]}," B_OK "}", 60,
               "tensor 'a' has shape [5, 3], expected [4, 3]");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[12],"
               "\"data_offsets\":[0,48]}," B_OK "}", 56,
               "tensor 'a' has shape [12], expected [4, 3]");
}
END_TEST

START_TEST(test_load_missing)
{
    bad_header("{" A_OK "}", 48, "missing tensor 'b'");
}
END_TEST

START_TEST(test_load_unexpected)
{
    bad_header("{" A_OK "," B_OK ",\"foo\":{\"dtype\":\"F32\",\"shape\":[],"
               "\"data_offsets\":[56,60]}}", 60,
               "unexpected tensor 'foo' (this model has no such parameter)");
}
END_TEST

START_TEST(test_load_dtype)
{
    bad_header("{\"a\":{\"dtype\":\"F64\",\"shape\":[4,3],"
               "\"data_offsets\":[0,96]}," B_OK "}", 104,
               "tensor 'a' has dtype F64, expected F32");
    bad_header("{" A_OK ",\"b\":{\"dtype\":\"BF16\",\"shape\":[2],"
               "\"data_offsets\":[48,52]}}", 52,
               "tensor 'b' has dtype BF16, expected F32");
    bad_header("{\"a\":{\"dtype\":\"Q7\",\"shape\":[4,3],"
               "\"data_offsets\":[0,48]}}", 48,
               "tensor 'a' has unknown dtype 'Q7'");
}
END_TEST

START_TEST(test_load_header_length)
{
    unsigned char buf[120] = {0};
    char err[256];
    Model m;
    model_init(&m);
    buf[0] = 999999 & 0xff, buf[1] = (999999 >> 8) & 0xff;
    buf[2] = 999999 >> 16;
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, 120, "w.safetensors",
                                               m.t, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "w.safetensors: header length 999999 exceeds "
                          "file size 120");
    /* 8 + length would wrap around to 7 if computed naively. */
    memset(buf, 0xff, 8);
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, 16, "w.safetensors",
                                               m.t, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "w.safetensors: header length 18446744073709551615 "
                          "exceeds file size 16");
    model_untouched(&m);
}
END_TEST

START_TEST(test_load_truncated)
{
    unsigned char buf[8] = {2, 0, 0, 0, 0, 0, 0, 0};
    char err[256];
    Model m;
    model_init(&m);
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, 5, "w.safetensors",
                                               m.t, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "w.safetensors: file is truncated (5 bytes, too "
                          "short for the header length)");
    bad_header("{" A_OK "," B_OK "}", 50,
               "file is truncated: data_offsets of 'b' [48, 56] reach past "
               "the 50-byte data section");
}
END_TEST

START_TEST(test_load_bad_json)
{
    bad_header("{\"a\":{\"dtype\":", 0,
               "header is not valid JSON (error near header byte 13)");
    bad_header("", 0, "header is not valid JSON (error near header byte 0)");
    bad_header("{" A_OK "," B_OK "} x", 56,
               "header is not valid JSON (trailing characters at header "
               "byte 113)");
    bad_header("[1, 2]", 0, "header is not a JSON object");
    bad_header("{\"__metadata__\":{\"format\":1}," A_OK "," B_OK "}", 56,
               "__metadata__ is not an object of strings");
}
END_TEST

START_TEST(test_load_bad_entry)
{
    bad_header("{\"a\":5}", 0, "tensor 'a' is not a JSON object");
    bad_header("{\"a\":{\"shape\":[4,3],\"data_offsets\":[0,48]}}", 48,
               "tensor 'a' has no \"dtype\" string");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":\"4x3\","
               "\"data_offsets\":[0,48]}}", 48,
               "tensor 'a' has no \"shape\" array of at most 8 dimensions");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,-3],"
               "\"data_offsets\":[0,48]}}", 48,
               "tensor 'a' has a shape entry that is not a non-negative "
               "integer");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,3.5],"
               "\"data_offsets\":[0,48]}}", 48,
               "tensor 'a' has a shape entry that is not a non-negative "
               "integer");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,3],"
               "\"data_offsets\":[0]}}", 48,
               "tensor 'a' has no \"data_offsets\" pair of non-negative "
               "integers");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,3],"
               "\"data_offsets\":[\"0\",\"48\"]}}", 48,
               "tensor 'a' has no \"data_offsets\" pair of non-negative "
               "integers");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,3],"
               "\"data_offsets\":[0,1e300]}}", 48,
               "tensor 'a' has no \"data_offsets\" pair of non-negative "
               "integers");
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,3],"
               "\"data_offsets\":[48,0]}}", 48,
               "data_offsets of 'a' [48, 0] end before they begin");
    bad_header("{" A_OK "," A_OK "}", 48,
               "tensor 'a' appears twice in the header");
}
END_TEST

START_TEST(test_load_bad_size)
{
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4,3],"
               "\"data_offsets\":[0,40]}," B_OK "}", 56,
               "tensor 'a' has 40 bytes of data, but dtype F32 and shape "
               "[4, 3] need 48");
    /* 2^32 * 2^32 * 4 bytes overflows 64 bits and must be caught. */
    bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
               "\"data_offsets\":[0,48]}}", 48,
               "tensor 'a' has 48 bytes of data, but dtype F32 and shape "
               "[4294967296, 4294967296] need more than "
               "18446744073709551615");
}
END_TEST

START_TEST(test_load_overlap)
{
    /* Shapes and sizes are right for both, so only the overlap check
     * stands between this file and the caller's buffers. */
    bad_header("{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[40,48]}}", 48,
               "data_offsets of 'a' [0, 48] overlap 'b' [40, 48]");
    bad_header("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
               "\"data_offsets\":[8,16]}," A_OK "}", 48,
               "data_offsets of 'b' [8, 16] overlap 'a' [0, 48]");
}
END_TEST

START_TEST(test_load_file_errors)
{
    char dir[128], path[192], err[256], want[300];
    Model m;
    model_init(&m);
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/none.safetensors", dir);
    ck_assert_int_eq(nnrt_load_safetensors(path, m.t, 2, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
             path);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(nnrt_load_safetensors(dir, m.t, 2, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", dir);
    ck_assert_str_eq(err, want);

    /* From a file, messages start with its path. */
    unsigned char buf[256];
    size_t len = image(buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[5,3],"
                            "\"data_offsets\":[0,60]}," B_OK "}", 60);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0);
    ck_assert_int_eq(nnrt_load_safetensors(path, m.t, 2, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s: tensor 'a' has shape [5, 3], expected [4, 3]", path);
    ck_assert_str_eq(err, want);
    model_untouched(&m);
}
END_TEST

START_TEST(test_load_err_buffer)
{
    unsigned char buf[64];
    char err[10];
    Model m;
    model_init(&m);
    size_t len = image(buf, "{}", 0);
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, len, "w.safetensors",
                                               m.t, 2, NULL, 0), -1);
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, len, "w.safetensors",
                                               m.t, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "w.safeten"); /* cut to fit, terminated */
}
END_TEST

/* Every way a save can fail leaves the previous checkpoint as it was
 * and no temporary file behind. */
START_TEST(test_save_failure_keeps_old)
{
    char dir[128], path[192], tmp[224], err[512], want[600];
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    float v1[2] = {1, 2}, v2[2] = {3, 4}, got[2];
    nnrt_tensor t1 = tensor("v", NNRT_F32, v1, 1, 2, 0);
    nnrt_tensor t2 = tensor("v", NNRT_F32, v2, 1, 2, 0);
    nnrt_tensor in = tensor("v", NNRT_F32, got, 1, 2, 0);
    ck_assert_int_eq(nnrt_save_safetensors(path, &t1, 1, err, sizeof err), 0);

    /* The temporary's name is taken, by a directory: creation fails. */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    ck_assert_int_eq(mkdir(tmp, 0700), 0);
    ck_assert_int_eq(nnrt_save_safetensors(path, &t2, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot create '%s': Is a directory",
             path, tmp);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(rmdir(tmp), 0);

    /* A table that cannot be written is refused before any I/O. */
    nnrt_tensor dup[2] = {t2, t2};
    ck_assert_int_eq(nnrt_save_safetensors(path, dup, 2, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: tensor 'v' is given twice", path);
    ck_assert_str_eq(err, want);
    nnrt_tensor deep = t2;
    deep.rank = 5;
    ck_assert_int_eq(nnrt_save_safetensors(path, &deep, 1, err, sizeof err),
                     -1);
    snprintf(want, sizeof want, "%s: tensor 'v' has an invalid dtype, rank or shape",
             path);
    ck_assert_str_eq(err, want);

    /* A write that fails part of the way, as on a full disk: here the
     * file size limit (SIGXFSZ ignored, so write returns EFBIG). */
    struct rlimit limit, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &limit), 0);
    small = limit;
    small.rlim_cur = 64;
    float big[64] = {0};
    nnrt_tensor tb = tensor("v", NNRT_F32, big, 1, 64, 0);
    void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = nnrt_save_safetensors(path, &tb, 1, err, sizeof err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    signal(SIGXFSZ, handler);
    ck_assert_int_eq(rc, -1);
    snprintf(want, sizeof want, "%s: cannot write '%s.tmp.%ld': File too "
             "large", path, path, (long)getpid());
    ck_assert_str_eq(err, want);

    ck_assert_int_eq(nnrt_load_safetensors(path, &in, 1, err, sizeof err), 0);
    ck_assert(got[0] == 1 && got[1] == 2);
    ck_assert_int_eq(count_files(dir), 1);

    /* The target is a directory: the rename fails, the temp goes. */
    char sub[224];
    snprintf(sub, sizeof sub, "%s/d", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(nnrt_save_safetensors(sub, &t2, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot replace it with '%s.tmp.%ld': "
             "Is a directory", sub, sub, (long)getpid());
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(count_files(dir), 2);
    ck_assert_int_eq(count_files(sub), 0);

    /* A directory that does not exist. */
    snprintf(sub, sizeof sub, "%s/nodir/w.safetensors", dir);
    ck_assert_int_eq(nnrt_save_safetensors(sub, &t2, 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot create '%s.tmp.%ld': No such "
             "file or directory", sub, sub, (long)getpid());
    ck_assert_str_eq(err, want);
}
END_TEST

/* A caller's table that no file could match is refused, by index, before
 * anything is read or written. */
START_TEST(test_invalid_tables)
{
    char dir[128], path[192], err[256], want[300];
    tmp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    float v[2] = {1, 2};
    nnrt_tensor t[2] = {tensor("v", NNRT_F32, v, 1, 2, 0),
                        tensor(NULL, NNRT_F32, v, 1, 2, 0)};
    ck_assert_int_eq(nnrt_save_safetensors(path, t, 2, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: tensor 1 has an invalid name", path);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(count_files(dir), 0);

    unsigned char buf[64];
    size_t len = image(buf, "{}", 0);
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, len, "w.safetensors", t,
                                               2, err, sizeof err), -1);
    ck_assert_str_eq(err, "w.safetensors: tensor 1 of the caller's table is "
                          "invalid");
    t[1].name = "u";
    t[1].rank = NNRT_MAX_RANK + 1;
    ck_assert_int_eq(nnrt_load_safetensors_mem(buf, len, "w.safetensors", t,
                                               2, err, sizeof err), -1);
    ck_assert_str_eq(err, "w.safetensors: tensor 1 of the caller's table is "
                          "invalid");
}
END_TEST

/* ---------------------------------------------------------------- fit */

START_TEST(test_fit_options_and_history)
{
    nnrt_fit_options o;
    memset(&o, 0xff, sizeof o);
    nnrt_fit_options_default(&o);
    ck_assert_int_eq(o.epochs, 1);
    ck_assert_int_eq(o.batch, 32);
    ck_assert_int_eq(o.shuffle, 1);
    ck_assert_uint_eq(o.seed, 0);
    ck_assert_int_eq(o.verbose, 1);

    nnrt_history h;
    ck_assert_int_eq(nnrt_history_init(&h, 3, 2), 0);
    ck_assert_int_eq(h.epochs, 3);
    ck_assert_int_eq(h.nmetrics, 2);
    for (int i = 0; i < 3; i++) {
        ck_assert(h.loss[i] == 0 && h.seconds[i] == 0);
        ck_assert(h.metrics[i * 2] == 0 && h.metrics[i * 2 + 1] == 0);
    }
    nnrt_history_free(&h);
    nnrt_history_free(&h);
    ck_assert(h.loss == NULL && h.epochs == 0);
    ck_assert_int_eq(nnrt_history_init(&h, 4, 0), 0);
    nnrt_history_free(&h);
    ck_assert_int_eq(nnrt_history_init(&h, -1, 0), -1);
    ck_assert(h.loss == NULL && h.metrics == NULL && h.seconds == NULL);
}
END_TEST

START_TEST(test_now_and_version)
{
    double t0 = nnrt_now(), t1 = nnrt_now();
    ck_assert(t0 > 0 && t1 >= t0);
    ck_assert_str_eq(nnrt_version(), "0.1.0");
    ck_assert_str_eq(nnrt_version(), NNRT_VERSION);
}
END_TEST

Suite *runtime_suite(void)
{
    Suite *s = suite_create("runtime");

    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, test_pcg32_reference);
    tcase_add_test(tc, test_rng_streams_differ);
    tcase_add_test(tc, test_rng_below_reference);
    tcase_add_test(tc, test_rng_below_bounds);
    tcase_add_test(tc, test_rng_below_uniform);
    tcase_add_test(tc, test_rng_below_large_bound_unbiased);
    tcase_add_test(tc, test_rng_below_rejection);
    tcase_add_test(tc, test_uniform_reference);
    tcase_add_test(tc, test_uniform_range);
    tcase_add_test(tc, test_glorot_f32);
    tcase_add_test(tc, test_glorot_f64);
    suite_add_tcase(s, tc);

    tc = tcase_create("batch");
    tcase_add_test(tc, test_shuffle_permutation);
    tcase_add_test(tc, test_shuffle_uniform);
    tcase_add_test(tc, test_shuffle_small);
    tcase_add_test(tc, test_gather);
    suite_add_tcase(s, tc);

    tc = tcase_create("gemm");
    tcase_add_loop_test(tc, test_gemm_transposes, 0, 2);
    tcase_add_loop_test(tc, test_gemm_large, 0, 2);
    tcase_add_loop_test(tc, test_gemm_split, 0, 2);
    tcase_add_test(tc, test_gemm_split_jobs);
    tcase_add_loop_test(tc, test_gemm_nan_semantics, 0, 2);
    tcase_add_test(tc, test_blas_core_for);
    suite_add_tcase(s, tc);

    tc = tcase_create("pool");
    tcase_add_test(tc, test_part_bounds);
    tcase_add_test(tc, test_threads_wanted);
    tcase_add_test(tc, test_parallel_for_splits);
    tcase_add_test(tc, test_parallel_for_after_fork);
    tcase_add_test(tc, test_pool_blocks_signals);
    tcase_add_test(tc, test_parallel_zero);
    tcase_add_test(tc, test_pool_stats);
    suite_add_tcase(s, tc);

    tc = tcase_create("safetensors");
    tcase_add_unchecked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_safetensors_roundtrip_f32);
    tcase_add_test(tc, test_safetensors_layout_f64);
    tcase_add_test(tc, test_load_valid_image);
    tcase_add_test(tc, test_load_shape_mismatch);
    tcase_add_test(tc, test_load_missing);
    tcase_add_test(tc, test_load_unexpected);
    tcase_add_test(tc, test_load_dtype);
    tcase_add_test(tc, test_load_header_length);
    tcase_add_test(tc, test_load_truncated);
    tcase_add_test(tc, test_load_bad_json);
    tcase_add_test(tc, test_load_bad_entry);
    tcase_add_test(tc, test_load_bad_size);
    tcase_add_test(tc, test_load_overlap);
    tcase_add_test(tc, test_load_file_errors);
    tcase_add_test(tc, test_load_err_buffer);
    tcase_add_test(tc, test_save_failure_keeps_old);
    tcase_add_test(tc, test_invalid_tables);
    suite_add_tcase(s, tc);

    tc = tcase_create("fit");
    tcase_add_test(tc, test_fit_options_and_history);
    tcase_add_test(tc, test_now_and_version);
    suite_add_tcase(s, tc);
    return s;
}
