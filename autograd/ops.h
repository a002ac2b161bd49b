// Every differentiable op, one function each (chapters 02, 04, 05, 10).
//
// Each op's forward and its backward sit side by side in the .cpp named in the comment,
// with the derivation in one line above the backward. Ops throw std::invalid_argument
// naming the op and the shapes at fault, e.g. "matmul: [2, 3] @ [4, 5]: inner dimensions
// 3 and 4 differ".
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace qkv {

// --- element-wise, with NumPy broadcasting (ops_elementwise.cpp, chapter 02) ----------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, float s);
Tensor mul(const Tensor& a, float s);
Tensor neg(const Tensor& a);
Tensor pow(const Tensor& a, float exponent);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);  // d/dx at exactly 0 is taken as 0
Tensor gelu(const Tensor& a);  // the exact erf form, as torch.nn.GELU() by default

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, float s) { return add(a, s); }
inline Tensor operator-(const Tensor& a, float s) { return add(a, -s); }
inline Tensor operator*(const Tensor& a, float s) { return mul(a, s); }
inline Tensor operator*(float s, const Tensor& a) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, float s) { return mul(a, 1.0f / s); }

// The shape two shapes broadcast to, or an error naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Sum a gradient of shape `grad.shape()` down to `shape` (the inverse of broadcasting).
Tensor sum_to(const Tensor& grad, const Shape& shape);

// --- reductions (ops_reduce.cpp, chapter 02) ------------------------------------------
Tensor sum(const Tensor& a);  // all elements → []
Tensor sum(const Tensor& a, int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, int64_t axis, bool keepdim = false);
Tensor max(const Tensor& a, int64_t axis, bool keepdim = false);  // gradient to the first max

// --- matrix product (ops_matmul.cpp, chapter 02) --------------------------------------
// [.., n, k] @ [.., k, m] → [.., n, m], batch dimensions broadcast; 1-D is not accepted
// (reshape to [1, k] or [k, 1] first: fewer special cases for a reader).
Tensor matmul(const Tensor& a, const Tensor& b);

// x [..., in] · weightᵀ [in, out] + bias [out] → [..., out], with weight stored [out, in]
// as in torch.nn.Linear. One GEMM with a transpose flag, no transposed copy (ops_linear.cpp).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// act(x + bias) with bias [n] broadcast over x [..., n] and act ReLU or GELU: the bias and
// the activation of a feed-forward layer in one pass (ops_bias_act.cpp, chapter 04).
Tensor bias_relu(const Tensor& x, const Tensor& bias);
Tensor bias_gelu(const Tensor& x, const Tensor& bias);
// dropout(relu(x·Wᵀ + b)): a feed-forward layer's first half as one op (ops_bias_act.cpp,
// chapter 14). Only its output is kept for backward (the units that are > 0 are the kept,
// active ones), not the product, the activation and the dropout mask between: at the base
// model that is 12 MB less per layer. Same numbers and the same dropout mask as the three ops.
Tensor linear_relu_dropout(const Tensor& x, const Tensor& weight, const Tensor& bias, float p,
                           bool training, Generator& gen);

// --- shape (ops_shape.cpp, chapter 01) -------------------------------------------------
Tensor reshape(const Tensor& a, const Shape& shape);  // one dimension may be -1; shares storage
Tensor transpose(const Tensor& a, int64_t axis0, int64_t axis1);  // a copy, contiguous
Tensor permute(const Tensor& a, const std::vector<int64_t>& order);
Tensor concat(const std::vector<Tensor>& tensors, int64_t axis);
Tensor slice(const Tensor& a, int64_t axis, int64_t start, int64_t end);  // [start, end)
std::vector<Tensor> split(const Tensor& a, int64_t axis, const std::vector<int64_t>& sizes);

// --- indexing (ops_index.cpp, chapters 04, 08) -----------------------------------------
// Rows of `table` [V, D] picked by integer ids (stored as floats) of any shape [...] →
// [..., D]. Backward scatter-adds into the picked rows; rows equal to padding_idx get none.
Tensor embedding(const Tensor& table, const Tensor& ids, int64_t padding_idx = -1);
Tensor index_select(const Tensor& a, int64_t axis, const std::vector<int64_t>& index);
// Where fill_where (broadcast to a's shape) is non-zero, the output is `value`; its gradient 0.
// PyTorch's polarity: non-zero = FILL. It is the opposite of every mask in nn/ (1 = may attend,
// 1 = real token: chapter 08), so nn/attention_scores.cpp passes 1 − mask, never a mask itself.
Tensor masked_fill(const Tensor& a, const Tensor& fill_where, float value);

// --- softmax and losses (ops_softmax.cpp, ops_loss.cpp, chapter 05) -----------------------
Tensor softmax(const Tensor& a, int64_t axis = -1);
Tensor log_softmax(const Tensor& a, int64_t axis = -1);
// logits [N, C], targets [N] (class ids as floats). Fused with log-softmax so it never
// takes the log of a probability. Mean over the targets that are not ignore_index. With
// label_smoothing ε the target distribution is (1-ε)·onehot + ε/C.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                     float label_smoothing = 0.f);

// --- normalisation and regularisation (ops_norm.cpp chapter 10, ops_dropout.cpp ch04) --
// Over the last dimension, as torch.nn.functional.layer_norm: biased variance, eps inside
// the square root. weight and bias are [D] (either may be undefined).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
// Zeroes each element with probability p and scales the rest by 1/(1-p); identity when
// `training` is false or p == 0.
Tensor dropout(const Tensor& a, float p, bool training, Generator& gen);
// layer_norm(residual + dropout(x, p, training, gen), weight, bias, eps) as one op: a post-norm
// Add&Norm (ops_add_norm.cpp, chapter 14). The same numbers as the three ops, the same draw
// from gen; x and residual have one shape.
Tensor dropout_add_layer_norm(const Tensor& x, const Tensor& residual, float p, bool training,
                              Generator& gen, const Tensor& weight, const Tensor& bias,
                              float eps = 1e-5f);

// --- attention (ops_attention.cpp, chapters 07, 14) -------------------------------------
// Multi-head scaled dot-product attention in one op, heads read in place:
// q [B, n, H·dk], k [B, m, H·dk], v [B, m, H·dv] → output [B, n, H·dv] (heads side by side,
// ready for the output projection) and weights [B, H, n, m] (softmax(QKᵀ/√dk) with masked
// keys at exactly 0; not differentiable, for inspection). mask (1 = may attend, 0 = blocked)
// broadcasts to [B, H, n, m]. With training and dropout_p > 0 the weights are dropped out
// before they mix the values, with the same mask dropout() would draw from gen.
struct AttentionOutput {
  Tensor output;
  Tensor weights;
};
AttentionOutput fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads,
                                const Tensor& mask, float dropout_p, bool training, Generator& gen);

}  // namespace qkv
