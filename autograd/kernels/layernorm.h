// LayerNorm over rows of length D, forward and backward (chapter 10).
//
// Forward, per row:  μ = mean(x), σ² = mean((x − μ)²)  (biased, as PyTorch),
//   rstd = 1/√(σ² + eps), x̂ = (x − μ)·rstd, y = x̂·w + b.  μ and rstd are saved.
// Backward, with g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//   dw = Σ_rows dy·x̂,  db = Σ_rows dy.
// dx is one thread per row; dw and db are one thread per column range, each summing the
// rows in order, so nothing depends on the thread count.
#pragma once

#include <omp.h>

#include <cmath>
#include <cstdint>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

inline void layer_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* w,
                               const float* b, int64_t rows, int64_t D, float eps) {
#pragma omp parallel for schedule(static) if (rows * D >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * D;
    float m = 0.f;
    for (int64_t j = 0; j < D; ++j) m += xr[j];
    m /= static_cast<float>(D);
    float v = 0.f;
    for (int64_t j = 0; j < D; ++j) v += (xr[j] - m) * (xr[j] - m);
    v /= static_cast<float>(D);
    const float s = 1.f / std::sqrt(v + eps);
    mean[r] = m;
    rstd[r] = s;
    float* yr = y + r * D;
    for (int64_t j = 0; j < D; ++j) {
      const float xhat = (xr[j] - m) * s;
      yr[j] = xhat * (w ? w[j] : 1.f) + (b ? b[j] : 0.f);
    }
  }
}

// dx += the input gradient above, thread t's share of the rows when `threads` threads run it
// inside one region (add false: dx = it, dx is a new buffer); dx2, if given, receives the
// same, always added (an add before the norm: both inputs).
inline void layer_norm_backward_input_part(float* dx, float* dx2, const float* dy, const float* x,
                                           const float* mean, const float* rstd, const float* w,
                                           int64_t rows, int64_t D, int t, int threads,
                                           bool add = true) {
  for (int64_t r = rows * t / threads; r < rows * (t + 1) / threads; ++r) {
    const float* xr = x + r * D;
    const float* gr = dy + r * D;
    const float m = mean[r], s = rstd[r];
    float g_mean = 0.f, gx_mean = 0.f;
    for (int64_t j = 0; j < D; ++j) {
      const float g = gr[j] * (w ? w[j] : 1.f);
      g_mean += g;
      gx_mean += g * (xr[j] - m) * s;
    }
    g_mean /= static_cast<float>(D);
    gx_mean /= static_cast<float>(D);
    float* dr = dx + r * D;
    float* dr2 = dx2 ? dx2 + r * D : nullptr;
    for (int64_t j = 0; j < D; ++j) {
      const float g = gr[j] * (w ? w[j] : 1.f);
      const float xhat = (xr[j] - m) * s;
      const float d = s * (g - g_mean - xhat * gx_mean);
      dr[j] = add ? dr[j] + d : d;
      if (dr2) dr2[j] += d;
    }
  }
}

// dw += Σ_rows dy·x̂, db += Σ_rows dy for thread t's share of the columns, in chunks of 16 (a
// cache line: no two threads write one), each column summed over the rows in order.
inline void layer_norm_backward_params_part(float* dw, float* db, const float* dy, const float* x,
                                            const float* mean, const float* rstd, int64_t rows,
                                            int64_t D, int t, int threads) {
  constexpr int64_t kChunk = 16;
  const int64_t chunks = (D + kChunk - 1) / kChunk;
  for (int64_t c = chunks * t / threads; c < chunks * (t + 1) / threads; ++c) {
    const int64_t j0 = c * kChunk, j1 = j0 + kChunk < D ? j0 + kChunk : D;
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * D;
      const float* gr = dy + r * D;
      for (int64_t j = j0; j < j1; ++j) {
        if (dw) dw[j] += gr[j] * (xr[j] - mean[r]) * rstd[r];
        if (db) db[j] += gr[j];
      }
    }
  }
}

// The whole backward in one parallel region: the rows for dx (and dx2), the columns for dw
// and db; they read the same inputs and write different outputs, so no barrier between.
// Nullptr outputs are skipped; add_dx false writes dx instead of adding (dx is new).
inline void layer_norm_backward(float* dx, float* dx2, float* dw, float* db, const float* dy,
                                const float* x, const float* mean, const float* rstd,
                                const float* w, int64_t rows, int64_t D, bool add_dx = true) {
#pragma omp parallel if (rows * D >= kParallelMin)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    if (dx)
      layer_norm_backward_input_part(dx, dx2, dy, x, mean, rstd, w, rows, D, t, threads, add_dx);
    if (dw || db) layer_norm_backward_params_part(dw, db, dy, x, mean, rstd, rows, D, t, threads);
  }
}

}  // namespace qkv::kernels
