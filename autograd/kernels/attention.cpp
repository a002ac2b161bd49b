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

namespace qkv::kernels {
namespace {

using Buffer = std::vector<float, AlignedAllocator<float>>;
thread_local Buffer t_scratch;  // per thread, kept between calls: no allocation once warm

float* scratch(int64_t n) {
  if (static_cast<int64_t>(t_scratch.size()) < n) t_scratch.resize(static_cast<size_t>(n));
  return t_scratch.data();
}

// out[0..w) += Σₜ coef[t·cs]·rows[t·ld + 0..w), summed in acc first (t in order, so the result
// does not depend on the thread count); add false: out = the sum. The three backward products
// dV, dQ and dK are all this.
void add_weighted_rows(float* out, const float* coef, int64_t cs, const float* rows, int64_t ld,
                       int64_t count, int64_t w, float* acc, bool add) {
#pragma omp simd
  for (int64_t c = 0; c < w; ++c) acc[c] = 0.f;
  for (int64_t t = 0; t < count; ++t) {
    const float a = coef[t * cs];
    const float* r = rows + t * ld;
#pragma omp simd
    for (int64_t c = 0; c < w; ++c) acc[c] = std::fma(a, r[c], acc[c]);
  }
  if (add) {
#pragma omp simd
    for (int64_t c = 0; c < w; ++c) out[c] += acc[c];
  } else {
#pragma omp simd
    for (int64_t c = 0; c < w; ++c) out[c] = acc[c];
  }
}

// Rows of the local transposed copies are padded to whole vectors, so the loops along them
// have no remainder.
constexpr int64_t kLanes = 16;
int64_t padded(int64_t m) { return (m + kLanes - 1) / kLanes * kLanes; }

// dst [w, mp] = the head's [m, w] block (rows ld apart) transposed, zero-padded to mp columns.
void transpose_head(const float* src, int64_t ld, int64_t m, int64_t w, float* dst, int64_t mp) {
  for (int64_t j = 0; j < m; ++j)
    for (int64_t c = 0; c < w; ++c) dst[c * mp + j] = src[j * ld + c];
  for (int64_t c = 0; c < w; ++c)
    for (int64_t j = m; j < mp; ++j) dst[c * mp + j] = 0.f;
}

// One parallel region over the B·H pairs, unless the whole job is a few microseconds of work
// (waking a second thread costs about 20 µs here, chapter 14).
bool worth_threads(const AttentionDims& d) {
  return d.B * d.H * d.n * d.m * (d.dk + d.dv) >= 4 * kParallelMin;
}

// The per-(b, h) work, compiled once per common head width: with DK and DV known, the
// accumulators below are a few vector registers and every inner loop is unrolled; DK = DV = 0
// reads the widths at run time (any width, slower). Scores and dU are computed 16 keys at a
// time, one vector of 16 sums. `omp simd` asks for vector code explicitly: g++ unrolls these
// fixed-length loops before its loop vectoriser sees them, and its SLP vectoriser, which would
// otherwise pick them up, is off (Makefile).
template <int64_t DK, int64_t DV>
void forward_pairs(const AttentionDims& d, const float* q, const float* k, const float* v,
                   const AttentionMask& mask, const float* drop, float* weights, float* used,
                   float* o) {
  const int64_t pairs = d.B * d.H, n = d.n, m = d.m, mp = padded(m);
  const int64_t dk = DK ? DK : d.dk, dv = DV ? DV : d.dv;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int64_t pr = 0; pr < pairs; ++pr) {
    const int64_t b = pr / d.H, h = pr % d.H;
    float* kt = scratch(dk * mp + mp + (DV ? 0 : dv));  // Kᵀ [dk, mp], a row of scores, sums
    float* s = kt + dk * mp;
    float acc_local[DV ? DV : 1];
    float* acc = DV ? acc_local : s + mp;
    transpose_head(k + b * m * d.ldk + h * dk, d.ldk, m, dk, kt, mp);
    const float* vb = v + b * m * d.ldv + h * dv;
    for (int64_t i = 0; i < n; ++i) {
      // s = qᵢ·Kᵀ, 16 keys at a time: for each of the dk terms, one vector multiply-add
      const float* qi = q + (b * n + i) * d.ldq + h * dk;
      for (int64_t j0 = 0; j0 < mp; j0 += kLanes) {
        float sv[kLanes] = {};
        for (int64_t c = 0; c < dk; ++c) {
          const float a = qi[c];
          const float* kr = kt + c * mp + j0;
#pragma omp simd
          for (int64_t j = 0; j < kLanes; ++j) sv[j] = std::fma(a, kr[j], sv[j]);
        }
        for (int64_t j = 0; j < kLanes; ++j) s[j0 + j] = sv[j];
      }
      const float* keep = mask.p ? mask.p + b * mask.sb + h * mask.sh + i * mask.si : nullptr;
      float mx = kNegInf;
      for (int64_t j = 0; j < m; ++j) {
        const float x = keep && keep[j * mask.sj] == 0.f ? kNegInf : s[j] * d.scale;
        s[j] = x;
        mx = x > mx ? x : mx;
      }
      float* pi = weights + (pr * n + i) * m;
      float* ui = drop ? used + (pr * n + i) * m : pi;
      float* oi = o + (b * n + i) * d.ldo + h * dv;
      if (mx == kNegInf) {  // every key masked: no weight anywhere, output 0
        for (int64_t j = 0; j < m; ++j) pi[j] = ui[j] = 0.f;
        for (int64_t c = 0; c < dv; ++c) oi[c] = 0.f;
        continue;
      }
#pragma omp simd
      for (int64_t j = 0; j < mp; ++j) s[j] = exp_fast(s[j] - mx);  // whole vectors
      float sum = 0.f;
      for (int64_t j = 0; j < m; ++j) sum += s[j];  // in order: the same on every thread
      const float inv = 1.f / sum;
      for (int64_t j = 0; j < m; ++j) pi[j] = s[j] * inv;
      if (drop) {
        const float* di = drop + (pr * n + i) * m;
        for (int64_t j = 0; j < m; ++j) ui[j] = pi[j] * di[j];
      }
// oᵢ = Σⱼ uᵢⱼ·vⱼ: each term a multiply-add along a contiguous row of V
#pragma omp simd
      for (int64_t c = 0; c < dv; ++c) acc[c] = 0.f;
      for (int64_t j = 0; j < m; ++j) {
        const float u = ui[j];
        const float* vr = vb + j * d.ldv;
#pragma omp simd
        for (int64_t c = 0; c < dv; ++c) acc[c] = std::fma(u, vr[c], acc[c]);
      }
#pragma omp simd
      for (int64_t c = 0; c < dv; ++c) oi[c] = acc[c];
    }
  }
}

template <int64_t DK, int64_t DV>
void backward_pairs(const AttentionDims& d, const float* q, const float* k, const float* v,
                    const float* drop, const float* weights, const float* used, const float* d_o,
                    float* dq, float* dk, float* dv, AttentionGradAdd add) {
  const int64_t pairs = d.B * d.H, n = d.n, m = d.m, mp = padded(m);
  const int64_t hk = DK ? DK : d.dk, hv = DV ? DV : d.dv;
  constexpr int64_t kAcc = DK > DV ? DK : DV;
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int64_t pr = 0; pr < pairs; ++pr) {
    const int64_t b = pr / d.H, h = pr % d.H;
    // Vᵀ [dv, mp], dS [n, mp], a row of dU, and (widths at run time) the sums
    float* vt = scratch(hv * mp + n * mp + mp + (kAcc ? 0 : std::max(hk, hv)));
    float* ds = vt + hv * mp;
    float* g = ds + n * mp;
    float acc_local[kAcc ? kAcc : 1];
    float* acc = kAcc ? acc_local : g + mp;
    transpose_head(v + b * m * d.ldv + h * hv, d.ldv, m, hv, vt, mp);
    const float* qb = q + b * n * d.ldq + h * hk;
    const float* kb = k + b * m * d.ldk + h * hk;
    const float* dob = d_o + b * n * d.ldo + h * hv;
    const float* P = weights + pr * n * m;
    const float* U = used + pr * n * m;
    for (int64_t i = 0; i < n; ++i) {
      // g = dUᵢ = dOᵢ·Vᵀ (16 keys at a time), then dPᵢ = dUᵢ ⊙ dropᵢ
      const float* doi = dob + i * d.ldo;
      for (int64_t j0 = 0; j0 < mp; j0 += kLanes) {
        float gv[kLanes] = {};
        for (int64_t c = 0; c < hv; ++c) {
          const float a = doi[c];
          const float* vr = vt + c * mp + j0;
#pragma omp simd
          for (int64_t j = 0; j < kLanes; ++j) gv[j] = std::fma(a, vr[j], gv[j]);
        }
        for (int64_t j = 0; j < kLanes; ++j) g[j0 + j] = gv[j];
      }
      if (drop) {
        const float* di = drop + (pr * n + i) * m;
        for (int64_t j = 0; j < m; ++j) g[j] *= di[j];
      }
      // softmax backward, then the score scale: dSᵢ = scale·Pᵢ ⊙ (dPᵢ − ⟨dPᵢ, Pᵢ⟩)
      const float* pi = P + i * m;
      float dot = 0.f;
      for (int64_t j = 0; j < m; ++j) dot += g[j] * pi[j];
      float* dsi = ds + i * mp;
      for (int64_t j = 0; j < m; ++j) dsi[j] = pi[j] * (g[j] - dot) * d.scale;
    }
    if (dv)  // dVⱼ += Σᵢ uᵢⱼ·dOᵢ
      for (int64_t j = 0; j < m; ++j)
        add_weighted_rows(dv + (b * m + j) * d.ldv + h * hv, U + j, m, dob, d.ldo, n, hv, acc,
                          add.v);
    if (dq)  // dQᵢ += Σⱼ dSᵢⱼ·Kⱼ
      for (int64_t i = 0; i < n; ++i)
        add_weighted_rows(dq + (b * n + i) * d.ldq + h * hk, ds + i * mp, 1, kb, d.ldk, m, hk, acc,
                          add.q);
    if (dk)  // dKⱼ += Σᵢ dSᵢⱼ·Qᵢ
      for (int64_t j = 0; j < m; ++j)
        add_weighted_rows(dk + (b * m + j) * d.ldk + h * hk, ds + j, mp, qb, d.ldq, n, hk, acc,
                          add.k);
  }
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
  if (!used) used = weights;
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
