// The gated recurrent unit (chapter 06): the recurrent network attention was first added to.
//
// GRUCell follows torch.nn.GRUCell exactly (same gate order r, z, n; same two biases):
//   r  = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate: how much of h the candidate sees
//   z  = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate: how much of h is kept
//   n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  the candidate state
//   h' = (1 − z) ⊙ n + z ⊙ h
// The three input maps are stacked into weight_ih [3H, D] and the three hidden maps into
// weight_hh [3H, H], rows in the order r, z, n, as PyTorch stores them.
#pragma once

#include <memory>

#include "autograd/ops.h"
#include "nn/module.h"

namespace qkv::nn {

class GRUCell : public Module {
 public:
  // Weights and biases start U(−1/√H, 1/√H), as in PyTorch.
  GRUCell(int64_t input_size, int64_t hidden_size, Generator& gen);
  // x [B, D], h [B, H]  →  h' [B, H]
  Tensor forward(const Tensor& x, const Tensor& h) const;
  // The same step when x's projection gi = W_ih x + b_ih [B, 3H] is already known: a GRU
  // computes it for all time steps in one GEMM before it starts the loop.
  Tensor step(const Tensor& gi, const Tensor& h) const;
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;
  int64_t input_size, hidden_size;
};

struct GRUResult {
  Tensor outputs;  // [B, T, H]: the hidden state after each step
  Tensor last;     // [B, H]: the state after the last real (unpadded) token of each row
};

// A one-layer GRU unrolled over time, batch first: x [B, T, D].
class GRU : public Module {
 public:
  GRU(int64_t input_size, int64_t hidden_size, Generator& gen);
  // h0 [B, H] (undefined: zeros). keep [B, T] (1 = real token, 0 = padding; undefined: all
  // real). Where keep is 0 the state passes through unchanged, h_t = h_{t−1}, so a padded
  // row's `last` is its state after its own last token, and its padded outputs repeat it.
  GRUResult forward(const Tensor& x, const Tensor& h0 = Tensor(),
                    const Tensor& keep = Tensor()) const;
  std::shared_ptr<GRUCell> cell;
};

}  // namespace qkv::nn
