// Attention (chapters 06–08).
//
// Mask convention, used everywhere in qkv: a mask holds 1 where a query MAY attend to a
// key and 0 where it may not, the same polarity as the data's padding masks (1 = real
// token). Masks broadcast against the scores [..., n, m].
#pragma once

#include <memory>
#include <utility>

#include "autograd/ops.h"
#include "nn/layers.h"

namespace qkv::nn {

// [n, n], 1 on and below the diagonal: position i sees positions 0..i, never the future.
Tensor causal_mask(int64_t n);
// keep [B, m] (1 = real token) → [B, 1, 1, m], broadcasting over heads and queries.
Tensor key_padding_mask(const Tensor& keep);
// Both conditions at once (1 only where both are 1); either may be undefined.
Tensor combine_masks(const Tensor& a, const Tensor& b);

struct AttentionResult {
  Tensor output;   // [..., n, dv]
  Tensor weights;  // [..., n, m], each row sums to 1 (or is all 0 if every key is masked)
};

// softmax(q·kᵀ / √d_k) · v, with masked scores set to −∞ before the softmax, so masked keys
// get exactly zero weight. q [..., n, dk], k [..., m, dk], v [..., m, dv]. An optional
// Dropout is applied to the weights before they mix the values.
AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const Tensor& mask = Tensor(),
                                             Dropout* weight_dropout = nullptr);

struct MultiHeadAttentionOptions {
  int64_t query_dim = 0;  // width of the sequence the queries come from
  int64_t kv_dim = 0;     // width of the sequence keys and values come from (0: = query_dim)
  int64_t heads = 1;
  int64_t head_dim = 0;  // 0: query_dim / heads
  bool bias = true;
  bool out_proj = true;  // W_O back to query_dim; without it the output is heads·head_dim wide
  float dropout = 0.f;   // on the attention weights
  Init init = Init::PyTorch;
};

// Queries from one sequence x [B, n, query_dim]; keys and values from another (or the same)
// y [B, m, kv_dim]. Self-attention is forward(x, x, x); cross-attention forward(x, y, y).
class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(const MultiHeadAttentionOptions& options, Generator& gen);
  MultiHeadAttention(int64_t dim, int64_t heads, Generator& gen, float dropout = 0.f,
                     Init init = Init::PyTorch);
  // query [B, n, query_dim], key [B, m, kv_dim], value [B, m, kv_dim],
  // mask broadcastable to [B, heads, n, m]  →  [B, n, query_dim] (or heads·head_dim).
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value,
                 const Tensor& mask = Tensor()) {
    return forward_with_weights(query, key, value, mask).output;
  }
  // The same, with the attention weights [B, heads, n, m] returned too (for inspection and
  // heat maps: nothing is kept in the module between calls).
  AttentionResult forward_with_weights(const Tensor& query, const Tensor& key, const Tensor& value,
                                       const Tensor& mask = Tensor());
  // The same with keys and values already projected, k = w_k(key), v = w_v(value), each
  // [B, m, heads·head_dim]: a decoder's key/value cache keeps them between steps (chapter 13),
  // so that only the new query row is projected and attended with.
  AttentionResult forward_projected(const Tensor& query, const Tensor& k, const Tensor& v,
                                    const Tensor& mask = Tensor());
  MultiHeadAttentionOptions options;
  std::shared_ptr<Linear> w_q, w_k, w_v, w_o;
  std::shared_ptr<Dropout> attn_drop;
};

}  // namespace qkv::nn
