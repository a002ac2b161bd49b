// The steps chapter 03 walks through on the way from the triple loop to the library's GEMM
// (autograd/kernels/gemm.cpp). Each computes C = A·B for row-major A [M, K], B [K, N],
// C [M, N] with no transposes, on one thread; bench_kernels times them and ch03_gemm_steps
// checks them against gemm_reference. Teaching code: the library does not use it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace qkv::gemm_stages {

// Step 1: the textbook triple loop. The inner loop walks down a column of B: each step
// jumps N floats, so almost every load touches a new cache line.
inline void naive(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float s = 0.f;
      for (int64_t k = 0; k < K; ++k) s += A[i * K + k] * B[k * N + j];
      C[i * N + j] = s;
    }
}

// Step 2: swap the j and k loops. The inner loop now runs along a row of B and a row of C,
// both contiguous, and each iteration is independent: the compiler vectorises it.
inline void reordered(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * N;
    for (int64_t j = 0; j < N; ++j) c[j] = 0.f;
    for (int64_t k = 0; k < K; ++k) {
      const float a = A[i * K + k];
      const float* b = B + k * N;
      for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

// Step 3: cache blocking. Step 2 streams all of B (K·N floats) once per row of C. Here a
// KB×NB block of B (64×128 floats = 32 KB, L1-sized) is reused for every row before moving
// on, so B comes from L1 instead of L2 or memory.
inline void blocked(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
  constexpr int64_t KB = 64, NB = 128;
  for (int64_t i = 0; i < M * N; ++i) C[i] = 0.f;
  for (int64_t k0 = 0; k0 < K; k0 += KB)
    for (int64_t j0 = 0; j0 < N; j0 += NB) {
      const int64_t k1 = std::min(K, k0 + KB), j1 = std::min(N, j0 + NB);
      for (int64_t i = 0; i < M; ++i) {
        float* c = C + i * N;
        for (int64_t k = k0; k < k1; ++k) {
          const float a = A[i * K + k];
          const float* b = B + k * N;
          for (int64_t j = j0; j < j1; ++j) c[j] += a * b[j];
        }
      }
    }
}

// Step 4: a register tile. Steps 2 and 3 load and store C in the inner loop (one load of
// B, one load and one store of C per multiply-add). Here an 8×32 tile of C lives in
// registers (acc) for the whole k loop: per k, 2 vectors of B and 8 values of A feed 16
// vector FMAs. No packing yet, so the loads of B jump N floats from one k to the next.
// M must be a multiple of 8 and N of 32 (the bench's sizes are).
inline void register_tiled(int64_t M, int64_t N, int64_t K, const float* A, const float* B,
                           float* C) {
  constexpr int64_t TM = 8, TN = 32;
  for (int64_t i0 = 0; i0 < M; i0 += TM)
    for (int64_t j0 = 0; j0 < N; j0 += TN) {
      float acc[TM][TN] = {};
      for (int64_t k = 0; k < K; ++k) {
        const float* b = B + k * N + j0;
        for (int64_t i = 0; i < TM; ++i) {
          const float a = A[(i0 + i) * K + k];
#pragma omp simd
          for (int64_t j = 0; j < TN; ++j) acc[i][j] = std::fma(a, b[j], acc[i][j]);
        }
      }
      for (int64_t i = 0; i < TM; ++i)
        for (int64_t j = 0; j < TN; ++j) C[(i0 + i) * N + j0 + j] = acc[i][j];
    }
}

}  // namespace qkv::gemm_stages
