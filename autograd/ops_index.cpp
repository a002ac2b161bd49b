// Gathering rows by id, and masking (chapters 04, 08).
#include <cmath>

#include "autograd/engine.h"
#include "autograd/kernels/broadcast.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/kernels/parallel.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

namespace {
std::vector<int64_t> checked_ids(const Tensor& ids, int64_t limit, const char* op) {
  std::vector<int64_t> out(static_cast<size_t>(ids.numel()));
  const float* p = ids.data();
  for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
    const float v = p[i];
    const int64_t id = static_cast<int64_t>(v);
    if (static_cast<float>(id) != v || id < 0 || id >= limit)
      op_error(op, "id " + std::to_string(v) + " at position " + std::to_string(i) + " of " +
                       shape_str(ids.shape()) + " is not in [0, " + std::to_string(limit) + ")");
    out[i] = id;
  }
  return out;
}
}  // namespace

// Below this many floats an embedding's gather and scatter-add stay on one thread: eight times
// the element-wise threshold (kernels/parallel.h). Their rows go to and come from the other
// ops' threads in a different split, so a second thread mostly fetches lines from the first
// one's cache: with two threads at the small model (640 tokens × 128) the forward took 0.14
// ms a step and the backward 0.24, on one thread of the same run 0.08 and 0.15 (chapter 14,
// the tenth round). At the base model (512 tokens × 512) both still split.
constexpr int64_t kGatherParallelMin = 8 * kernels::kParallelMin;

Tensor embedding(const Tensor& table, const Tensor& ids, int64_t padding_idx) {
  ProfileScope prof("embedding");
  if (table.dim() != 2)
    op_error("embedding", "table must be [V, D], got " + shape_str(table.shape()));
  const int64_t V = table.size(0), D = table.size(1);
  auto idx = std::make_shared<std::vector<int64_t>>(checked_ids(ids, V, "embedding"));
  Shape out_shape = ids.shape();
  out_shape.push_back(D);
  Tensor out = Tensor::empty(out_shape);
  const int64_t n = static_cast<int64_t>(idx->size());
#pragma omp parallel for schedule(static) if (n * D >= kGatherParallelMin)
  for (int64_t i = 0; i < n; ++i)
    std::copy(table.data() + (*idx)[i] * D, table.data() + ((*idx)[i] + 1) * D, out.data() + i * D);
  // y_i = W[id_i]  ⇒  dW[v] = Σ_{i: id_i = v} dy_i (scatter-add), none for padding_idx   (ch04)
  record(out, "embedding", {table}, [table, idx, D, padding_idx](const Tensor& g) {
    float* dw = table.grad_buffer().data();
    const int64_t n = static_cast<int64_t>(idx->size());
    // Threads own column ranges and walk the tokens in order: two tokens with the same id
    // add into the same row without a race, in the same order every run.
    constexpr int64_t kChunk = 32;
    const int64_t chunks = (D + kChunk - 1) / kChunk;
    const float* gd = g.data();
#pragma omp parallel for schedule(static) if (n * D >= kGatherParallelMin)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t j0 = c * kChunk, j1 = std::min(D, j0 + kChunk);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t v = (*idx)[i];
        if (v == padding_idx) continue;
        for (int64_t j = j0; j < j1; ++j) dw[v * D + j] += gd[i * D + j];
      }
    }
  });
  return out;
}

Tensor index_select(const Tensor& a, int64_t axis_in, const std::vector<int64_t>& index) {
  ProfileScope prof("index_select");
  const int64_t axis = normalize_axis(axis_in, a.dim(), "index_select");
  const int64_t n = a.size(axis);
  for (int64_t i : index)
    if (i < 0 || i >= n)
      op_error("index_select", "index " + std::to_string(i) + " out of range for axis " +
                                   std::to_string(axis) + " of " + shape_str(a.shape()));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= a.shape()[d];
  for (int64_t d = axis + 1; d < a.dim(); ++d) inner *= a.shape()[d];
  Shape out_shape = a.shape();
  out_shape[axis] = static_cast<int64_t>(index.size());
  Tensor out = Tensor::empty(out_shape);
  const int64_t m = static_cast<int64_t>(index.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < m; ++k)
      std::copy(a.data() + (o * n + index[k]) * inner, a.data() + (o * n + index[k] + 1) * inner,
                out.data() + (o * m + k) * inner);
  // y[o, k] = x[o, index[k]]  ⇒  dx[o, index[k]] += dy[o, k]   (ch04)
  record(out, "index_select", {a}, [a, index, outer, inner, n, m](const Tensor& g) {
    float* dx = a.grad_buffer().data();
    const float* gd = g.data();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < m; ++k)
        kernels::add_into(dx + (o * n + index[k]) * inner, gd + (o * m + k) * inner, inner);
  });
  return out;
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, float value) {
  ProfileScope prof("masked_fill");
  if (broadcast_shapes(a.shape(), mask.shape(), "masked_fill") != a.shape())
    op_error("masked_fill", "mask " + shape_str(mask.shape()) + " must broadcast to the input " +
                                shape_str(a.shape()));
  // The mask is read through broadcast strides: a [B, 1, 1, m] padding mask is never
  // expanded to the [B, H, n, m] scores it masks.
  const std::vector<int64_t> a_strides = contiguous_strides(a.shape());
  const std::vector<int64_t> m_strides = broadcast_strides(mask.shape(), a.shape());
  Tensor out = Tensor::empty(a.shape());
  kernels::broadcast_map2(out.data(), a.shape(), a.data(), a_strides, mask.data(), m_strides,
                          [value](float x, float m) { return m != 0.f ? value : x; });
  // y = mask ? value : x  ⇒  dx = dy where not masked, 0 where masked   (ch08)
  Tensor m = mask.detach();
  record(out, "masked_fill", {a}, [a, m, a_strides, m_strides](const Tensor& g) {
    Tensor dx = Tensor::empty(a.shape());
    kernels::broadcast_map2(dx.data(), a.shape(), g.data(), a_strides, m.data(), m_strides,
                            [](float dy, float mv) { return mv != 0.f ? 0.f : dy; });
    accumulate_grad(a, dx);
  });
  return out;
}

}  // namespace qkv
