// Bias + activation fused into one op (chapter 04): the feed-forward layer's
// relu(x·W₁ᵀ + b₁) is linear without bias, then this.
#include "autograd/engine.h"
#include "autograd/kernels/bias_act.h"
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

}  // namespace qkv
