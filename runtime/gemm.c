/*
 * gemm.c - the one matrix-multiply entry point of generated code.
 *
 * Dense layers' forward and backward are all GEMMs, so generated code
 * calls nnrt_sgemm/nnrt_dgemm and never BLAS directly: the choice between
 * OpenBLAS and the plain C loops below is made once, here, at build time
 * (-DNNRT_NO_BLAS selects the loops, for machines without a BLAS).
 * The contract of each public function is its comment in nnrt.h.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* setenv, readlink, execv */
#endif

#include "nnrt.h"

#include <stdlib.h>
#include <strings.h>

#ifndef NNRT_NO_BLAS
#include <cblas.h>
#include <pthread.h>
#include <unistd.h>
#endif

/*
 * The reference loops, written once for both precisions. Element (i, p)
 * of op(A) is a[p*lda + i] when A is transposed, else a[i*lda + p]; the
 * same for B. Loop order keeps the innermost loop on contiguous memory:
 * without trans_b, row p of B is streamed into row i of C (i-p-j order);
 * with trans_b, row j of the stored B is a column of op(B), so each C
 * element is a dot product along it (i-j-p order). C is scaled by beta
 * first, and beta == 0 stores zeros rather than multiplying, so NaN or
 * garbage in C is overwritten as BLAS does.
 */
#define DEFINE_GEMM_REF(NAME, T)                                             \
    void NAME(int trans_a, int trans_b, int m, int n, int k, T alpha,       \
              const T *a, int lda, const T *b, int ldb, T beta, T *c,       \
              int ldc)                                                      \
    {                                                                       \
        for (int i = 0; i < m; i++) {                                       \
            T *ci = c + (size_t)i * ldc;                                    \
            for (int j = 0; j < n; j++)                                     \
                ci[j] = beta == 0 ? 0 : beta * ci[j];                       \
            if (alpha == 0 || k == 0)                                       \
                continue; /* A and B are not read, as in BLAS */           \
            if (!trans_b) {                                                 \
                for (int p = 0; p < k; p++) {                               \
                    T aip = alpha * (trans_a ? a[(size_t)p * lda + i]       \
                                             : a[(size_t)i * lda + p]);     \
                    const T *bp = b + (size_t)p * ldb;                      \
                    for (int j = 0; j < n; j++)                             \
                        ci[j] += aip * bp[j];                               \
                }                                                           \
            } else {                                                        \
                for (int j = 0; j < n; j++) {                               \
                    const T *bj = b + (size_t)j * ldb;                      \
                    T sum = 0;                                              \
                    for (int p = 0; p < k; p++)                             \
                        sum += (trans_a ? a[(size_t)p * lda + i]            \
                                        : a[(size_t)i * lda + p]) * bj[p];  \
                    ci[j] += alpha * sum;                                   \
                }                                                           \
            }                                                               \
        }                                                                   \
    }

DEFINE_GEMM_REF(nnrt_sgemm_ref, float)
DEFINE_GEMM_REF(nnrt_dgemm_ref, double)

/*
 * Degenerate products go to the loops even with BLAS: OpenBLAS rejects
 * the zero leading dimensions callers may pass when k == 0, and the loops
 * guarantee that alpha == 0 never reads A or B.  A single row (m == 1:
 * batch-1 inference, the last row of a batch) is a matrix-vector product,
 * and GEMV skips the packing of B that makes GEMM slow for it.  With
 * beta == 0, C is cleared first so that NaN in C never survives, whatever
 * the BLAS does with beta == 0 in GEMV.
 */
#ifndef NNRT_NO_BLAS
#define DEFINE_GEMM_ONE(NAME, T, GEMM, GEMV, REF)                            \
    static void NAME(int trans_a, int trans_b, int m, int n, int k, T alpha,\
                     const T *a, int lda, const T *b, int ldb, T beta,      \
                     T *c, int ldc)                                         \
    {                                                                       \
        if (m <= 0 || n <= 0 || k <= 0 || alpha == 0) {                     \
            REF(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,  \
                ldc);                                                       \
        } else if (m == 1) {                                                \
            if (beta == 0)                                                  \
                for (int j = 0; j < n; j++)                                 \
                    c[j] = 0;                                               \
            /* row 0 of op(A): a[0], a[lda], ... when A is transposed */   \
            int inc_a = trans_a ? lda : 1;                                  \
            if (trans_b) /* C[j] = sum_p A[p] B[j][p]: y = B x */           \
                GEMV(CblasRowMajor, CblasNoTrans, n, k, alpha, b, ldb, a,   \
                     inc_a, beta, c, 1);                                    \
            else /* C[j] = sum_p A[p] B[p][j]: y = B^T x */                 \
                GEMV(CblasRowMajor, CblasTrans, k, n, alpha, b, ldb, a,     \
                     inc_a, beta, c, 1);                                    \
        } else {                                                            \
            GEMM(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,        \
                 trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,    \
                 lda, b, ldb, beta, c, ldc);                                \
        }                                                                   \
    }

/*
 * Products of at least NNRT_SPLIT_MIN multiply-adds are split over the
 * runtime's threads (pool.c) into parts whose boundaries fall on multiples
 * of 16, each an ordinary product (BLAS on one thread) of the slices of A
 * or B it needs: C by columns, but by rows when A is transposed (and by the
 * other dimension when the first has fewer than 32).  For the products of
 * a dense layer that is a split by the layer's units: the forward Z = X Wᵀ
 * and the batch-1 GEMV by columns (units, rows of W), the weight gradient
 * dW = dZᵀ X by rows (units again), so a thread finds the rows of W and dW
 * it worked on in its own cache, for the next product and for the
 * optimizer update (measured: 7 % off a Fashion-MNIST step against a
 * split of dW by columns); dX = dZ W splits by columns (inputs).  Every
 * element of C is one call's dot product over all of k whatever the
 * split, so any split gives the same result; a product left whole may
 * differ in the last bits, as OpenBLAS can take other kernels for it than
 * for its parts (it has some for small products).  The first split sets
 * OpenBLAS to one thread: two thread pools on the same cores would take
 * turns, each waking and parking its threads around the other's work.
 * With one thread in the pool (NNRT_NUM_THREADS=1) nothing is split and
 * OpenBLAS threads its products itself.
 */
#define NNRT_SPLIT_MIN 100000.0

static pthread_once_t blas_one_thread_once = PTHREAD_ONCE_INIT;

static void blas_one_thread(void)
{
    openblas_set_num_threads(1);
}

#define DEFINE_GEMM(NAME, T, ONE)                                            \
    typedef struct NAME##_job {                                             \
        int trans_a, trans_b, m, n, k, by_rows;                             \
        T alpha, beta;                                                      \
        const T *a, *b;                                                     \
        T *c;                                                               \
        int lda, ldb, ldc;                                                  \
    } NAME##_job;                                                           \
                                                                            \
    static void NAME##_part(void *ctx, size_t lo, size_t hi)                \
    {                                                                       \
        const NAME##_job *g = ctx;                                          \
        const int l = (int)lo, h = (int)hi;                                 \
        if (l >= h)                                                         \
            return;                                                         \
        if (g->by_rows) /* rows l..h of C and of op(A) */                   \
            ONE(g->trans_a, g->trans_b, h - l, g->n, g->k, g->alpha,        \
                g->trans_a ? g->a + l : g->a + (size_t)l * g->lda, g->lda,  \
                g->b, g->ldb, g->beta, g->c + (size_t)l * g->ldc, g->ldc);  \
        else /* columns l..h of C and of op(B) */                           \
            ONE(g->trans_a, g->trans_b, g->m, h - l, g->k, g->alpha, g->a,  \
                g->lda,                                                     \
                g->trans_b ? g->b + (size_t)l * g->ldb : g->b + l, g->ldb,  \
                g->beta, g->c + l, g->ldc);                                 \
    }                                                                       \
                                                                            \
    void NAME(int trans_a, int trans_b, int m, int n, int k, T alpha,       \
              const T *a, int lda, const T *b, int ldb, T beta, T *c,       \
              int ldc)                                                      \
    {                                                                       \
        int by_rows = trans_a != 0;                                         \
        if ((by_rows ? m : n) < 32)                                         \
            by_rows = !by_rows;                                             \
        const int dim = by_rows ? m : n;                                    \
        if (dim >= 32 && k > 0 && alpha != 0 &&                             \
                (double)m * n * k >= NNRT_SPLIT_MIN &&                      \
                nnrt_num_threads() > 1) {                                   \
            pthread_once(&blas_one_thread_once, blas_one_thread);           \
            NAME##_job g = {trans_a, trans_b, m, n, k, by_rows, alpha,      \
                            beta, a, b, c, lda, ldb, ldc};                  \
            nnrt_parallel_split(NAME##_part, &g, (size_t)dim, 16);          \
        } else {                                                            \
            ONE(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,  \
                ldc);                                                       \
        }                                                                   \
    }

DEFINE_GEMM_ONE(sgemm_one, float, cblas_sgemm, cblas_sgemv, nnrt_sgemm_ref)
DEFINE_GEMM_ONE(dgemm_one, double, cblas_dgemm, cblas_dgemv, nnrt_dgemm_ref)
DEFINE_GEMM(nnrt_sgemm, float, sgemm_one)
DEFINE_GEMM(nnrt_dgemm, double, dgemm_one)
#else
#define DEFINE_GEMM(NAME, T, REF)                                            \
    void NAME(int trans_a, int trans_b, int m, int n, int k, T alpha,       \
              const T *a, int lda, const T *b, int ldb, T beta, T *c,       \
              int ldc)                                                      \
    {                                                                       \
        REF(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,      \
            ldc);                                                           \
    }

DEFINE_GEMM(nnrt_sgemm, float, nnrt_sgemm_ref)
DEFINE_GEMM(nnrt_dgemm, double, nnrt_dgemm_ref)
#endif

/*
 * OpenBLAS picks its kernels once, when it is loaded, from the CPU's model
 * number.  A model newer than its table (0.3.21 does not know recent Xeons)
 * gets the generic Prescott (SSE3) kernels, several times slower than the
 * AVX-512 ones the CPU could run.  OPENBLAS_CORETYPE overrides the choice,
 * but only before the library is loaded: a program that finds itself on
 * generic kernels restarts itself with the variable set.
 */
const char *nnrt_blas_core_for(const char *core, int avx2, int avx512)
{
    static const char *const generic[] = {
        "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Core2",
        "Penryn", "Dunnington", "Nehalem", "Atom", "Sandybridge",
    };
    if (core == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (strcasecmp(core, generic[i]) == 0)
            return avx512 ? "SkylakeX" : avx2 ? "Haswell" : NULL;
    return NULL;
}

void nnrt_blas_restart(char **argv)
{
#if !defined(NNRT_NO_BLAS) && defined(__linux__) && defined(__x86_64__) && \
    (defined(__GNUC__) || defined(__clang__))
    if (argv == NULL || getenv("OPENBLAS_CORETYPE") != NULL)
        return;
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int avx512 = __builtin_cpu_supports("avx512f") &&
                 __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512vl");
    const char *want = nnrt_blas_core_for(openblas_get_corename(), avx2, avx512);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (want == NULL || n <= 0 || (size_t)n >= sizeof exe - 1)
        return;
    exe[n] = '\0';
    if (setenv("OPENBLAS_CORETYPE", want, 1) != 0)
        return;
    execv(exe, argv);
    unsetenv("OPENBLAS_CORETYPE"); /* no restart: go on as loaded */
#else
    (void)argv;
#endif
}
