// A post-norm Add&Norm as one op: layer_norm(residual + dropout(x)) (chapter 10 for the
// block, chapter 14 for why one op). As three ops it was three parallel regions forward and
// three backward, and the dropped-out sublayer output and the sum each went to memory and
// back; here each thread takes a share of the rows and does all of it, forward and backward,
// in one region. Every number is the one the three ops give (tests/test_fused_ops.cpp).

#include <algorithm>
#include <memory>
#include <vector>

#include "autograd/engine.h"
#include "autograd/kernels/dropout.h"
#include "autograd/kernels/layernorm.h"
#include "autograd/kernels/parallel.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

Tensor dropout_add_layer_norm(const Tensor& x, const Tensor& residual, float p, bool training,
                              Generator& gen, const Tensor& weight, const Tensor& bias, float eps) {
  ProfileScope prof("dropout_add_layer_norm");
  const char* op = "dropout_add_layer_norm";
  require_defined(x, op, "input");
  require_defined(residual, op, "residual");
  if (x.dim() == 0) op_error(op, "input must have a last dimension, got []");
  if (residual.shape() != x.shape())
    op_error(op, "residual " + shape_str(residual.shape()) + " does not match input " +
                     shape_str(x.shape()));
  const int64_t D = x.size(-1), rows = D ? x.numel() / D : 0, n = x.numel();
  for (const Tensor* t : {&weight, &bias})
    if (t->defined() && t->shape() != Shape{D})
      op_error(op, std::string(t == &weight ? "weight " : "bias ") + shape_str(t->shape()) +
                       " does not match the last dimension of " + shape_str(x.shape()));
  if (!(p >= 0.f && p < 1.f)) op_error(op, "p must be in [0, 1), got " + std::to_string(p));
  const bool drop = training && p > 0.f;
  const uint64_t base = drop ? gen.next_u64() : 0;  // the draw dropout() would make
  auto keep = std::make_shared<std::vector<uint8_t>>(drop ? static_cast<size_t>(n) : 0);
  const float scale = drop ? 1.f / (1.f - p) : 1.f;
  // s = residual + dropout(x), kept for backward as layer_norm keeps its input
  Tensor s = Tensor::empty(x.shape()), out = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({rows}), rstd = Tensor::empty({rows});
  const float* w = weight.defined() ? weight.data() : nullptr;
  const float* b = bias.defined() ? bias.data() : nullptr;
  // groups of 16 rows, shared from both ends (parallel.h)
  kernels::parallel_for_items(
      (rows + 15) / 16, n >= kernels::kParallelMin, [&](int64_t g0, int64_t g1) {
        const int64_t r0 = g0 * 16, r1 = std::min(rows, g1 * 16);
        const int64_t e0 = r0 * D, e1 = r1 * D;
        float* sd = s.data();
        const float *xd = x.data(), *rd = residual.data();
        if (drop) {  // sd = x·(0 or scale), then sd = residual + sd: two roundings, as two ops
          kernels::dropout_mask_range(keep->data(), n, p, base, xd, sd, e0, e1);
#pragma omp simd
          for (int64_t i = e0; i < e1; ++i) sd[i] = rd[i] + sd[i];
        } else {
#pragma omp simd
          for (int64_t i = e0; i < e1; ++i) sd[i] = rd[i] + xd[i];
        }
        kernels::layer_norm_forward_rows(out.data(), mean.data(), rstd.data(), sd, w, b, r0, r1, D,
                                         eps);
      });
  // y = layer_norm(s), s = r + m ⊙ x  ⇒  ds from layer_norm's rule (ch10), dr = ds,
  //                                      dx = ds ⊙ m   (m = 0 or 1/(1−p); ch04, ch02)
  Tensor saved = s.detach();
  record(
      out, op, {x, residual, weight, bias},
      [x, residual, weight, bias, saved, mean, rstd, keep, scale, drop, rows, D](const Tensor& g) {
        const GradOut dr = grad_out(residual, {x, weight, bias});
        const GradOut dx = grad_out(x, {residual, weight, bias});
        float* dw = needs_grad(weight) ? weight.grad_buffer().data() : nullptr;
        float* db = needs_grad(bias) ? bias.grad_buffer().data() : nullptr;
        const kernels::SecondInput second{dx.data, drop ? keep->data() : nullptr, scale, dx.add};
        kernels::layer_norm_backward(dr.data, second, dw, db, g.data(), saved.data(), mean.data(),
                                     rstd.data(), weight.defined() ? weight.data() : nullptr, rows,
                                     D, dr.add);
      });
  return out;
}

}  // namespace qkv
