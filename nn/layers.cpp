#include "nn/layers.h"

#include <cmath>
#include <stdexcept>

namespace qkv::nn {

Linear::Linear(int64_t in, int64_t out, Generator& gen, bool has_bias, Init init)
    : in_features(in), out_features(out) {
  const float bound = 1.f / std::sqrt(static_cast<float>(in));
  if (init == Init::Xavier) {
    weight = Tensor::empty({out, in});
    xavier_uniform_(weight, gen);
  } else {
    weight = Tensor::uniform({out, in}, gen, -bound, bound);
  }
  weight = register_parameter("weight", weight);
  if (has_bias)
    bias = register_parameter("bias", init == Init::Xavier
                                          ? Tensor::zeros({out})
                                          : Tensor::uniform({out}, gen, -bound, bound));
}

Embedding::Embedding(int64_t n, int64_t dim, Generator& gen, int64_t pad) : padding_idx(pad) {
  weight = Tensor::randn({n, dim}, gen);
  if (pad >= 0) {
    if (pad >= n)
      throw std::invalid_argument("Embedding: padding_idx " + std::to_string(pad) +
                                  " >= " + std::to_string(n));
    for (int64_t j = 0; j < dim; ++j) weight.data()[pad * dim + j] = 0.f;
  }
  weight = register_parameter("weight", weight);
}

Tensor sinusoidal_positions(int64_t max_len, int64_t dim) {
  Tensor pe = Tensor::zeros({max_len, dim});
  for (int64_t pos = 0; pos < max_len; ++pos)
    for (int64_t i = 0; 2 * i < dim; ++i) {
      // Computed in double: at pos ≈ 1000 the float angle would already lose digits.
      const double angle =
          static_cast<double>(pos) / std::pow(10000.0, 2.0 * i / static_cast<double>(dim));
      pe.data()[pos * dim + 2 * i] = static_cast<float>(std::sin(angle));
      if (2 * i + 1 < dim) pe.data()[pos * dim + 2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  return pe;
}

PositionalEncoding::PositionalEncoding(int64_t max_len, int64_t dim, bool learned_, Generator& gen)
    : learned(learned_) {
  if (learned)
    table = register_parameter("table", Tensor::randn({max_len, dim}, gen, 0.f, 0.02f));
  else
    table = sinusoidal_positions(max_len, dim);
}

Tensor PositionalEncoding::forward(const Tensor& x, int64_t start) const {
  const int64_t T = x.size(-2);
  if (start < 0 || start + T > table.size(0))
    throw std::invalid_argument("PositionalEncoding: sequence length " + std::to_string(start + T) +
                                " exceeds max_len " + std::to_string(table.size(0)) + " (input " +
                                shape_str(x.shape()) +
                                (start ? ", from position " + std::to_string(start) : "") + ")");
  return add(x, start == 0 && T == table.size(0) ? table : slice(table, 0, start, start + T));
}

LayerNorm::LayerNorm(int64_t dim, float eps_) : eps(eps_) {
  weight = register_parameter("weight", Tensor::ones({dim}));
  bias = register_parameter("bias", Tensor::zeros({dim}));
}

FeedForward::FeedForward(int64_t dim, int64_t hidden, Generator& gen, Activation a, float p,
                         Init init)
    : act(a) {
  linear1 = register_module("linear1", std::make_shared<Linear>(dim, hidden, gen, true, init));
  linear2 = register_module("linear2", std::make_shared<Linear>(hidden, dim, gen, true, init));
  drop = register_module("dropout", std::make_shared<Dropout>(p, gen.next_u64()));
}

Tensor FeedForward::forward(const Tensor& x) {
  // ReLU: the product, bias, activation and dropout as one op that keeps only its output
  // for backward (ops_bias_act.cpp, chapter 14's memory budget).
  if (act == Activation::ReLU)
    return linear2->forward(linear_relu_dropout(x, linear1->weight, linear1->bias, drop->p,
                                                drop->is_training(), drop->generator()));
  // act(x·W₁ᵀ + b₁) with the bias and activation fused into one pass (ops_bias_act.cpp).
  Tensor pre = linear(x, linear1->weight);  // [..., hidden]
  Tensor h =
      act == Activation::GELU ? bias_gelu(pre, linear1->bias) : bias_relu(pre, linear1->bias);
  return linear2->forward(drop->forward(h));
}

}  // namespace qkv::nn
