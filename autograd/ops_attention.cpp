// Multi-head scaled dot-product attention as one op (chapters 07 and 14): scores, mask,
// softmax, dropout on the weights and the weighted sum in one kernel over all heads, read
// straight from the projections' outputs. nn::MultiHeadAttention uses it; the same
// computation as separate ops (matmul, masked_fill, softmax, dropout, matmul, with the
// permutes that split and merge heads) is nn::scaled_dot_product_attention, which the tests
// hold this one equal to.
#include <cmath>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "autograd/kernels/attention.h"
#include "autograd/kernels/dropout.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

AttentionOutput fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads,
                                const Tensor& mask, float dropout_p, bool training,
                                Generator& gen) {
  ProfileScope prof("fused_attention");
  require_defined(q, "fused_attention", "q");
  require_defined(k, "fused_attention", "k");
  require_defined(v, "fused_attention", "v");
  const std::string shapes =
      "q " + shape_str(q.shape()) + ", k " + shape_str(k.shape()) + ", v " + shape_str(v.shape());
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3 || k.size(0) != q.size(0) ||
      v.size(0) != q.size(0) || k.size(1) != v.size(1) || k.size(2) != q.size(2))
    op_error("fused_attention", shapes + ": need q [B, n, H·dk], k [B, m, H·dk], v [B, m, H·dv]");
  if (heads <= 0 || q.size(2) % heads != 0 || v.size(2) % heads != 0)
    op_error("fused_attention",
             shapes + ": widths are not divisible by heads = " + std::to_string(heads));
  if (!(dropout_p >= 0.f && dropout_p < 1.f))
    op_error("fused_attention", "dropout p must be in [0, 1), got " + std::to_string(dropout_p));
  kernels::AttentionDims d;
  d.B = q.size(0), d.H = heads, d.n = q.size(1), d.m = k.size(1);
  d.dk = q.size(2) / heads, d.dv = v.size(2) / heads;
  d.ldq = d.ldk = q.size(2), d.ldv = d.ldo = v.size(2);
  d.scale = 1.f / std::sqrt(static_cast<float>(d.dk));
  const Shape pshape{d.B, d.H, d.n, d.m};
  kernels::AttentionMask km;
  if (mask.defined()) {
    bool fits = mask.dim() <= 4;
    try {
      fits = fits && broadcast_shapes(mask.shape(), pshape, "fused_attention") == pshape;
    } catch (const std::invalid_argument&) {
      fits = false;
    }
    if (!fits)
      op_error("fused_attention", "mask " + shape_str(mask.shape()) +
                                      " does not broadcast to the scores " + shape_str(pshape));
    const std::vector<int64_t> st = broadcast_strides(mask.shape(), pshape);
    km = {mask.data(), st[0], st[1], st[2], st[3]};
  }
  Tensor drop;
  if (training && dropout_p > 0.f) {
    drop = Tensor::empty(pshape);
    kernels::dropout_mask(drop.data(), drop.numel(), dropout_p, gen.next_u64());
  }
  Tensor out = Tensor::empty({d.B, d.n, v.size(2)});
  Tensor weights = Tensor::empty(pshape);
  // P ⊙ D is not kept: the backward pass recomputes it from weights and drop (one multiply
  // per weight, the same bits), one [B, H, n, m] tensor less per attention until backward.
  kernels::attention_forward(d, q.data(), k.data(), v.data(), km,
                             drop.defined() ? drop.data() : nullptr, weights.data(), nullptr,
                             out.data());
  add_macs(d.B * d.H * d.n * d.m * (d.dk + d.dv));  // Q·Kᵀ and P·V, as matmul would count
  // S = QKᵀ/√d, P = softmax(S), O = (P ⊙ D)·V  ⇒  dV = (P⊙D)ᵀdO, dP = (dO·Vᵀ) ⊙ D,
  // dS = P ⊙ (dP − ⟨dP, P⟩), dQ = dS·K/√d, dK = dSᵀ·Q/√d   (ch02, ch05, ch07)
  record(out, "fused_attention", {q, k, v}, [q, k, v, d, drop, weights](const Tensor& g) {
    float* dq = needs_grad(q) ? q.grad_buffer().data() : nullptr;
    float* dk = needs_grad(k) ? k.grad_buffer().data() : nullptr;
    float* dv = needs_grad(v) ? v.grad_buffer().data() : nullptr;
    kernels::attention_backward(d, q.data(), k.data(), v.data(),
                                drop.defined() ? drop.data() : nullptr, weights.data(), nullptr,
                                g.data(), dq, dk, dv);
  });
  return {out, weights};
}

}  // namespace qkv
