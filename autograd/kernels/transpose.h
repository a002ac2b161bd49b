// A 16×16 block transposed (chapters 03 and 14). GEMM packs a transposed B with it, and
// LayerNorm turns 16 rows into the 16 lanes of a vector with it, to sum 16 rows at once.
#pragma once

#include <cstdint>

#include "autograd/kernels/intrinsics.h"

namespace qkv::kernels {

// dst[k·ldd + j] = src[j·lds + k] for a 16×16 block. Measured on this machine (Zen 5) while
// packing a 128×64 panel: the plain column-by-column copy costs about 1 cycle a float, the
// portable tile below about 0.6, and with AVX-512 — the block transposed in 16 registers by
// four rounds of shuffles — about 0.25. Packing a transposed B is on the path of every
// Linear's forward (x·Wᵀ).
inline void transpose16(const float* src, int64_t lds, float* dst, int64_t ldd) {
#if defined(__AVX512F__)
  __m512 r[16], t[16];
  for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(src + j * lds);
  for (int i = 0; i < 8; ++i) {  // interleave pairs of rows, 1 float at a time
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i)  // then 2 floats at a time
    for (int h = 0; h < 2; ++h) {
      const __m512d a = _mm512_castps_pd(t[4 * i + h]), b = _mm512_castps_pd(t[4 * i + 2 + h]);
      r[4 * i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      r[4 * i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
  for (int i = 0; i < 2; ++i)  // then 128-bit lanes
    for (int h = 0; h < 4; ++h) {
      t[8 * i + h] = _mm512_shuffle_f32x4(r[8 * i + h], r[8 * i + 4 + h], 0x88);
      t[8 * i + 4 + h] = _mm512_shuffle_f32x4(r[8 * i + h], r[8 * i + 4 + h], 0xdd);
    }
  for (int h = 0; h < 8; ++h) {
    r[h] = _mm512_shuffle_f32x4(t[h], t[8 + h], 0x88);
    r[8 + h] = _mm512_shuffle_f32x4(t[h], t[8 + h], 0xdd);
  }
  for (int k = 0; k < 16; ++k) _mm512_storeu_ps(dst + k * ldd, r[k]);
#else
  float t[16][16];
  for (int j = 0; j < 16; ++j)
    for (int k = 0; k < 16; ++k) t[k][j] = src[j * lds + k];
  for (int k = 0; k < 16; ++k)
    for (int j = 0; j < 16; ++j) dst[k * ldd + j] = t[k][j];
#endif
}

// Sixteen rows at a time (chapter 14), for LayerNorm's and cross-entropy's row sums. A row's sum is
// a chain of dependent additions, each waiting for the one before (~4 cycles), so a row at a time
// adds about a quarter of a float per cycle. Transposed block by block into t [D, 16], lane l of
// each 16-float row of t holds x[l, j]; the loops over the 16 lanes are vector instructions in
// which every lane adds its own row's values in the same order as the one-row loop: the same bits,
// 16 chains at once.
inline void rows_to_lanes16(const float* x, int64_t ld, int64_t D, float* t) {
  const int64_t D16 = D / 16 * 16;
  for (int64_t j = 0; j < D16; j += 16) transpose16(x + j, ld, t + j * 16, 16);
  for (int64_t j = D16; j < D; ++j)
    for (int64_t l = 0; l < 16; ++l) t[j * 16 + l] = x[l * ld + j];
}

// The per-thread buffer rows_to_lanes16's callers transpose into (thread_scratch).
struct RowLanes {};

}  // namespace qkv::kernels
