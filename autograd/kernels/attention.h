// Multi-head scaled dot-product attention as one kernel (chapters 07 and 14).
//
// Per (batch b, head h):  S = Q·Kᵀ·scale, masked keys set to −∞, P = softmax(S) row by row,
// U = P ⊙ D (D the dropout mask, or U = P), O = U·V.  Run as separate ops this was two
// batched GEMMs on [n, d]·[d, m] products too small to fill a register tile, five permute
// copies (split Q, K and V into heads, transpose K, merge the heads), a mask fill, a
// softmax and a dropout: about ten passes over memory and as many parallel regions. Here
// one parallel region runs over all B·H pairs, and each pair does everything in its cache:
//   - heads are read through strides: head h of Q is the columns [h·dk, (h+1)·dk) of the
//     projection's output [B, n, H·dk], so nothing is permuted, and O is written straight
//     into [B, n, H·dv], where the output projection reads it;
//   - K is used transposed through a small local copy of one head ([dk, m], a few KiB), so
//     every inner loop runs along a contiguous row and vectorises.
// Each (b, h) pair is computed by one thread with the same arithmetic whatever the thread
// count, so results do not depend on OMP_NUM_THREADS. Backward keeps P from the forward
// pass rather than recomputing it: at these lengths P is small ([B, H, n, m], 0.5 MB per
// attention at the base model), and recomputing would redo the exps. U = P ⊙ D, one product
// per weight, it may recompute instead of keeping (see `used` below).
//
// attention_reference.cpp holds the same computation as plain loops in double precision,
// which the tests hold the fast kernel against.
#pragma once

#include <cstdint>

namespace qkv::kernels {

struct AttentionDims {
  int64_t B, H, n, m;  // batch, heads, queries, keys
  int64_t dk, dv;      // per-head widths of Q and K, and of V and O
  // Row strides: q [B, n, ·] row i of batch b at q + (b·n + i)·ldq, head h from column h·dk;
  // k likewise [B, m, ·] with ldk; v [B, m, ·] with ldv and o [B, n, ·] with ldo, from h·dv.
  int64_t ldq, ldk, ldv, ldo;
  float scale;  // usually 1/√dk
};

// Which keys each query may see: keep[b, h, i, j] != 0, read at
// mask + b·sb + h·sh + i·si + j·sj (stride 0 where the mask broadcasts). p == nullptr: all.
struct AttentionMask {
  const float* p = nullptr;
  int64_t sb = 0, sh = 0, si = 0, sj = 0;
};

// weights [B, H, n, m] = P (a fully masked row is all 0). With drop [B, H, n, m] (dropout's
// 0 or 1/(1−p) per weight), U = P ⊙ drop and O = U·V, and U is stored in used [B, H, n, m]
// unless used is nullptr; without drop, O = P·V and used is not written.
void attention_forward(const AttentionDims& d, const float* q, const float* k, const float* v,
                       const AttentionMask& mask, const float* drop, float* weights, float* used,
                       float* o);

// Given dO, ADDS the gradients into dq, dk, dv (same layouts as q, k, v; any may be nullptr
// when not wanted). weights and used as the forward pass left them; used may be nullptr: U is
// then P ⊙ drop recomputed (the same products, so the same bits), or P without drop. drop as
// in the forward pass.
//   dU = dO·Vᵀ, dP = dU ⊙ drop, dS = P ⊙ (dP − rowsum(dP ⊙ P)) (softmax, ch05)
//   dQ += scale·dS·K,  dK += scale·dSᵀ·Q,  dV += Uᵀ·dO
void attention_backward(const AttentionDims& d, const float* q, const float* k, const float* v,
                        const float* drop, const float* weights, const float* used,
                        const float* d_o, float* dq, float* dk, float* dv);

// Which of dq, dk, dv attention_backward_into adds into (true) or overwrites (false: the
// buffer is new and uninitialised, Tensor::grad_buffer_for_write; every element is written).
struct AttentionGradAdd {
  bool q = true, k = true, v = true;
};
// attention_backward, with each of dq, dk, dv added into or written as `add` says.
void attention_backward_into(const AttentionDims& d, const float* q, const float* k, const float* v,
                             const float* drop, const float* weights, const float* used,
                             const float* d_o, float* dq, float* dk, float* dv,
                             AttentionGradAdd add);

// The slow, obvious versions: the same contract, loop by loop, sums in double, std::exp.
void attention_forward_reference(const AttentionDims& d, const float* q, const float* k,
                                 const float* v, const AttentionMask& mask, const float* drop,
                                 float* weights, float* used, float* o);
void attention_backward_reference(const AttentionDims& d, const float* q, const float* k,
                                  const float* v, const float* drop, const float* weights,
                                  const float* used, const float* d_o, float* dq, float* dk,
                                  float* dv);

}  // namespace qkv::kernels
