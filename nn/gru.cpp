#include "nn/gru.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace qkv::nn {

GRUCell::GRUCell(int64_t in, int64_t hid, Generator& gen) : input_size(in), hidden_size(hid) {
  const float bound = 1.f / std::sqrt(static_cast<float>(hid));
  weight_ih = register_parameter("weight_ih", Tensor::uniform({3 * hid, in}, gen, -bound, bound));
  weight_hh = register_parameter("weight_hh", Tensor::uniform({3 * hid, hid}, gen, -bound, bound));
  bias_ih = register_parameter("bias_ih", Tensor::uniform({3 * hid}, gen, -bound, bound));
  bias_hh = register_parameter("bias_hh", Tensor::uniform({3 * hid}, gen, -bound, bound));
}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) const {
  if (x.dim() != 2 || x.size(1) != input_size)
    throw std::invalid_argument("GRUCell: x " + shape_str(x.shape()) + " is not [B, " +
                                std::to_string(input_size) + "]");
  return step(linear(x, weight_ih, bias_ih), h);  // gi: [B, 3H]
}

Tensor GRUCell::step(const Tensor& gi, const Tensor& h) const {
  const int64_t H = hidden_size;
  if (gi.dim() != 2 || gi.size(1) != 3 * H || h.dim() != 2 || h.size(1) != H ||
      h.size(0) != gi.size(0))
    throw std::invalid_argument("GRUCell: input projection " + shape_str(gi.shape()) + ", h " +
                                shape_str(h.shape()) + ": need [B, " + std::to_string(3 * H) +
                                "] and [B, " + std::to_string(H) + "]");
  Tensor gh = linear(h, weight_hh, bias_hh);        // [B, 3H]: W_h{r,z,n} h + b_h{r,z,n}
  std::vector<Tensor> i = split(gi, 1, {H, H, H});  // x's part of r, z, n: [B, H] each
  std::vector<Tensor> g = split(gh, 1, {H, H, H});  // h's part of r, z, n
  Tensor r = sigmoid(add(i[0], g[0]));              // [B, H]
  Tensor z = sigmoid(add(i[1], g[1]));              // [B, H]
  Tensor n = tanh(add(i[2], mul(r, g[2])));         // r gates h's part only, as in PyTorch
  // h' = (1 − z) ⊙ n + z ⊙ h, written as n + z ⊙ (h − n): one fewer op, same value.
  return add(n, mul(z, sub(h, n)));
}

GRU::GRU(int64_t in, int64_t hid, Generator& gen) {
  cell = register_module("cell", std::make_shared<GRUCell>(in, hid, gen));
}

GRUResult GRU::forward(const Tensor& x, const Tensor& h0, const Tensor& keep) const {
  const int64_t D = cell->input_size, H = cell->hidden_size;
  if (x.dim() != 3 || x.size(2) != D)
    throw std::invalid_argument("GRU: x " + shape_str(x.shape()) + " is not [B, T, " +
                                std::to_string(D) + "]");
  const int64_t B = x.size(0), T = x.size(1);
  if (keep.defined() && keep.shape() != Shape{B, T})
    throw std::invalid_argument("GRU: keep " + shape_str(keep.shape()) + " is not [" +
                                std::to_string(B) + ", " + std::to_string(T) + "] like x " +
                                shape_str(x.shape()));
  if (h0.defined() && h0.shape() != Shape{B, H})
    throw std::invalid_argument("GRU: h0 " + shape_str(h0.shape()) + " is not [" +
                                std::to_string(B) + ", " + std::to_string(H) + "]");
  // x's share of the gates does not depend on h, so all T steps take one GEMM: [B, T, 3H].
  Tensor gi_all = linear(x, cell->weight_ih, cell->bias_ih);
  Tensor h = h0.defined() ? h0 : Tensor::zeros({B, H});
  std::vector<Tensor> outputs;
  for (int64_t t = 0; t < T; ++t) {
    Tensor gi = reshape(slice(gi_all, 1, t, t + 1), {B, 3 * H});  // [B, 3H]
    Tensor next = cell->step(gi, h);                              // [B, H]
    if (keep.defined()) {
      // Padding: h_t = m·h' + (1 − m)·h_{t−1} = h_{t−1} + m·(h' − h_{t−1}), m [B, 1].
      Tensor m = reshape(slice(keep, 1, t, t + 1), {B, 1});
      next = add(h, mul(m, sub(next, h)));
    }
    h = next;
    outputs.push_back(reshape(h, {B, 1, H}));
  }
  return {concat(outputs, 1), h};  // [B, T, H], [B, H]
}

}  // namespace qkv::nn
