// y = x·Wᵀ + b, the affine map of every Linear layer (chapter 04), as one op so that the
// GEMM reads W through its transpose flag instead of materialising Wᵀ.
#include "autograd/counters.h"
#include "autograd/engine.h"
#include "autograd/kernels/gemm.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/reduce.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ProfileScope prof("linear");
  require_defined(x, "linear", "input");
  require_defined(weight, "linear", "weight");
  if (weight.dim() != 2)
    op_error("linear", "weight must be [out, in], got " + shape_str(weight.shape()));
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  if (x.dim() < 1 || x.size(-1) != in_f)
    op_error("linear", "input " + shape_str(x.shape()) + " does not end in in_features " +
                           std::to_string(in_f) + " of weight " + shape_str(weight.shape()));
  if (bias.defined() && bias.shape() != Shape{out_f})
    op_error("linear", "bias " + shape_str(bias.shape()) + " does not match weight " +
                           shape_str(weight.shape()) + " (expected [" + std::to_string(out_f) +
                           "])");
  const int64_t rows = x.numel() / in_f;
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor out = Tensor::empty(out_shape);
  // x: [rows, in], W: [out, in]  →  y: [rows, out] = x·Wᵀ
  kernels::gemm(false, true, rows, out_f, in_f, 1.f, x.data(), in_f, weight.data(), in_f, 0.f,
                out.data(), out_f);
  add_macs(rows * out_f * in_f);
  if (bias.defined()) {
    float* y = out.data();
    const float* b = bias.data();
#pragma omp parallel for schedule(static) if (rows * out_f >= kernels::kParallelMin)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < out_f; ++j) y[r * out_f + j] += b[j];
  }
  // y = x·Wᵀ + b  ⇒  dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy   (ch04)
  record(out, "linear", {x, weight, bias}, [x, weight, bias, rows, in_f, out_f](const Tensor& g) {
    if (needs_grad(x))
      kernels::gemm(false, false, rows, in_f, out_f, 1.f, g.data(), out_f, weight.data(), in_f, 1.f,
                    x.grad_buffer().data(), in_f);
    if (needs_grad(weight))
      kernels::gemm(true, false, out_f, in_f, rows, 1.f, g.data(), out_f, x.data(), in_f, 1.f,
                    weight.grad_buffer().data(), in_f);
    if (needs_grad(bias)) {
      Tensor db = Tensor::empty({out_f});
      kernels::sum_axis(db.data(), g.data(), 1, rows, out_f);
      accumulate_grad(bias, db);
    }
  });
  return out;
}

}  // namespace qkv
