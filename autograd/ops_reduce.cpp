// Reductions: sum, mean and max, over everything or over one axis (chapter 02).
#include <limits>

#include "autograd/engine.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/reduce.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

namespace {
// View a's shape as [outer, n, inner] around `axis`.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView axis_view(const Shape& s, int64_t axis) {
  AxisView v;
  for (int64_t d = 0; d < axis; ++d) v.outer *= s[d];
  v.n = s[axis];
  for (size_t d = axis + 1; d < s.size(); ++d) v.inner *= s[d];
  return v;
}
Shape reduced_shape(const Shape& s, int64_t axis, bool keepdim) {
  Shape out = s;
  if (keepdim)
    out[axis] = 1;
  else
    out.erase(out.begin() + axis);
  return out;
}
// dx[o, k, i] += scale · g[o, i] for every k: the gradient of a sum is copied back to
// every element that was summed.
void spread_back(float* dx, const float* g, AxisView v, float scale) {
#pragma omp parallel for schedule(static) if (v.outer * v.n * v.inner >= kernels::kParallelMin)
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.n; ++k)
      for (int64_t i = 0; i < v.inner; ++i)
        dx[(o * v.n + k) * v.inner + i] += scale * g[o * v.inner + i];
}
}  // namespace

Tensor sum(const Tensor& a) {
  ProfileScope prof("sum");
  Tensor out = Tensor::empty({});
  kernels::sum_axis(out.data(), a.data(), 1, a.numel(), 1);
  // s = Σᵢ aᵢ  ⇒  daᵢ = ds   (ch02)
  record(out, "sum", {a}, [a](const Tensor& g) {
    const float gs = g.data()[0];
    kernels::map(a.grad_buffer().data(), a.grad_buffer().data(), a.numel(),
                 [gs](float d) { return d + gs; });
  });
  return out;
}

Tensor mean(const Tensor& a) {
  if (a.numel() == 0) op_error("mean", "of an empty tensor " + shape_str(a.shape()));
  return mul(sum(a), 1.0f / static_cast<float>(a.numel()));
}

Tensor sum(const Tensor& a, int64_t axis, bool keepdim) {
  ProfileScope prof("sum");
  axis = normalize_axis(axis, a.dim(), "sum");
  const AxisView v = axis_view(a.shape(), axis);
  Tensor out = Tensor::empty(reduced_shape(a.shape(), axis, keepdim));
  kernels::sum_axis(out.data(), a.data(), v.outer, v.n, v.inner);
  // s[o, i] = Σₖ a[o, k, i]  ⇒  da[o, k, i] = ds[o, i]   (ch02)
  record(out, "sum_axis", {a},
         [a, v](const Tensor& g) { spread_back(a.grad_buffer().data(), g.data(), v, 1.f); });
  return out;
}

Tensor mean(const Tensor& a, int64_t axis, bool keepdim) {
  axis = normalize_axis(axis, a.dim(), "mean");
  if (a.shape()[axis] == 0) op_error("mean", "over an empty axis of " + shape_str(a.shape()));
  return mul(sum(a, axis, keepdim), 1.0f / static_cast<float>(a.shape()[axis]));
}

Tensor max(const Tensor& a, int64_t axis, bool keepdim) {
  ProfileScope prof("max");
  axis = normalize_axis(axis, a.dim(), "max");
  const AxisView v = axis_view(a.shape(), axis);
  if (v.n == 0) op_error("max", "over an empty axis of " + shape_str(a.shape()));
  Tensor out = Tensor::empty(reduced_shape(a.shape(), axis, keepdim));
  auto arg = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(v.outer * v.inner));
  kernels::max_axis(out.data(), arg->data(), a.data(), v.outer, v.n, v.inner);
  // m = maxₖ aₖ  ⇒  da_k* = dm for the (first) arg-max k*, 0 elsewhere   (ch02)
  record(out, "max", {a}, [a, v, arg](const Tensor& g) {
    float* dx = a.grad_buffer().data();
    const float* gd = g.data();
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i)
        dx[(o * v.n + (*arg)[o * v.inner + i]) * v.inner + i] += gd[o * v.inner + i];
  });
  return out;
}

}  // namespace qkv
