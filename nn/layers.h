// The basic layers (chapters 04, 09, 10): Linear, Embedding, positional encodings,
// LayerNorm, Dropout and FeedForward. Each forward is built only from autograd ops, so
// its gradient is the composition of gradients that chapter 02 checks one by one.
#pragma once

#include <cstdint>

#include "autograd/kernels/bias_act.h"
#include "autograd/ops.h"
#include "nn/init.h"
#include "nn/module.h"

namespace qkv::nn {

// y = x·Wᵀ + b; weight [out, in], bias [out], as torch.nn.Linear.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& gen, bool bias = true,
         Init init = Init::PyTorch);
  Tensor forward(const Tensor& x) const {
    return linear(x, weight, bias);
  }  // [..., in] → [..., out]
  Tensor weight, bias;
  int64_t in_features, out_features;
};

// Rows of a [num_embeddings, dim] table picked by token id; the padding row starts at zero
// and never receives a gradient, so a pad token contributes nothing, ever.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim, Generator& gen, int64_t padding_idx = -1);
  Tensor forward(const Tensor& ids) const {
    return embedding(weight, ids, padding_idx);
  }  // [...] → [..., dim]
  Tensor weight;
  int64_t padding_idx;
};

// The paper's fixed encoding: PE(pos, 2i) = sin(pos / 10000^(2i/d)),
// PE(pos, 2i+1) = cos(pos / 10000^(2i/d)). Not a parameter.
Tensor sinusoidal_positions(int64_t max_len, int64_t dim);  // [max_len, dim]

// x [B, T, D] → x + P[:T], with P fixed (sinusoidal) or learned (a parameter, N(0, 0.02²)).
class PositionalEncoding : public Module {
 public:
  PositionalEncoding(int64_t max_len, int64_t dim, bool learned, Generator& gen);
  // x [..., T, dim] + the positions [start, start + T) (start > 0: a decoder fed one
  // position at a time, chapter 13's key/value cache).
  Tensor forward(const Tensor& x, int64_t start = 0) const;
  Tensor table;  // [max_len, dim]
  bool learned;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, float eps = 1e-5f);
  Tensor forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }
  Tensor weight, bias;
  float eps;
};

// Its own seeded generator: the same seed gives the same dropout masks on any machine.
// The generator advances with every mask, so its state is part of a training run's state:
// a checkpoint saves it (examples/translator/checkpoint.h) and a resumed run restores it.
class Dropout : public Module {
 public:
  explicit Dropout(float p, uint64_t seed = 0) : p(p), gen_(seed) {}
  Tensor forward(const Tensor& x) { return dropout(x, p, is_training(), gen_); }
  Generator& generator() { return gen_; }
  const Generator& generator() const { return gen_; }
  float p;

 private:
  Generator gen_;
};

// The activations, one enum from the kernels up (the fused bias+activation kernel's).
using Activation = kernels::Act;

// Linear → ReLU/GELU → Dropout → Linear, applied to each position independently (ch11).
class FeedForward : public Module {
 public:
  FeedForward(int64_t dim, int64_t hidden, Generator& gen, Activation act = Activation::ReLU,
              float dropout = 0.f, Init init = Init::PyTorch);
  Tensor forward(const Tensor& x);  // [..., dim] → [..., dim]
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> drop;
  Activation act;
};

}  // namespace qkv::nn
