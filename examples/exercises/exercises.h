// The exercise track (docs/exercises.md): every function you write, with its shapes.
//
// Each exercise is one function below. Its stub, in this folder's chNN_*.cpp, compiles and
// throws NotWrittenYet; replace the body and run `make exercises EX=name`. The checker
// (check/) compares your function with qkv's own op on awkward shapes: forwards to float
// tolerance, backwards by gradcheck (central differences) and against qkv's own gradient.
// The reference solutions are in solutions/: read one only after your own attempt.
//
// Every Tensor you receive is float32, contiguous, row-major: `x.data()[i]` is element i.
// Backward functions get the forward's inputs and the gradient of the loss with respect to
// the forward's output (dy), and return the gradient with respect to each input, each in
// that input's shape. They are called outside autograd: compute with loops or with ops.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "autograd/ops.h"

namespace qkv::exercises {

// What an unwritten exercise throws; the checker reports it as "not written yet".
struct NotWrittenYet : std::logic_error {
  using std::logic_error::logic_error;
};
[[noreturn]] inline void not_written_yet(const char* exercise) {
  throw NotWrittenYet(std::string(exercise) + ": not written yet");
}

// --- chapter 01: tensors and broadcasting ------------------------------------------------
// The inverse of broadcasting: sum `grad` (a broadcast shape) down to `shape`, the shape
// that was broadcast. Dims that broadcasting added in front are summed away; dims that were
// 1 in `shape` are summed and kept as 1. grad [2, 3, 4], shape [3, 1] → [3, 1].
Tensor unbroadcast(const Tensor& grad, const Shape& shape);

// --- chapter 02: autograd ------------------------------------------------------------------
// c = a @ b with a [..., n, k], b [..., k, m], batch dims broadcast: c [..., n, m].
struct MatmulGrads {
  Tensor da, db;  // a's shape, b's shape
};
MatmulGrads matmul_backward(const Tensor& a, const Tensor& b, const Tensor& dc);

// --- chapter 04: layers ----------------------------------------------------------------------
// GELU, the exact erf form: y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)). Any shape.
Tensor gelu_forward(const Tensor& x);
Tensor gelu_backward(const Tensor& x, const Tensor& dy);

// Rows of table [V, D] picked by ids (any shape [...], integer values stored as floats)
// → [..., D]. The backward scatter-adds dy [..., D] into a [V, D] gradient; the row
// `padding_idx` gets nothing (padding_idx −1: no padding row).
Tensor embedding_forward(const Tensor& table, const Tensor& ids);
Tensor embedding_backward(const Tensor& ids, const Tensor& dy, int64_t num_embeddings,
                          int64_t padding_idx);

// --- chapter 05: softmax and cross-entropy -------------------------------------------------
// softmax over the last axis, any shape [..., n]; must not overflow for logits like 1000,
// and a −∞ entry gets weight exactly 0.
Tensor softmax_forward(const Tensor& x);
// y = softmax(x), dy the gradient of y → dx. A vector-Jacobian product: never form the
// n×n Jacobian.
Tensor softmax_backward(const Tensor& y, const Tensor& dy);

// logits [N, C], targets [N] (class ids as floats). Row loss: −Σ_c q_c·log_softmax(x)_c with
// q = (1−ε)·onehot(target) + ε/C; the mean over rows whose target is not ignore_index (0
// when every row is ignored). Never take the log of a probability.
float cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                            float label_smoothing);
// The gradient of dloss·loss with respect to the logits, [N, C].
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                              float label_smoothing, float dloss);

// --- chapter 06: from RNN to attention -----------------------------------------------------
// The worked example of chapter 06, for any sizes, by hand (plain loops, no ops):
// a [n, d] (one token per row), w_q, w_k [d, dk], w_v [d, dv];
// Q = a·w_q, K = a·w_k, V = a·w_v, S = Q·Kᵀ/√dk, P = softmax(S) by rows, B = P·V [n, dv].
Tensor worked_example_forward(const Tensor& a, const Tensor& w_q, const Tensor& w_k,
                              const Tensor& w_v);
struct WorkedExampleGrads {
  Tensor da, dw_q, dw_k, dw_v;
};
WorkedExampleGrads worked_example_backward(const Tensor& a, const Tensor& w_q, const Tensor& w_k,
                                           const Tensor& w_v, const Tensor& db);

// One GRU step from autograd ops (so autograd differentiates it), as torch.nn.GRUCell:
// x [B, D], h [B, H], weight_ih [3H, D], weight_hh [3H, H], biases [3H], gate rows r, z, n:
//   r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr),  z = σ(… same with z …),
//   n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h   → [B, H]
Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& weight_ih, const Tensor& weight_hh,
                const Tensor& bias_ih, const Tensor& bias_hh);

// --- chapter 07: multi-head attention --------------------------------------------------------
// From autograd ops: x [B, T, heads·d] → [B, heads, T, d], and back.
Tensor split_heads(const Tensor& x, int64_t heads);
Tensor merge_heads(const Tensor& x);

// --- chapter 08: masks --------------------------------------------------------------------------
// keep [B, m] (1 = real key, 0 = padding) → mask [B, 1, n, m]: 1 where query i may attend
// to key j (j is real, and j ≤ i when causal), else 0.
Tensor attention_mask(const Tensor& keep, int64_t n, bool causal);
// From autograd ops: softmax of scores [..., n, m] over the keys the mask (broadcastable to
// the scores, 1 = attend) allows; blocked keys get weight exactly 0, and a row with every
// key blocked is all zeros, with no NaN in the output or in its gradient.
Tensor masked_softmax(const Tensor& scores, const Tensor& mask);
// out = softmax(q·kᵀ/√dk, blocked keys −∞)·v with q [..., n, dk], k [..., m, dk],
// v [..., m, dv], mask [..., n, m] (same leading dims; 1 = attend) or undefined (attend to
// all). One function that recomputes what it needs from the forward: not autograd.
struct AttentionGrads {
  Tensor dq, dk, dv;
};
AttentionGrads attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& mask, const Tensor& dout);

// --- chapter 09: positional encoding ------------------------------------------------------
// PE(pos, 2i) = sin(pos / 10000^(2i/dim)), PE(pos, 2i+1) = cos(same) → [max_len, dim]
// (an odd dim ends with a sine).
Tensor sinusoidal_encoding(int64_t max_len, int64_t dim);

// --- chapter 10: LayerNorm -----------------------------------------------------------------------
// Over the last dim D of x [..., D], as torch: biased variance, eps inside the square root;
// weight, bias [D].
Tensor layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps);
struct LayerNormGrads {
  Tensor dx, dweight, dbias;
};
LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& weight, float eps,
                                   const Tensor& dy);

// --- chapter 12: training
// -------------------------------------------------------------------------- One Adam step t
// (counting from 1) on `param` in place, with its moments m and v (same shape, zeros before step 1)
// updated in place, bias-corrected as in the paper.
void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, int64_t t, float lr,
               float beta1, float beta2, float eps);
// Scale every gradient in place by max_norm / (norm + 1e-6) when their global L2 norm
// exceeds max_norm (as torch.nn.utils.clip_grad_norm_); return the norm before clipping.
double clip_by_global_norm(std::vector<Tensor>& grads, double max_norm);

}  // namespace qkv::exercises
