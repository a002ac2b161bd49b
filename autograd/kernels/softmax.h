// Row-wise softmax and log-softmax over contiguous rows of length n (chapter 05).
//
// Subtracting the row maximum first makes every exponent ≤ 0, so exp never overflows
// (inputs of ±1e4 are fine) and the largest term is exactly 1, so the sum never underflows
// to 0 (which would turn log-softmax into −inf). Rows are independent: one thread a row.
// exp is exp_fast (kernels/exp.h: within 2 ulp of std::exp, and vectorised), each in a loop
// of its own so the compiler can vectorise it; the sums run in order, as before.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "autograd/kernels/exp.h"
#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

inline float row_max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

// y = softmax(x) row by row. A row that is entirely −inf (every key masked) gives zeros,
// not NaN: nothing to attend to means no contribution.
inline void softmax_rows(float* y, const float* x, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float m = row_max(xr, n);
    if (m == -std::numeric_limits<float>::infinity()) {
      for (int64_t j = 0; j < n; ++j) yr[j] = 0.f;
      continue;
    }
    for (int64_t j = 0; j < n; ++j) yr[j] = exp_fast(xr[j] - m);
    float s = 0.f;
    for (int64_t j = 0; j < n; ++j) s += yr[j];
    const float inv = 1.f / s;
    for (int64_t j = 0; j < n; ++j) yr[j] *= inv;
  }
}

// dx += y ⊙ (dy − Σⱼ dyⱼ·yⱼ)
inline void softmax_rows_backward(float* dx, const float* y, const float* dy, int64_t rows,
                                  int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * n;
    const float* gr = dy + r * n;
    float dot = 0.f;
    for (int64_t j = 0; j < n; ++j) dot += gr[j] * yr[j];
    float* dr = dx + r * n;
    for (int64_t j = 0; j < n; ++j) dr[j] += yr[j] * (gr[j] - dot);
  }
}

// y = x − logΣexp(x), with the max subtracted inside the log.
inline void log_softmax_rows(float* y, const float* x, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float m = row_max(xr, n);
    for (int64_t j = 0; j < n; ++j) yr[j] = exp_fast(xr[j] - m);  // y as scratch space
    float s = 0.f;
    for (int64_t j = 0; j < n; ++j) s += yr[j];
    const float lse = m + std::log(s);
    for (int64_t j = 0; j < n; ++j) yr[j] = xr[j] - lse;
  }
}

// dx += dy − exp(y)·Σⱼ dyⱼ   (exp(y) is the softmax)
inline void log_softmax_rows_backward(float* dx, const float* y, const float* dy, int64_t rows,
                                      int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* gr = dy + r * n;
    float s = 0.f;
    for (int64_t j = 0; j < n; ++j) s += gr[j];
    for (int64_t j = 0; j < n; ++j) dx[r * n + j] += gr[j] - exp_fast(y[r * n + j]) * s;
  }
}

}  // namespace qkv::kernels
