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
#include <limits>

#include "autograd/aligned.h"
#include "autograd/kernels/exp.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/softmax.h"
#include "autograd/kernels/transpose.h"

namespace qkv::kernels {

// The loss of row r from its max m, Σ exp(x − m) = s and Σ x = total.
inline void cross_entropy_row_loss(float* row_loss, float* lse, const float* x, int64_t t,
                                   int64_t classes, int64_t ignore_index, float smoothing, float m,
                                   float s, float total) {
  *lse = m + std::log(s);
  *row_loss = t == ignore_index ? 0.f
                                : *lse - (1.f - smoothing) * x[t] -
                                      smoothing / static_cast<float>(classes) * total;
}

// Per-row losses (0 for ignored rows) and the log-sum-exp of each row, kept for backward.
// The max and the two sums run in class order, 16 rows at a time in vector lanes where 16 rows
// remain (rows_to_lanes16, as LayerNorm does), else one row at a time: the same bits either way,
// since each exp is stored before it is added (no fused multiply-add across the two).
inline void cross_entropy_forward(float* row_loss, float* lse, const float* logits,
                                  const int64_t* targets, int64_t rows, int64_t classes,
                                  int64_t ignore_index, float smoothing) {
  constexpr int64_t kChunk = 64;  // classes per pass through the small buffers below
  const int64_t groups = (rows + 15) / 16;
  // groups shared from both ends (parallel.h)
  parallel_for_items(groups, rows * classes >= kParallelMin, [&](int64_t first, int64_t last) {
    for (int64_t grp = first; grp < last; ++grp) {
      const int64_t r0 = grp * 16;
      if (r0 + 16 <= rows) {
        float m[16], s[16] = {}, total[16] = {};
        float* t =
            thread_scratch<RowLanes>(2 * 16 * kChunk);  // x, then exp(x − m), lane l = row r0 + l
        float* e = t + 16 * kChunk;
        // the max too, lane by lane: row_max's chain of compare-and-selects, 16 rows at once
        for (int64_t l = 0; l < 16; ++l) m[l] = -std::numeric_limits<float>::infinity();
        for (int64_t c0 = 0; c0 < classes; c0 += kChunk) {
          const int64_t len = std::min(kChunk, classes - c0);
          rows_to_lanes16(logits + r0 * classes + c0, classes, len, t);
          for (int64_t c = 0; c < len; ++c)
#pragma omp simd
            for (int64_t l = 0; l < 16; ++l) m[l] = t[c * 16 + l] > m[l] ? t[c * 16 + l] : m[l];
        }
        for (int64_t c0 = 0; c0 < classes; c0 += kChunk) {
          const int64_t len = std::min(kChunk, classes - c0);
          rows_to_lanes16(logits + r0 * classes + c0, classes, len, t);
          for (int64_t c = 0; c < len; ++c)
#pragma omp simd
            for (int64_t l = 0; l < 16; ++l) e[c * 16 + l] = exp_fast(t[c * 16 + l] - m[l]);
          for (int64_t c = 0; c < len; ++c)
#pragma omp simd
            for (int64_t l = 0; l < 16; ++l) {
              s[l] += e[c * 16 + l];
              total[l] += t[c * 16 + l];
            }
        }
        for (int64_t l = 0; l < 16; ++l)
          cross_entropy_row_loss(row_loss + r0 + l, lse + r0 + l, logits + (r0 + l) * classes,
                                 targets[r0 + l], classes, ignore_index, smoothing, m[l], s[l],
                                 total[l]);
        continue;
      }
      for (int64_t r = r0; r < rows; ++r) {
        const float* x = logits + r * classes;
        const float m = row_max(x, classes);
        float s = 0.f, total = 0.f;
        // exp in chunks through a small buffer, so exp_fast runs vectorised; the sums in order
        float e[kChunk];
        for (int64_t c0 = 0; c0 < classes; c0 += kChunk) {
          const int64_t len = std::min(kChunk, classes - c0);
          for (int64_t c = 0; c < len; ++c) e[c] = exp_fast(x[c0 + c] - m);
          for (int64_t c = 0; c < len; ++c) s += e[c];
        }
        for (int64_t c = 0; c < classes; ++c) total += x[c];
        cross_entropy_row_loss(row_loss + r, lse + r, x, targets[r], classes, ignore_index,
                               smoothing, m, s, total);
      }
    }
  });
}

// dlogits += scale · (softmax(x) − q) for each row that is not ignored.
inline void cross_entropy_backward(float* dlogits, const float* logits, const float* lse,
                                   const int64_t* targets, int64_t rows, int64_t classes,
                                   int64_t ignore_index, float smoothing, float scale,
                                   bool add = true) {
  const float uniform = smoothing / static_cast<float>(classes);
  // rows shared from both ends (parallel.h)
  parallel_for_items(rows, rows * classes >= kParallelMin, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
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
  });
}

}  // namespace qkv::kernels
