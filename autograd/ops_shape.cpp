// Shape ops: reshape shares storage; the rest copy into a fresh contiguous tensor
// (chapter 01). Their gradients only move numbers back to where they came from.
#include <numeric>

#include "autograd/engine.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/kernels/permute.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "autograd/tensor_access.h"

namespace qkv {

Tensor reshape(const Tensor& a, const Shape& shape) {
  ProfileScope prof("reshape");
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) op_error("reshape", "more than one -1 in " + shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || a.numel() % known != 0)
      op_error("reshape",
               "cannot infer -1 in " + shape_str(shape) + " for " + shape_str(a.shape()));
    s[infer] = a.numel() / known;
  }
  if (numel_of(s) != a.numel())
    op_error("reshape", shape_str(a.shape()) + " (" + std::to_string(a.numel()) +
                            " elements) cannot become " + shape_str(shape));
  // Same storage, new shape: a view. Writes through one are seen through the other.
  Tensor out = a.detach();
  TensorAccess::impl(out)->shape = s;
  // y = reshape(x)  ⇒  dx = reshape(dy) to x's shape   (ch01)
  record(out, "reshape", {a}, [a](const Tensor& g) { accumulate_grad(a, g); });
  return out;
}

Tensor permute(const Tensor& a, const std::vector<int64_t>& order_in) {
  ProfileScope prof("permute");
  const int64_t rank = a.dim();
  if (static_cast<int64_t>(order_in.size()) != rank)
    op_error("permute", "order has " + std::to_string(order_in.size()) + " axes for a tensor " +
                            shape_str(a.shape()));
  std::vector<int64_t> order(rank);
  std::vector<bool> seen(rank, false);
  for (int64_t d = 0; d < rank; ++d) {
    order[d] = normalize_axis(order_in[d], rank, "permute");
    if (seen[order[d]]) op_error("permute", "axis " + std::to_string(order[d]) + " repeated");
    seen[order[d]] = true;
  }
  Shape out_shape(rank);
  for (int64_t d = 0; d < rank; ++d) out_shape[d] = a.shape()[order[d]];
  Tensor out = Tensor::empty(out_shape);
  kernels::permute_copy(out.data(), a.data(), a.shape(), order);
  // y = permute(x, order)  ⇒  dx = permute(dy, order⁻¹)   (ch01)
  record(out, "permute", {a}, [a, order, out_shape](const Tensor& g) {
    std::vector<int64_t> inverse(order.size());
    for (size_t d = 0; d < order.size(); ++d) inverse[order[d]] = static_cast<int64_t>(d);
    Tensor back = Tensor::empty(a.shape());
    kernels::permute_copy(back.data(), g.data(), out_shape, inverse);
    accumulate_grad(a, back);
  });
  return out;
}

Tensor transpose(const Tensor& a, int64_t axis0, int64_t axis1) {
  std::vector<int64_t> order(a.dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[normalize_axis(axis0, a.dim(), "transpose")],
            order[normalize_axis(axis1, a.dim(), "transpose")]);
  return permute(a, order);
}

// Concat and slice both view a tensor as [outer, n, inner] around the axis: a block of
// `n·inner` contiguous floats per outer index.
namespace {
int64_t outer_of(const Shape& s, int64_t axis) {
  int64_t o = 1;
  for (int64_t d = 0; d < axis; ++d) o *= s[d];
  return o;
}
int64_t inner_of(const Shape& s, int64_t axis) {
  int64_t i = 1;
  for (size_t d = axis + 1; d < s.size(); ++d) i *= s[d];
  return i;
}
}  // namespace

Tensor concat(const std::vector<Tensor>& ts, int64_t axis_in) {
  ProfileScope prof("concat");
  if (ts.empty()) op_error("concat", "no tensors given");
  const Shape& s0 = ts[0].shape();
  const int64_t axis = normalize_axis(axis_in, static_cast<int64_t>(s0.size()), "concat");
  Shape out_shape = s0;
  out_shape[axis] = 0;
  for (const auto& t : ts) {
    bool ok = t.dim() == static_cast<int64_t>(s0.size());
    for (size_t d = 0; ok && d < s0.size(); ++d)
      if (static_cast<int64_t>(d) != axis && t.shape()[d] != s0[d]) ok = false;
    if (!ok)
      op_error("concat", shape_str(t.shape()) + " does not match " + shape_str(s0) +
                             " outside axis " + std::to_string(axis));
    out_shape[axis] += t.shape()[axis];
  }
  Tensor out = Tensor::empty(out_shape);
  const int64_t outer = outer_of(s0, axis), inner = inner_of(s0, axis);
  const int64_t row = out_shape[axis] * inner;
  int64_t offset = 0;
  std::vector<int64_t> offsets;
  for (const auto& t : ts) {
    const int64_t block = t.shape()[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::copy(t.data() + o * block, t.data() + (o + 1) * block, out.data() + o * row + offset);
    offsets.push_back(offset);
    offset += block;
  }
  // y = [x₁ | x₂ | …] along axis  ⇒  dxᵢ = the matching block of dy   (ch01)
  record(out, "concat", ts, [ts, offsets, outer, row, inner, axis](const Tensor& g) {
    for (size_t i = 0; i < ts.size(); ++i) {
      if (!needs_grad(ts[i])) continue;
      const int64_t block = ts[i].shape()[axis] * inner;
      float* dx = ts[i].grad_buffer().data();
      for (int64_t o = 0; o < outer; ++o)
        kernels::add_into(dx + o * block, g.data() + o * row + offsets[i], block);
    }
  });
  return out;
}

Tensor slice(const Tensor& a, int64_t axis_in, int64_t start, int64_t end) {
  ProfileScope prof("slice");
  const int64_t axis = normalize_axis(axis_in, a.dim(), "slice");
  const int64_t n = a.shape()[axis];
  if (start < 0 || end > n || start > end)
    op_error("slice", "range [" + std::to_string(start) + ", " + std::to_string(end) +
                          ") is outside axis " + std::to_string(axis) + " of " +
                          shape_str(a.shape()));
  Shape out_shape = a.shape();
  out_shape[axis] = end - start;
  Tensor out = Tensor::empty(out_shape);
  const int64_t outer = outer_of(a.shape(), axis), inner = inner_of(a.shape(), axis);
  const int64_t block = (end - start) * inner, row = n * inner, off = start * inner;
  for (int64_t o = 0; o < outer; ++o)
    std::copy(a.data() + o * row + off, a.data() + o * row + off + block, out.data() + o * block);
  // y = x[start:end] along axis  ⇒  dx[start:end] += dy, 0 elsewhere   (ch01)
  record(out, "slice", {a}, [a, outer, block, row, off](const Tensor& g) {
    float* dx = a.grad_buffer().data();
    for (int64_t o = 0; o < outer; ++o)
      kernels::add_into(dx + o * row + off, g.data() + o * block, block);
  });
  return out;
}

std::vector<Tensor> split(const Tensor& a, int64_t axis_in, const std::vector<int64_t>& sizes) {
  const int64_t axis = normalize_axis(axis_in, a.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  if (total != a.shape()[axis])
    op_error("split", "sizes add up to " + std::to_string(total) + " but axis " +
                          std::to_string(axis) + " of " + shape_str(a.shape()) + " has " +
                          std::to_string(a.shape()[axis]));
  std::vector<Tensor> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(a, axis, start, start + s));
    start += s;
  }
  return parts;
}

}  // namespace qkv
