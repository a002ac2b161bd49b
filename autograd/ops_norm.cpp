// layer_norm as one fused op with its own backward (chapter 10 derives it term by term).
#include "autograd/engine.h"
#include "autograd/kernels/layernorm.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  ProfileScope prof("layer_norm");
  if (x.dim() == 0) op_error("layer_norm", "input must have a last dimension, got []");
  const int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  for (const Tensor* p : {&weight, &bias})
    if (p->defined() && p->shape() != Shape{D})
      op_error("layer_norm", std::string(p == &weight ? "weight " : "bias ") +
                                 shape_str(p->shape()) + " does not match the last dimension of " +
                                 shape_str(x.shape()));
  Tensor out = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({rows}), rstd = Tensor::empty({rows});
  const float* w = weight.defined() ? weight.data() : nullptr;
  const float* b = bias.defined() ? bias.data() : nullptr;
  kernels::layer_norm_forward(out.data(), mean.data(), rstd.data(), x.data(), w, b, rows, D, eps);
  // y = x̂·w + b, x̂ = (x − μ)·rstd  ⇒  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w,
  //                                    dw = Σ dy·x̂, db = Σ dy   (ch10)
  record(out, "layer_norm", {x, weight, bias},
         [x, weight, bias, mean, rstd, rows, D](const Tensor& g) {
           const float* w = weight.defined() ? weight.data() : nullptr;
           // dx, [rows, D], is written when new (grad_out); dw and db, [D] each and summed
           // row by row, keep the zero-filled buffer
           const GradOut dx = grad_out(x, {weight, bias});
           float* dw = needs_grad(weight) ? weight.grad_buffer().data() : nullptr;
           float* db = needs_grad(bias) ? bias.grad_buffer().data() : nullptr;
           kernels::layer_norm_backward(dx.data, {}, dw, db, g.data(), x.data(), mean.data(),
                                        rstd.data(), w, rows, D, dx.add);
         });
  return out;
}

}  // namespace qkv
