// Reference solutions, chapter 08 (docs/exercises.md#ch08). Try your own first.
#include <cmath>

#include "autograd/engine.h"
#include "examples/exercises/exercises.h"

namespace qkv::exercises {

Tensor attention_mask(const Tensor& keep, int64_t n, bool causal) {
  const int64_t B = keep.size(0), m = keep.size(1);
  Tensor mask = Tensor::zeros({B, 1, n, m});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j)
        mask.data()[(b * n + i) * m + j] = keep.data()[b * m + j] != 0.f && (!causal || j <= i);
  return mask;
}

// A very negative but finite fill keeps every softmax row finite (a row with every key
// blocked comes out uniform); multiplying by the mask then zeroes blocked keys, and that
// whole row. With −∞ and a softmax written as exp(s − max)/Σ, that row is −∞ − (−∞) = NaN.
Tensor masked_softmax(const Tensor& scores, const Tensor& mask) {
  Tensor blocked;
  {
    NoGradGuard no_grad;
    blocked = add(mul(mask, -1.f), 1.f);  // masked_fill fills where this is non-zero
  }
  return mul(softmax(masked_fill(scores, blocked, -1e30f), -1), mask);
}

// One function, no autograd: recompute P, then one line of the chain rule per product.
AttentionGrads attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& mask, const Tensor& dout) {
  const float scale = 1.f / std::sqrt(static_cast<float>(q.size(-1)));
  Tensor s = mul(matmul(q, transpose(k, -2, -1)), scale);  // [..., n, m]
  if (mask.defined()) s = masked_fill(s, add(mul(mask, -1.f), 1.f), -INFINITY);
  const Tensor p = softmax(s, -1);  // a fully masked row is all 0
  // out = P·V  ⇒  dV = Pᵀ·dout, dP = dout·Vᵀ
  const Tensor dv = matmul(transpose(p, -2, -1), dout);
  const Tensor dp = matmul(dout, transpose(v, -2, -1));
  // P = softmax(S)  ⇒  dS = P ⊙ (dP − rowsum(P ⊙ dP)); blocked keys have P = 0, so dS = 0
  const Tensor ds = mul(mul(p, sub(dp, sum(mul(p, dp), -1, true))), scale);
  // S = Q·Kᵀ/√dk  ⇒  dQ = dS·K/√dk, dK = dSᵀ·Q/√dk (the scale is already in ds)
  return {matmul(ds, k), matmul(transpose(ds, -2, -1), q), dv};
}

}  // namespace qkv::exercises
