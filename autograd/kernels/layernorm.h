// LayerNorm over rows of length D, forward and backward (chapter 10).
//
// Forward, per row:  μ = mean(x), σ² = mean((x − μ)²)  (biased, as PyTorch),
//   rstd = 1/√(σ² + eps), x̂ = (x − μ)·rstd, y = x̂·w + b.  μ and rstd are saved.
// Backward, with g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//   dw = Σ_rows dy·x̂,  db = Σ_rows dy.
// dx is one thread per row; dw and db are one thread per column range, each summing the
// rows in order, so nothing depends on the thread count.
#pragma once

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

inline void layer_norm_backward_input(float* dx, const float* dy, const float* x, const float* mean,
                                      const float* rstd, const float* w, int64_t rows, int64_t D) {
#pragma omp parallel for schedule(static) if (rows * D >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
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
    for (int64_t j = 0; j < D; ++j) {
      const float g = gr[j] * (w ? w[j] : 1.f);
      const float xhat = (xr[j] - m) * s;
      dr[j] += s * (g - g_mean - xhat * gx_mean);
    }
  }
}

inline void layer_norm_backward_params(float* dw, float* db, const float* dy, const float* x,
                                       const float* mean, const float* rstd, int64_t rows,
                                       int64_t D) {
  constexpr int64_t kChunk = 64;
  const int64_t chunks = (D + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (rows * D >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
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

}  // namespace qkv::kernels
