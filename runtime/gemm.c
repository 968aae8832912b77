/*
 * gemm.c - the one matrix-multiply entry point of generated code.
 *
 * Dense layers' forward and backward are all GEMMs, so generated code
 * calls nnrt_sgemm/nnrt_dgemm and never BLAS directly: the choice between
 * OpenBLAS and the plain C loops below is made once, here, at build time
 * (-DNNRT_NO_BLAS selects the loops, for machines without a BLAS).
 * The contract of each public function is its comment in nnrt.h.
 */
#include "nnrt.h"

#ifndef NNRT_NO_BLAS
#include <cblas.h>
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

/* Degenerate products go to the loops even with BLAS: OpenBLAS rejects
 * the zero leading dimensions callers may pass when k == 0, and the loops
 * guarantee that alpha == 0 never reads A or B. */
void nnrt_sgemm(int trans_a, int trans_b, int m, int n, int k,
                float alpha, const float *a, int lda,
                const float *b, int ldb,
                float beta, float *c, int ldc)
{
#ifndef NNRT_NO_BLAS
    if (m > 0 && n > 0 && k > 0 && alpha != 0) {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
                    lda, b, ldb, beta, c, ldc);
        return;
    }
#endif
    nnrt_sgemm_ref(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                   c, ldc);
}

void nnrt_dgemm(int trans_a, int trans_b, int m, int n, int k,
                double alpha, const double *a, int lda,
                const double *b, int ldb,
                double beta, double *c, int ldc)
{
#ifndef NNRT_NO_BLAS
    if (m > 0 && n > 0 && k > 0 && alpha != 0) {
        cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
                    lda, b, ldb, beta, c, ldc);
        return;
    }
#endif
    nnrt_dgemm_ref(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                   c, ldc);
}
