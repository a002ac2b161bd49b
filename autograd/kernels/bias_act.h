// y = act(x + b) over rows of length n, and its backward, in one pass each (chapter 04).
// Unfused, the same work is three passes over memory (add the bias, apply the activation,
// and on the way back multiply by act') with a saved pre-activation tensor in between.
#pragma once

#include <cmath>
#include <cstdint>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

enum class Act { ReLU, GELU };

inline float act_forward(float h, Act a) {
  if (a == Act::ReLU) return h > 0.f ? h : 0.f;
  return 0.5f * h * (1.f + std::erf(h * 0.70710678118654752f));
}
// d act / dh: ReLU's is taken as 0 at exactly 0; GELU's is Φ(h) + h·φ(h).
inline float act_derivative(float h, Act a) {
  if (a == Act::ReLU) return h > 0.f ? 1.f : 0.f;
  return 0.5f * (1.f + std::erf(h * 0.70710678118654752f)) +
         h * 0.39894228040143268f * std::exp(-0.5f * h * h);
}

inline void bias_act_forward(float* y, const float* x, const float* b, int64_t rows, int64_t n,
                             Act a) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) y[r * n + j] = act_forward(x[r * n + j] + b[j], a);
}

// dh = dy·act'(x + b); dx += dh; db += Σ_rows dh. db is summed by column ranges, each by one
// thread in row order, so the result does not depend on the thread count.
inline void bias_act_backward(float* dx, float* db, const float* dy, const float* x, const float* b,
                              int64_t rows, int64_t n, Act a) {
  if (!db) {
    if (!dx) return;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j)
        dx[r * n + j] += dy[r * n + j] * act_derivative(x[r * n + j] + b[j], a);
    return;
  }
  // One pass: each thread owns a range of columns, computes dh once per element, adds it to
  // dx and, walking the rows in order, to db.
  constexpr int64_t kChunk = 64;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t j0 = c * kChunk, j1 = j0 + kChunk < n ? j0 + kChunk : n;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = j0; j < j1; ++j) {
        const float dh = dy[r * n + j] * act_derivative(x[r * n + j] + b[j], a);
        if (dx) dx[r * n + j] += dh;
        db[j] += dh;
      }
  }
}

}  // namespace qkv::kernels
