// A first, simple GEMM: correct, parallel over rows of C, and the k-loop outside the j-loop
// so the inner loop streams through contiguous rows of B and C (the compiler vectorises it).
// Chapter 03 replaces this step by step with a blocked, packed, register-tiled kernel.
#include "autograd/kernels/gemm.h"

#include <cstddef>
#include <vector>

namespace qkv::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  if (M <= 0 || N <= 0) return;
#pragma omp parallel for schedule(static) if (M * N * K > 32768)
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    std::vector<float> acc(static_cast<size_t>(N), 0.f);
    std::vector<float> brow(trans_b ? static_cast<size_t>(N) : 0);
    for (int64_t k = 0; k < K; ++k) {
      const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
      const float* b = B + k * ldb;
      if (trans_b) {
        for (int64_t j = 0; j < N; ++j) brow[j] = B[j * ldb + k];
        b = brow.data();
      }
      for (int64_t j = 0; j < N; ++j) acc[j] += a * b[j];
    }
    if (beta == 0.f)
      for (int64_t j = 0; j < N; ++j) c[j] = alpha * acc[j];
    else
      for (int64_t j = 0; j < N; ++j) c[j] = alpha * acc[j] + beta * c[j];
  }
}

void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  float alpha, const float* A, int64_t lda, int64_t stride_a, const float* B,
                  int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc,
                  int64_t stride_c) {
  for (int64_t b = 0; b < batch; ++b)
    gemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
         C + b * stride_c, ldc);
}

}  // namespace qkv::kernels
