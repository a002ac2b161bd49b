// The fused attention kernel; attention.h says what it computes and why it is one kernel.
#include "autograd/kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/aligned.h"
#include "autograd/kernels/exp.h"
#include "autograd/kernels/gemm.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/transpose.h"  // transpose16, and <immintrin.h> with AVX-512

namespace qkv::kernels {
namespace {

// Per-thread scratch for one (b, h) pair's local copies (thread_scratch, autograd/aligned.h).
struct AttentionScratch {};
float* scratch(int64_t n) { return thread_scratch<AttentionScratch>(n); }

// Rows of the local transposed copies are padded to whole vectors, so the loops along them
// have no remainder.
constexpr int64_t kLanes = 16;
int64_t padded(int64_t m) { return (m + kLanes - 1) / kLanes * kLanes; }

// Query rows (and gradient rows) handled together. One row's sums are chains of dependent
// multiply-adds (dk of them per score, m per output element) that wait 4 cycles each; four
// rows are four independent chains in flight, and each row of Kᵀ or V is loaded once for the
// four. Every element still gets the arithmetic it got one row at a time, in the same order.
constexpr int64_t kRows = 4;

// For each output row o < nout: out[o·ldo + 0..w) += Σₜ coef[o·co + t·cs]·rows[t·ld + 0..w)
// (`count` terms, summed in acc first, t in order, so the result does not depend on the thread
// count). The three backward products dV, dQ and dK are all this. kRows output rows at a time,
// each row of `rows` loaded once for them; the last block repeats its last row in its unused
// places (computed, not stored). add false: out = the sums (out is a new buffer).
template <int64_t W>
void add_weighted_rows(float* out, int64_t ldo, int64_t nout, const float* coef, int64_t co,
                       int64_t cs, const float* rows, int64_t ld, int64_t count, int64_t w_rt,
                       float* acc_rt, bool add) {
  const int64_t w = W ? W : w_rt;
  float acc_local[W ? kRows * W : 1];
  float* acc = W ? acc_local : acc_rt;
  for (int64_t o0 = 0; o0 < nout; o0 += kRows) {
    const int64_t cnt = std::min(kRows, nout - o0);
    const float* cr[kRows];
    for (int64_t r = 0; r < kRows; ++r) cr[r] = coef + (o0 + std::min(r, cnt - 1)) * co;
#pragma omp simd
    for (int64_t c = 0; c < kRows * w; ++c) acc[c] = 0.f;
    for (int64_t t = 0; t < count; ++t) {
      const float* row = rows + t * ld;
      for (int64_t r = 0; r < kRows; ++r) {
        const float a = cr[r][t * cs];
#pragma omp simd
        for (int64_t c = 0; c < w; ++c) acc[r * w + c] = std::fma(a, row[c], acc[r * w + c]);
      }
    }
    for (int64_t r = 0; r < cnt; ++r) {
      float* o = out + (o0 + r) * ldo;
      if (add) {
#pragma omp simd
        for (int64_t c = 0; c < w; ++c) o[c] += acc[r * w + c];
      } else {
#pragma omp simd
        for (int64_t c = 0; c < w; ++c) o[c] = acc[r * w + c];
      }
    }
  }
}

// dst [w, mp] = the head's [m, w] block (rows ld apart) transposed, zero-padded to mp columns.
// 16 keys × 16 columns at a time by transpose16 (shuffles in registers); a last block of fewer
// than 16 keys is first copied into a zeroed tile, which also writes the padding. Columns past
// the last multiple of 16 (run-time widths) by gathers. The scalar copy, row by row, was a
// tenth of the forward pass; gathers for the keys past the last 16 were a fifth at m = 10.
void transpose_head(const float* src, int64_t ld, int64_t m, int64_t w, float* dst, int64_t mp) {
  const int64_t w16 = w / kLanes * kLanes;
  alignas(64) float tile[kLanes * kLanes];
  for (int64_t j0 = 0; j0 < mp; j0 += kLanes) {
    const int64_t keys = std::min(kLanes, m - j0);
    for (int64_t c0 = 0; c0 < w16; c0 += kLanes) {
      const float* block = src + j0 * ld + c0;
      if (keys == kLanes) {
        transpose16(block, ld, dst + c0 * mp + j0, mp);
        continue;
      }
      for (int64_t j = 0; j < kLanes; ++j)
#pragma omp simd
        for (int64_t c = 0; c < kLanes; ++c)
          tile[j * kLanes + c] = j < keys ? block[j * ld + c] : 0.f;
      transpose16(tile, kLanes, dst + c0 * mp + j0, mp);
    }
  }
  for (int64_t c = w16; c < w; ++c) {
    const float* col = src + c;
    float* out = dst + c * mp;
#pragma omp simd
    for (int64_t j = 0; j < mp; ++j) out[j] = j < m ? col[j * ld] : 0.f;
  }
}

// The largest of 16 floats, none of them NaN. A max is the same value in any order (−0 and +0
// aside, which give the same exp(x − max)), so the lanes are folded pairwise, by the
// instruction's shuffles where there is one: the loop g++ made of the portable fold kept
// the lanes in memory and cost a tenth of the forward pass.
inline float max_of_lanes(const float* mv) {
#if defined(__AVX512F__)
  __m512 x = _mm512_loadu_ps(mv);
  x = _mm512_max_ps(x, _mm512_shuffle_f32x4(x, x, 0x4E));  // halves swapped
  x = _mm512_max_ps(x, _mm512_shuffle_f32x4(x, x, 0xB1));  // quarters swapped
  x = _mm512_max_ps(x, _mm512_permute_ps(x, 0x4E));        // pairs swapped
  x = _mm512_max_ps(x, _mm512_permute_ps(x, 0xB1));        // neighbours swapped
  return _mm512_cvtss_f32(x);
#else
  float t[kLanes];
  for (int64_t j = 0; j < kLanes; ++j) t[j] = mv[j];
  for (int64_t w = kLanes / 2; w > 0; w /= 2)
    for (int64_t j = 0; j < w; ++j) t[j] = t[j + w] > t[j] ? t[j + w] : t[j];
  return t[0];
#endif
}

// keep[0..mp) = one row of the mask (1 everywhere without one), 0 past the m keys, so the
// masking below runs over whole vectors and the padding lanes drop out as masked keys.
void fill_keep(float* keep, const float* row, int64_t sj, int64_t m, int64_t mp) {
  if (!row) {
#pragma omp simd
    for (int64_t j = 0; j < mp; ++j) keep[j] = j < m ? 1.f : 0.f;
  } else if (sj == 1) {
#pragma omp simd
    for (int64_t j = 0; j < mp; ++j) keep[j] = j < m ? row[j] : 0.f;
  } else {
#pragma omp simd
    for (int64_t j = 0; j < mp; ++j) keep[j] = j < m ? row[j * sj] : 0.f;
  }
}

// s[0..mp) for kRows rows (mp apart) = qᵣ·Kᵀ, 16 keys at a time: for each of the dk terms one
// vector of Kᵀ, multiplied into the kRows rows' sums. q[r] is row r's first element.
template <int64_t DK>
void scores_block(const float* const* q, const float* kt, int64_t dk_rt, int64_t mp, float* s) {
  const int64_t dk = DK ? DK : dk_rt;
  for (int64_t j0 = 0; j0 < mp; j0 += kLanes) {
    float sv[kRows][kLanes] = {};
    for (int64_t c = 0; c < dk; ++c) {
      const float* kr = kt + c * mp + j0;
      for (int64_t r = 0; r < kRows; ++r) {
        const float a = q[r][c];
#pragma omp simd
        for (int64_t j = 0; j < kLanes; ++j) sv[r][j] = std::fma(a, kr[j], sv[r][j]);
      }
    }
    for (int64_t r = 0; r < kRows; ++r)
#pragma omp simd
      for (int64_t j = 0; j < kLanes; ++j) s[r * mp + j0 + j] = sv[r][j];
  }
}

// One parallel region over the B·H pairs, unless the whole job is a few microseconds of work
// (waking a second thread costs about 20 µs here, chapter 14).
bool worth_threads(const AttentionDims& d) {
  return d.B * d.H * d.n * d.m * (d.dk + d.dv) >= 4 * kParallelMin;
}

// The per-(b, h) work, compiled once per common head width: with DK and DV known, the
// accumulators below are a few vector registers and every inner loop is unrolled; DK = DV = 0
// reads the widths at run time (any width, slower). Rows go kRows at a time; the last block
// repeats the last row in its unused places (computed, never stored), so every block has the
// same shape. `omp simd` asks for vector code explicitly: g++ unrolls these fixed-length loops
// before its loop vectoriser sees them, and its SLP vectoriser, which would otherwise pick
// them up, is off (Makefile).
template <int64_t DK, int64_t DV>
void forward_pairs(const AttentionDims& d, const float* q, const float* k, const float* v,
                   const AttentionMask& mask, const float* drop, float* weights, float* used,
                   float* o) {
  const int64_t pairs = d.B * d.H, n = d.n, m = d.m, mp = padded(m);
  const int64_t dk = DK ? DK : d.dk, dv = DV ? DV : d.dv;
  const float scale = d.scale;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  // the pairs shared from both ends (parallel.h: why)
  parallel_for_items(pairs, worth_threads(d), [&](int64_t first, int64_t last) {
    for (int64_t pr = first; pr < last; ++pr) {
      const int64_t b = pr / d.H, h = pr % d.H;
      // Kᵀ [dk, mp], kRows rows of scores and of the mask [kRows, mp], (widths at run time) sums
      float* kt = scratch(dk * mp + 2 * kRows * mp + (DV ? 0 : kRows * dv));
      float* s = kt + dk * mp;
      float* keep = s + kRows * mp;
      float acc_local[DV ? kRows * DV : 1];
      float* acc = DV ? acc_local : keep + kRows * mp;
      transpose_head(k + b * m * d.ldk + h * dk, d.ldk, m, dk, kt, mp);
      const float* vb = v + b * m * d.ldv + h * dv;
      const float* mrow = mask.p ? mask.p + b * mask.sb + h * mask.sh : nullptr;
      // A mask row per query (causal) is copied kRows rows at a time, before the scores: the
      // copy's last store is masked, and a load right after a masked store stalls.
      const bool keep_per_row = mrow && mask.si != 0;
      if (!keep_per_row) fill_keep(keep, mrow, mask.sj, m, mp);
      for (int64_t i0 = 0; i0 < n; i0 += kRows) {
        const int64_t rows = std::min(kRows, n - i0);
        const float* qr[kRows];
        for (int64_t r = 0; r < kRows; ++r)
          qr[r] = q + (b * n + i0 + std::min(r, rows - 1)) * d.ldq + h * dk;
        if (keep_per_row)
          for (int64_t r = 0; r < rows; ++r)
            fill_keep(keep + r * mp, mrow + (i0 + r) * mask.si, mask.sj, m, mp);
        scores_block<DK>(qr, kt, dk, mp, s);
        // mask and scale, then exp(x − max) over whole vectors (masked and padding keys: −∞ → 0)
        bool dead[kRows] = {};
        for (int64_t r = 0; r < rows; ++r) {
          float* sr = s + r * mp;
          const float* kr = keep_per_row ? keep + r * mp : keep;
          float mv[kLanes];
          for (int64_t j = 0; j < kLanes; ++j) mv[j] = kNegInf;
          for (int64_t j0 = 0; j0 < mp; j0 += kLanes)
#pragma omp simd
            for (int64_t j = 0; j < kLanes; ++j) {
              const float x = kr[j0 + j] != 0.f ? sr[j0 + j] * scale : kNegInf;
              sr[j0 + j] = x;
              mv[j] = x > mv[j] ? x : mv[j];
            }
          const float mx = max_of_lanes(mv);
          if (mx == kNegInf) {  // every key masked: no weight anywhere, output 0
            dead[r] = true;
            for (int64_t j = 0; j < mp; ++j) sr[j] = 0.f;
            continue;
          }
#pragma omp simd
          for (int64_t j = 0; j < mp; ++j) sr[j] = exp_fast(sr[j] - mx);
        }
        // the sums in order, j by j (the same on every thread), the rows side by side
        float sum[kRows] = {};
        for (int64_t j = 0; j < m; ++j)
          for (int64_t r = 0; r < kRows; ++r) sum[r] += s[r * mp + j];
        // weights, and the dropped weights U, which also stay in s for the weighted sum
        for (int64_t r = 0; r < rows; ++r) {
          float* sr = s + r * mp;
          float* pi = weights + (pr * n + i0 + r) * m;
          const float inv = dead[r] ? 0.f : 1.f / sum[r];
#pragma omp simd
          for (int64_t j = 0; j < m; ++j) {
            const float p = sr[j] * inv;
            pi[j] = p;
            sr[j] = p;
          }
          if (drop) {
            const float* di = drop + (pr * n + i0 + r) * m;
#pragma omp simd
            for (int64_t j = 0; j < m; ++j) sr[j] *= di[j];
            if (used) std::copy(sr, sr + m, used + (pr * n + i0 + r) * m);
          }
        }
        // oᵣ = Σⱼ uᵣⱼ·vⱼ: each term a multiply-add along a contiguous row of V, for kRows rows
#pragma omp simd
        for (int64_t c = 0; c < kRows * dv; ++c) acc[c] = 0.f;
        for (int64_t j = 0; j < m; ++j) {
          const float* vr = vb + j * d.ldv;
          for (int64_t r = 0; r < kRows; ++r) {
            const float u = s[r * mp + j];
#pragma omp simd
            for (int64_t c = 0; c < dv; ++c) acc[r * dv + c] = std::fma(u, vr[c], acc[r * dv + c]);
          }
        }
        for (int64_t r = 0; r < rows; ++r) {
          float* oi = o + (b * n + i0 + r) * d.ldo + h * dv;
          if (dead[r])  // 0 whatever V holds
            for (int64_t c = 0; c < dv; ++c) oi[c] = 0.f;
          else
#pragma omp simd
            for (int64_t c = 0; c < dv; ++c) oi[c] = acc[r * dv + c];
        }
      }
    }
  });
}

template <int64_t DK, int64_t DV>
void backward_pairs(const AttentionDims& d, const float* q, const float* k, const float* v,
                    const float* drop, const float* weights, const float* used, const float* d_o,
                    float* dq, float* dk, float* dv, AttentionGradAdd add) {
  const int64_t pairs = d.B * d.H, n = d.n, m = d.m, mp = padded(m);
  const int64_t hk = DK ? DK : d.dk, hv = DV ? DV : d.dv;
  const float scale = d.scale;
  // the pairs shared from both ends (parallel.h: why)
  parallel_for_items(pairs, worth_threads(d), [&](int64_t first, int64_t last) {
    for (int64_t pr = first; pr < last; ++pr) {
      const int64_t b = pr / d.H, h = pr % d.H;
      // Vᵀ [dv, mp], dS [n, mp], kRows rows of dU, U [n, m] when recomputed, and (widths at run
      // time) the sums
      const int64_t wmax = std::max(hk, hv);
      const bool recompute_u = drop && !used;
      float* vt = scratch(hv * mp + n * mp + kRows * mp + (recompute_u ? n * m : 0) +
                          (DK && DV ? 0 : kRows * wmax));
      float* ds = vt + hv * mp;
      float* g = ds + n * mp;
      float* u_local = g + kRows * mp;
      float* acc = u_local + (recompute_u ? n * m : 0);  // only when the widths are run-time
      transpose_head(v + b * m * d.ldv + h * hv, d.ldv, m, hv, vt, mp);
      const float* qb = q + b * n * d.ldq + h * hk;
      const float* kb = k + b * m * d.ldk + h * hk;
      const float* dob = d_o + b * n * d.ldo + h * hv;
      const float* P = weights + pr * n * m;
      const float* U = used ? used + pr * n * m : P;
      if (recompute_u) {  // U = P ⊙ drop, the forward pass's products again
        const float* D = drop + pr * n * m;
#pragma omp simd
        for (int64_t t = 0; t < n * m; ++t) u_local[t] = P[t] * D[t];
        U = u_local;
      }
      for (int64_t i0 = 0; i0 < n; i0 += kRows) {
        const int64_t rows = std::min(kRows, n - i0);
        int64_t ir[kRows];  // the rows, the last one repeated to fill the block
        const float* dor[kRows];
        for (int64_t r = 0; r < kRows; ++r) {
          ir[r] = i0 + std::min(r, rows - 1);
          dor[r] = dob + ir[r] * d.ldo;
        }
        // g = dUᵢ = dOᵢ·Vᵀ (16 keys at a time), then dPᵢ = dUᵢ ⊙ dropᵢ
        scores_block<DV>(dor, vt, hv, mp, g);
        if (drop)
          for (int64_t r = 0; r < kRows; ++r) {
            const float* di = drop + (pr * n + ir[r]) * m;
            float* gr = g + r * mp;
#pragma omp simd
            for (int64_t j = 0; j < m; ++j) gr[j] *= di[j];
          }
        // softmax backward, then the score scale: dSᵢ = scale·Pᵢ ⊙ (dPᵢ − ⟨dPᵢ, Pᵢ⟩); each
        // ⟨dPᵢ, Pᵢ⟩ summed j by j in order, the rows side by side
        float dot[kRows] = {};
        for (int64_t j = 0; j < m; ++j)
          for (int64_t r = 0; r < kRows; ++r) dot[r] += g[r * mp + j] * P[ir[r] * m + j];
        for (int64_t r = 0; r < rows; ++r) {
          const float* pi = P + (i0 + r) * m;
          const float* gr = g + r * mp;
          const float dr = dot[r];
          float* dsi = ds + (i0 + r) * mp;
#pragma omp simd
          for (int64_t j = 0; j < m; ++j) dsi[j] = pi[j] * (gr[j] - dr) * scale;
        }
      }
      if (dv)  // dVⱼ += Σᵢ uᵢⱼ·dOᵢ
        add_weighted_rows<DV>(dv + b * m * d.ldv + h * hv, d.ldv, m, U, 1, m, dob, d.ldo, n, hv,
                              acc, add.v);
      if (dq)  // dQᵢ += Σⱼ dSᵢⱼ·Kⱼ
        add_weighted_rows<DK>(dq + b * n * d.ldq + h * hk, d.ldq, n, ds, mp, 1, kb, d.ldk, m, hk,
                              acc, add.q);
      if (dk)  // dKⱼ += Σᵢ dSᵢⱼ·Qᵢ
        add_weighted_rows<DK>(dk + b * m * d.ldk + h * hk, d.ldk, m, ds, 1, mp, qb, d.ldq, n, hk,
                              acc, add.k);
    }
  });
}

}  // namespace

void attention_forward(const AttentionDims& d, const float* q, const float* k, const float* v,
                       const AttentionMask& mask, const float* drop, float* weights, float* used,
                       float* o) {
  count_macs(d.B * d.H * d.n * d.m * (d.dk + d.dv));  // Q·Kᵀ and P·V
  if (d.dk == d.dv && d.dk == 16)
    return forward_pairs<16, 16>(d, q, k, v, mask, drop, weights, used, o);
  if (d.dk == d.dv && d.dk == 32)
    return forward_pairs<32, 32>(d, q, k, v, mask, drop, weights, used, o);
  if (d.dk == d.dv && d.dk == 64)
    return forward_pairs<64, 64>(d, q, k, v, mask, drop, weights, used, o);
  forward_pairs<0, 0>(d, q, k, v, mask, drop, weights, used, o);
}

void attention_backward(const AttentionDims& d, const float* q, const float* k, const float* v,
                        const float* drop, const float* weights, const float* used,
                        const float* d_o, float* dq, float* dk, float* dv) {
  attention_backward_into(d, q, k, v, drop, weights, used, d_o, dq, dk, dv, {});
}

void attention_backward_into(const AttentionDims& d, const float* q, const float* k, const float* v,
                             const float* drop, const float* weights, const float* used,
                             const float* d_o, float* dq, float* dk, float* dv,
                             AttentionGradAdd add) {
  count_macs(2 * d.B * d.H * d.n * d.m * (d.dk + d.dv));  // dO·Vᵀ, Uᵀ·dO, dS·K, dSᵀ·Q
  if (d.dk == d.dv && d.dk == 16)
    return backward_pairs<16, 16>(d, q, k, v, drop, weights, used, d_o, dq, dk, dv, add);
  if (d.dk == d.dv && d.dk == 32)
    return backward_pairs<32, 32>(d, q, k, v, drop, weights, used, d_o, dq, dk, dv, add);
  if (d.dk == d.dv && d.dk == 64)
    return backward_pairs<64, 64>(d, q, k, v, drop, weights, used, d_o, dq, dk, dv, add);
  backward_pairs<0, 0>(d, q, k, v, drop, weights, used, d_o, dq, dk, dv, add);
}

}  // namespace qkv::kernels
