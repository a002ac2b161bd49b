// LayerNorm over rows of length D, forward and backward (chapter 10).
//
// Forward, per row:  μ = mean(x), σ² = mean((x − μ)²)  (biased, as PyTorch),
//   rstd = 1/√(σ² + eps), x̂ = (x − μ)·rstd, y = x̂·w + b.  μ and rstd are saved.
// Backward, with g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
//   dw = Σ_rows dy·x̂,  db = Σ_rows dy.
// dx is one thread per row (their sums 16 rows at a time: layer_norm_stats16); dw and db are
// one thread per column range, each summing the rows in order, so nothing depends on the
// thread count.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "autograd/aligned.h"
#include "autograd/kernels/dropout.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/transpose.h"

namespace qkv::kernels {

// μ and rstd of one row, and of 16 rows at once (the same arithmetic, lane by lane: each lane
// adds its own row's values in the one-row loop's order, 16 chains at once instead of one
// chain of dependent additions; rows_to_lanes16 in transpose.h). Every product that is summed
// is first stored (in `sq`, or over t), then added in a loop of its own: a compiler may fuse
// `v += d·d` into one multiply-add with a single rounding, and whether it does differs between
// compilers and between the vector and scalar forms of a loop; stored first, each product is
// rounded once, then added, in both forms, on every compiler.
inline void layer_norm_stats(const float* xr, int64_t D, float eps, float* sq, float* mean,
                             float* rstd) {
  float m = 0.f;
  for (int64_t j = 0; j < D; ++j) m += xr[j];
  m /= static_cast<float>(D);
#pragma omp simd
  for (int64_t j = 0; j < D; ++j) sq[j] = (xr[j] - m) * (xr[j] - m);
  float v = 0.f;
  for (int64_t j = 0; j < D; ++j) v += sq[j];
  v /= static_cast<float>(D);
  *mean = m;
  *rstd = 1.f / std::sqrt(v + eps);
}
inline void layer_norm_stats16(const float* x, int64_t D, float eps, float* mean, float* rstd) {
  float* t = thread_scratch<RowLanes>(16 * D);
  rows_to_lanes16(x, D, D, t);
  float m[16] = {}, v[16] = {};
  for (int64_t j = 0; j < D; ++j) {
    const float* tj = t + j * 16;
#pragma omp simd
    for (int64_t l = 0; l < 16; ++l) m[l] += tj[l];
  }
#pragma omp simd
  for (int64_t l = 0; l < 16; ++l) m[l] /= static_cast<float>(D);
  for (int64_t j = 0; j < D; ++j) {
    float* tj = t + j * 16;
#pragma omp simd
    for (int64_t l = 0; l < 16; ++l) tj[l] = (tj[l] - m[l]) * (tj[l] - m[l]);
  }
  for (int64_t j = 0; j < D; ++j) {
    const float* tj = t + j * 16;
#pragma omp simd
    for (int64_t l = 0; l < 16; ++l) v[l] += tj[l];
  }
#pragma omp simd
  for (int64_t l = 0; l < 16; ++l) {
    v[l] /= static_cast<float>(D);
    mean[l] = m[l];
    rstd[l] = 1.f / std::sqrt(v[l] + eps);
  }
}

// Rows [first, last), 16 at a time from `first` (the 16-row and one-row paths give the same
// bits, so where the groups start changes nothing).
inline void layer_norm_forward_rows(float* y, float* mean, float* rstd, const float* x,
                                    const float* w, const float* b, int64_t first, int64_t last,
                                    int64_t D, float eps) {
  for (int64_t r0 = first; r0 < last; r0 += 16) {
    const int64_t r1 = std::min(last, r0 + 16);
    if (r1 - r0 == 16) {
      layer_norm_stats16(x + r0 * D, D, eps, mean + r0, rstd + r0);
    } else {
      float* sq = thread_scratch<RowLanes>(D);
      for (int64_t r = r0; r < r1; ++r) layer_norm_stats(x + r * D, D, eps, sq, mean + r, rstd + r);
    }
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * D;
      const float m = mean[r], s = rstd[r];
      float* yr = y + r * D;
      for (int64_t j = 0; j < D; ++j) {
        const float xhat = (xr[j] - m) * s;
        yr[j] = xhat * (w ? w[j] : 1.f) + (b ? b[j] : 0.f);
      }
    }
  }
}

inline void layer_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* w,
                               const float* b, int64_t rows, int64_t D, float eps) {
  const int64_t groups = (rows + 15) / 16;
  // groups of 16 rows shared from both ends (parallel.h)
  parallel_for_items(groups, rows * D >= kParallelMin, [&](int64_t g0, int64_t g1) {
    layer_norm_forward_rows(y, mean, rstd, x, w, b, g0 * 16, std::min(rows, g1 * 16), D, eps);
  });
}

// mean(g) and mean(g·x̂) of one row, and of 16 rows at once (the same arithmetic, lane by lane;
// the terms stored before they are summed, as in layer_norm_stats).
inline void layer_norm_grad_stats(const float* gr, const float* xr, const float* w, float m,
                                  float s, int64_t D, float* tg, float* tgx, float* g_mean,
                                  float* gx_mean) {
#pragma omp simd
  for (int64_t j = 0; j < D; ++j) {
    tg[j] = gr[j] * (w ? w[j] : 1.f);
    tgx[j] = tg[j] * (xr[j] - m) * s;
  }
  float gm = 0.f, gxm = 0.f;
  for (int64_t j = 0; j < D; ++j) {
    gm += tg[j];
    gxm += tgx[j];
  }
  *g_mean = gm / static_cast<float>(D);
  *gx_mean = gxm / static_cast<float>(D);
}
inline void layer_norm_grad_stats16(const float* dy, const float* x, const float* w,
                                    const float* mean, const float* rstd, int64_t D, float* g_mean,
                                    float* gx_mean) {
  float* tg = thread_scratch<RowLanes>(32 * D);
  float* tx = tg + 16 * D;
  rows_to_lanes16(dy, D, D, tg);
  rows_to_lanes16(x, D, D, tx);
  float m[16], s[16];
  for (int64_t l = 0; l < 16; ++l) m[l] = mean[l], s[l] = rstd[l];
  for (int64_t j = 0; j < D; ++j) {  // tg = g = dy·w, tx = g·x̂, lane by lane
    const float wj = w ? w[j] : 1.f;
    float *gj = tg + j * 16, *xj = tx + j * 16;
#pragma omp simd
    for (int64_t l = 0; l < 16; ++l) {
      gj[l] = gj[l] * wj;
      xj[l] = gj[l] * (xj[l] - m[l]) * s[l];
    }
  }
  float gm[16] = {}, gxm[16] = {};
  for (int64_t j = 0; j < D; ++j) {
    const float *gj = tg + j * 16, *xj = tx + j * 16;
#pragma omp simd
    for (int64_t l = 0; l < 16; ++l) {
      gm[l] += gj[l];
      gxm[l] += xj[l];
    }
  }
#pragma omp simd
  for (int64_t l = 0; l < 16; ++l) {
    g_mean[l] = gm[l] / static_cast<float>(D);
    gx_mean[l] = gxm[l] / static_cast<float>(D);
  }
}

// dx += the input gradient above, for the rows [first, last) (add false: dx = it, dx is a new
// buffer). dx2, if given, receives the same through a dropout mask (an add of a dropped-out
// input before the norm: both inputs of the add, dropout_add_layer_norm):
// d·(keep2[i] ? scale2 : 0), or d itself without keep2; added, or written when add2 is false.
struct RowGrad {};  // thread_scratch tag
struct SecondInput {
  float* dx2 = nullptr;
  const uint8_t* keep2 = nullptr;
  float scale2 = 1.f;
  bool add2 = true;
};
inline void layer_norm_backward_input_rows(float* dx, const SecondInput& second, const float* dy,
                                           const float* x, const float* mean, const float* rstd,
                                           const float* w, int64_t first, int64_t last, int64_t D,
                                           bool add = true) {
  float* d = second.dx2 ? thread_scratch<RowGrad>(D) : nullptr;  // one row's gradient
  for (int64_t r0 = first; r0 < last; r0 += 16) {
    const int64_t r1 = std::min(last, r0 + 16);
    float g_mean[16], gx_mean[16];
    if (r1 - r0 == 16) {
      layer_norm_grad_stats16(dy + r0 * D, x + r0 * D, w, mean + r0, rstd + r0, D, g_mean, gx_mean);
    } else {
      float* tg = thread_scratch<RowLanes>(2 * D);
      for (int64_t r = r0; r < r1; ++r)
        layer_norm_grad_stats(dy + r * D, x + r * D, w, mean[r], rstd[r], D, tg, tg + D,
                              g_mean + (r - r0), gx_mean + (r - r0));
    }
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * D;
      const float* gr = dy + r * D;
      const float m = mean[r], s = rstd[r];
      const float gm = g_mean[r - r0], gxm = gx_mean[r - r0];
      auto grad = [&](int64_t j) {  // the input gradient of element j (section 2 of ch10)
        const float g = gr[j] * (w ? w[j] : 1.f);
        const float xhat = (xr[j] - m) * s;
        return s * (g - gm - xhat * gxm);
      };
      float* dr = dx ? dx + r * D : nullptr;
      if (!second.dx2) {
        for (int64_t j = 0; j < D; ++j) dr[j] = add ? dr[j] + grad(j) : grad(j);
        continue;
      }
      // Two outputs: the row's gradient is stored first, then handed on as the ops this
      // replaces hand it on (an add, then dropout's d·mask), loop by loop, so that no
      // compiler can fuse a product of one step into the sum of the next (layer_norm_stats).
      for (int64_t j = 0; j < D; ++j) d[j] = grad(j);
      if (dr) {
        if (add) {
          for (int64_t j = 0; j < D; ++j) dr[j] += d[j];
        } else {
          for (int64_t j = 0; j < D; ++j) dr[j] = d[j];
        }
      }
      float* dr2 = second.dx2 + r * D;
      if (second.keep2)
        dropout_backward_range(dr2, d, second.keep2 + r * D, D, second.scale2, second.add2);
      else if (second.add2)
        for (int64_t j = 0; j < D; ++j) dr2[j] += d[j];
      else
        for (int64_t j = 0; j < D; ++j) dr2[j] = d[j];
    }
  }
}

// dw += Σ_rows dy·x̂, db += Σ_rows dy for the W columns from j0 (w of them, w < W only for a
// short last chunk of 16), each column summed over the rows in order. The sums live in
// registers through all the rows (through dw and db in memory, each row's add waited for the
// last row's store), starting from dw and db as they were: the same additions in the same
// order. The multiply-add is spelled std::fma: written `aw += gr·(x − μ)·s`, g++ fused it in
// the loop's vector form and not in its scalar form, so a column's bits depended on which form
// summed it.
template <int64_t W>
inline void layer_norm_params_columns(float* dw, float* db, const float* dy, const float* x,
                                      const float* mean, const float* rstd, int64_t rows, int64_t D,
                                      int64_t j0, int64_t w) {
  float aw[W] = {}, ab[W] = {};
  for (int64_t j = 0; j < w; ++j) aw[j] = dw ? dw[j0 + j] : 0.f, ab[j] = db ? db[j0 + j] : 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * D + j0;
    const float* gr = dy + r * D + j0;
    const float m = mean[r], s = rstd[r];
#pragma omp simd
    for (int64_t j = 0; j < (W == 16 ? w : W); ++j) {
      aw[j] = std::fma(gr[j] * (xr[j] - m), s, aw[j]);
      ab[j] += gr[j];
    }
  }
  for (int64_t j = 0; j < w; ++j) {
    if (dw) dw[j0 + j] = aw[j];
    if (db) db[j0 + j] = ab[j];
  }
}

// dw and db for thread t's share of the columns, shared in chunks of 16 (a cache line: no two
// threads write one), 64 columns at a time where the share allows: 8 independent chains of
// additions instead of 2, and 4 neighbouring cache lines of each row instead of one (as
// sum_rows_into_part in reduce.h; chapter 14).
inline void layer_norm_backward_params_part(float* dw, float* db, const float* dy, const float* x,
                                            const float* mean, const float* rstd, int64_t rows,
                                            int64_t D, int t, int threads) {
  constexpr int64_t kChunk = 16, kWide = 64;
  const int64_t chunks = (D + kChunk - 1) / kChunk;
  const int64_t j1 = std::min(D, chunks * (t + 1) / threads * kChunk);
  int64_t j0 = chunks * t / threads * kChunk;
  for (; j0 + kWide <= j1; j0 += kWide)
    layer_norm_params_columns<kWide>(dw, db, dy, x, mean, rstd, rows, D, j0, kWide);
  for (; j0 < j1; j0 += kChunk)
    layer_norm_params_columns<kChunk>(dw, db, dy, x, mean, rstd, rows, D, j0,
                                      std::min(kChunk, j1 - j0));
}

// The whole backward in one parallel region: the rows for dx (and dx2), the columns for dw
// and db; they read the same inputs and write different outputs, so no barrier between.
// Nullptr outputs are skipped; add_dx false writes dx instead of adding (dx is new).
inline void layer_norm_backward(float* dx, const SecondInput& second, float* dw, float* db,
                                const float* dy, const float* x, const float* mean,
                                const float* rstd, const float* w, int64_t rows, int64_t D,
                                bool add_dx = true) {
  RegionEnd end;
  EndClaims claims;  // groups of 16 rows for dx, claimed from both ends (parallel.h)
#pragma omp parallel if (rows * D >= kParallelMin)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    if (dx || second.dx2)
      share_items(claims, (rows + 15) / 16, t, threads, [&](int64_t g0, int64_t g1) {
        layer_norm_backward_input_rows(dx, second, dy, x, mean, rstd, w, g0 * 16,
                                       std::min(rows, g1 * 16), D, add_dx);
      });
    if (dw || db) layer_norm_backward_params_part(dw, db, dy, x, mean, rstd, rows, D, t, threads);
    end.done(t);
  }
}

}  // namespace qkv::kernels
