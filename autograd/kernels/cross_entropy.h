// Cross-entropy fused with log-softmax, with an ignore index and label smoothing (ch05).
//
// For a row x of C logits and target t, with lse = log Σ exp(x) and q the target
// distribution (1−ε)·onehot(t) + ε/C:
//   loss = −Σ_c q_c·(x_c − lse) = lse − (1−ε)·x_t − (ε/C)·Σ_c x_c
//   dloss/dx_c = softmax(x)_c − q_c
// No probability is ever logged, so no log(0) = −inf can appear, whatever ε is.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "autograd/kernels/exp.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/softmax.h"

namespace qkv::kernels {

// Per-row losses (0 for ignored rows) and the log-sum-exp of each row, kept for backward.
inline void cross_entropy_forward(float* row_loss, float* lse, const float* logits,
                                  const int64_t* targets, int64_t rows, int64_t classes,
                                  int64_t ignore_index, float smoothing) {
#pragma omp parallel for schedule(static) if (rows * classes >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = logits + r * classes;
    const float m = row_max(x, classes);
    float s = 0.f, total = 0.f;
    // exp in chunks through a small buffer, so exp_fast runs vectorised; the sums stay in order
    constexpr int64_t kChunk = 64;
    float e[kChunk];
    for (int64_t c0 = 0; c0 < classes; c0 += kChunk) {
      const int64_t len = std::min(kChunk, classes - c0);
      for (int64_t c = 0; c < len; ++c) e[c] = exp_fast(x[c0 + c] - m);
      for (int64_t c = 0; c < len; ++c) s += e[c];
    }
    for (int64_t c = 0; c < classes; ++c) total += x[c];
    lse[r] = m + std::log(s);
    const int64_t t = targets[r];
    row_loss[r] = t == ignore_index ? 0.f
                                    : lse[r] - (1.f - smoothing) * x[t] -
                                          smoothing / static_cast<float>(classes) * total;
  }
}

// dlogits += scale · (softmax(x) − q) for each row that is not ignored.
inline void cross_entropy_backward(float* dlogits, const float* logits, const float* lse,
                                   const int64_t* targets, int64_t rows, int64_t classes,
                                   int64_t ignore_index, float smoothing, float scale,
                                   bool add = true) {
  const float uniform = smoothing / static_cast<float>(classes);
#pragma omp parallel for schedule(static) if (rows * classes >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = targets[r];
    float* d = dlogits + r * classes;
    if (t == ignore_index) {
      if (!add)  // a new buffer: an ignored row's gradient is 0, written like any other
        for (int64_t c = 0; c < classes; ++c) d[c] = 0.f;
      continue;
    }
    const float* x = logits + r * classes;
    if (add)
      for (int64_t c = 0; c < classes; ++c) d[c] += scale * (exp_fast(x[c] - lse[r]) - uniform);
    else
      for (int64_t c = 0; c < classes; ++c) d[c] = scale * (exp_fast(x[c] - lse[r]) - uniform);
    d[t] -= scale * (1.f - smoothing);
  }
}

}  // namespace qkv::kernels
