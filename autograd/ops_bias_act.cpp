// Bias + activation fused into one op (chapter 04): a GELU feed-forward's gelu(x·W₁ᵀ + b₁) is
// linear without bias, then bias_gelu; bias_relu is the same for ReLU. The ReLU feed-forward
// itself runs linear_relu_dropout (below), bias and ReLU in the GEMM's epilogue (chapter 14).
#include "autograd/counters.h"
#include "autograd/engine.h"
#include "autograd/kernels/bias_act.h"
#include "autograd/kernels/dropout.h"
#include "autograd/kernels/gemm.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

namespace {
Tensor bias_act(const Tensor& x, const Tensor& bias, kernels::Act act, const char* name) {
  ProfileScope prof(name);
  require_defined(x, name, "input");
  require_defined(bias, name, "bias");
  const int64_t n = bias.numel();
  if (bias.dim() != 1 || x.dim() < 1 || x.size(-1) != n)
    op_error(name, "bias " + shape_str(bias.shape()) + " does not match the last dimension of " +
                       shape_str(x.shape()));
  const int64_t rows = x.numel() / n;
  Tensor out = Tensor::empty(x.shape());
  kernels::bias_act_forward(out.data(), x.data(), bias.data(), rows, n, act);
  // y = act(x + b)  ⇒  dx = dy·act'(x + b), db = Σ_rows dy·act'(x + b)   (ch04)
  record(out, name, {x, bias}, [x, bias, rows, n, act](const Tensor& g) {
    float* dx = needs_grad(x) ? x.grad_buffer().data() : nullptr;
    float* db = needs_grad(bias) ? bias.grad_buffer().data() : nullptr;
    kernels::bias_act_backward(dx, db, g.data(), x.data(), bias.data(), rows, n, act);
  });
  return out;
}
}  // namespace

Tensor bias_relu(const Tensor& x, const Tensor& bias) {
  return bias_act(x, bias, kernels::Act::ReLU, "bias_relu");
}
Tensor bias_gelu(const Tensor& x, const Tensor& bias) {
  return bias_act(x, bias, kernels::Act::GELU, "bias_gelu");
}

Tensor linear_relu_dropout(const Tensor& x, const Tensor& weight, const Tensor& bias, float p,
                           bool training, Generator& gen) {
  ProfileScope prof("linear_relu_dropout");
  require_defined(x, "linear_relu_dropout", "input");
  require_defined(weight, "linear_relu_dropout", "weight");
  require_defined(bias, "linear_relu_dropout", "bias");
  if (weight.dim() != 2 || bias.shape() != Shape{weight.size(0)} || x.dim() < 1 ||
      x.size(-1) != weight.size(1))
    op_error("linear_relu_dropout",
             "input " + shape_str(x.shape()) + ", weight " + shape_str(weight.shape()) + ", bias " +
                 shape_str(bias.shape()) + ": need [..., in], [out, in] and [out]");
  if (!(p >= 0.f && p < 1.f))
    op_error("linear_relu_dropout", "p must be in [0, 1), got " + std::to_string(p));
  const int64_t out_f = weight.size(0), in_f = weight.size(1), rows = x.numel() / in_f;
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor out = Tensor::empty(out_shape);
  float* y = out.data();
  // y = relu(x·Wᵀ + b): bias and ReLU in the GEMM's epilogue
  kernels::gemm({false, true, rows, out_f, in_f, 1.f, x.data(), in_f, weight.data(), in_f, 0.f, y,
                 out_f, bias.data(), /*relu=*/true});
  add_macs(rows * out_f * in_f);
  const bool drop = training && p > 0.f;
  if (drop)  // the same mask dropout() would draw from gen
    kernels::dropout_mask<uint8_t>(nullptr, out.numel(), p, gen.next_u64(), y, y);
  const float scale = drop ? 1.f / (1.f - p) : 1.f;
  // y = D ⊙ relu(x·Wᵀ + b), D = 0 or 1/(1−p)  ⇒  dh = dy·scale where y > 0, else 0 (a kept,
  // positive unit is exactly where y > 0); dx = dh·W, dW = dhᵀ·x, db = Σ_rows dh   (ch04)
  Tensor saved = out.detach();
  record(out, "linear_relu_dropout", {x, weight, bias},
         [x, weight, bias, saved, rows, out_f, scale](const Tensor& g) {
           Tensor dh = Tensor::empty({rows, out_f});
           float* d = dh.data();
           const float* yv = saved.data();
           const float* gv = g.data();
           const int64_t n = rows * out_f;
           // dh first, each thread on its share, then the products in the same region
           // Both sides of the select are computed, so the loop is branch-free and vectorises
           // (`y > 0 ? g·scale : 0` as written first loaded g only where y > 0: a branch that
           // half the units mispredict, 47% of this backward's time on the default model).
           linear_backward(d, x, weight, bias, rows, [=](int t, int threads) {
#pragma omp simd
             for (int64_t i = n * t / threads; i < n * (t + 1) / threads; ++i) {
               const float kept = gv[i] * scale;
               d[i] = yv[i] > 0.f ? kept : 0.f;
             }
           });
         });
  return out;
}

}  // namespace qkv
