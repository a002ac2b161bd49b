// Reductions over one axis of a contiguous array viewed as [outer, n, inner] (chapter 02).
//
// Every output element is summed over k = 0, 1, …, n-1 in that order by exactly one
// thread, so the result is the same for any OMP_NUM_THREADS (floating-point addition is
// not associative: splitting one sum across threads would change the last bits).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

// out[o, i] = Σ_k a[o, k, i]
inline void sum_axis(float* out, const float* a, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * n >= kParallelMin)
    for (int64_t o = 0; o < outer; ++o) {
      const float* row = a + o * n;
      float acc = 0.f;
      for (int64_t k = 0; k < n; ++k) acc += row[k];
      out[o] = acc;
    }
    return;
  }
  // Columns: each thread owns a range of (o, i) outputs and walks k outside i, so the
  // innermost loop reads contiguous memory and vectorises.
  constexpr int64_t kChunk = 256;
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
#pragma omp parallel for collapse(2) schedule(static) if (outer * n * inner >= kParallelMin)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t i0 = c * kChunk, i1 = i0 + kChunk < inner ? i0 + kChunk : inner;
      float* dst = out + o * inner;
      for (int64_t i = i0; i < i1; ++i) dst[i] = 0.f;
      for (int64_t k = 0; k < n; ++k) {
        const float* src = a + (o * n + k) * inner;
        for (int64_t i = i0; i < i1; ++i) dst[i] += src[i];
      }
    }
  }
}

// out[j] += Σ_r a[r, j] over a [rows, n] array, for thread t's share of the columns when
// `threads` threads share the work inside a region the caller opened (a Linear layer's bias
// gradient beside its two products, ops_linear.cpp). Each column is summed from 0 over r in
// order, then added to out: the bits of sum_axis followed by add_into, whatever `threads` is.
// Columns are shared in chunks of 16 floats, one cache line, so no two threads write the same
// line. A thread sums 64 of its columns at once where it can: one addition per row and column
// waits for the one before it (4 cycles), so one 16-wide chain at a time left the adder idle
// three cycles in four, and four chains fill it; a row's 64 columns are also 4 neighbouring
// cache lines instead of one line per row (at [640, 128]: 3.2x as fast on one thread, 1.4-1.6x
// on two, chapter 14).
template <int64_t W>  // w columns from j0: w = W = 64, or W = 16 and w <= 16 (one chunk)
inline void sum_rows_columns(float* out, const float* a, int64_t rows, int64_t n, int64_t j0,
                             int64_t w, bool add) {
  float acc[W] = {};
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = a + r * n + j0;
#pragma omp simd
    for (int64_t l = 0; l < (W == 16 ? w : W); ++l) acc[l] += src[l];
  }
  for (int64_t l = 0; l < w; ++l) out[j0 + l] = add ? out[j0 + l] + acc[l] : acc[l];
}
inline void sum_rows_into_part(float* out, const float* a, int64_t rows, int64_t n, int t,
                               int threads, bool add = true) {
  constexpr int64_t kChunk = 16, kWide = 64;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const int64_t j1 = std::min(n, chunks * (t + 1) / threads * kChunk);
  int64_t j0 = chunks * t / threads * kChunk;
  for (; j0 + kWide <= j1; j0 += kWide) sum_rows_columns<kWide>(out, a, rows, n, j0, kWide, add);
  for (; j0 < j1; j0 += kChunk)
    sum_rows_columns<kChunk>(out, a, rows, n, j0, std::min(kChunk, j1 - j0), add);
}

// out[o, i] = max_k a[o, k, i]; arg[o, i] = the first k reaching it.
inline void max_axis(float* out, int64_t* arg, const float* a, int64_t outer, int64_t n,
                     int64_t inner) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * n * inner >= kParallelMin)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      float best = -std::numeric_limits<float>::infinity();
      int64_t best_k = 0;
      for (int64_t k = 0; k < n; ++k) {
        const float v = a[(o * n + k) * inner + i];
        if (v > best || (k == 0)) {
          best = v;
          best_k = k;
        }
      }
      out[o * inner + i] = best;
      arg[o * inner + i] = best_k;
    }
  }
}

}  // namespace qkv::kernels
