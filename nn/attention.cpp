#include "nn/attention.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/engine.h"
#include "nn/attention_scores.h"

namespace qkv::nn {

Tensor causal_mask(int64_t n) {
  Tensor m = Tensor::zeros({n, n});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) m.data()[i * n + j] = 1.f;
  return m;
}

Tensor key_padding_mask(const Tensor& keep) {
  if (keep.dim() != 2)
    throw std::invalid_argument("key_padding_mask: expected [B, m], got " +
                                shape_str(keep.shape()));
  return reshape(keep.detach(), {keep.size(0), 1, 1, keep.size(1)});
}

Tensor combine_masks(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  NoGradGuard no_grad;
  return mul(a, b);
}

AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const Tensor& mask, Dropout* weight_dropout) {
  if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2 || q.size(-1) != k.size(-1) ||
      k.size(-2) != v.size(-2))
    throw std::invalid_argument("scaled_dot_product_attention: q " + shape_str(q.shape()) + ", k " +
                                shape_str(k.shape()) + ", v " + shape_str(v.shape()) +
                                ": need q [..., n, d], k [..., m, d], v [..., m, dv]");
  // scores[i, j] = qᵢ·kⱼ / √d_k: how well query i matches key j   [..., n, m]; then the
  // masked softmax and the weighted sum of chapter 06's attend.
  return attend(attention_scores(q, k, Score::ScaledDot), v, mask, weight_dropout);
}

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& o, Generator& gen)
    : options(o) {
  if (options.kv_dim == 0) options.kv_dim = options.query_dim;
  if (options.heads <= 0) throw std::invalid_argument("MultiHeadAttention: heads must be positive");
  if (options.head_dim == 0) {
    if (options.query_dim % options.heads != 0)
      throw std::invalid_argument("MultiHeadAttention: query_dim " +
                                  std::to_string(options.query_dim) +
                                  " is not divisible by heads " + std::to_string(options.heads) +
                                  "; give head_dim explicitly");
    options.head_dim = options.query_dim / options.heads;
  }
  const int64_t inner = options.heads * options.head_dim;
  w_q = register_module(
      "w_q", std::make_shared<Linear>(options.query_dim, inner, gen, options.bias, options.init));
  w_k = register_module(
      "w_k", std::make_shared<Linear>(options.kv_dim, inner, gen, options.bias, options.init));
  w_v = register_module(
      "w_v", std::make_shared<Linear>(options.kv_dim, inner, gen, options.bias, options.init));
  if (options.out_proj)
    w_o = register_module(
        "w_o", std::make_shared<Linear>(inner, options.query_dim, gen, options.bias, options.init));
  attn_drop =
      register_module("attn_dropout", std::make_shared<Dropout>(options.dropout, gen.next_u64()));
}

MultiHeadAttention::MultiHeadAttention(int64_t dim, int64_t heads, Generator& gen, float dropout,
                                       Init init)
    : MultiHeadAttention(MultiHeadAttentionOptions{dim, dim, heads, 0, true, true, dropout, init},
                         gen) {}

AttentionResult MultiHeadAttention::forward_with_weights(const Tensor& query, const Tensor& key,
                                                         const Tensor& value, const Tensor& mask) {
  if (query.dim() != 3 || key.dim() != 3 || value.dim() != 3 ||
      query.size(2) != options.query_dim || key.size(2) != options.kv_dim ||
      value.size(2) != options.kv_dim || key.size(1) != value.size(1) ||
      query.size(0) != key.size(0) || key.size(0) != value.size(0))
    throw std::invalid_argument("MultiHeadAttention: query " + shape_str(query.shape()) + ", key " +
                                shape_str(key.shape()) + ", value " + shape_str(value.shape()) +
                                " do not fit query_dim " + std::to_string(options.query_dim) +
                                ", kv_dim " + std::to_string(options.kv_dim) +
                                " (expected [B, n, query_dim], [B, m, kv_dim], [B, m, kv_dim])");
  return forward_projected(query, w_k->forward(key), w_v->forward(value), mask);
}

AttentionResult MultiHeadAttention::forward_projected(const Tensor& query, const Tensor& k,
                                                      const Tensor& v, const Tensor& mask) {
  const int64_t inner = options.heads * options.head_dim;
  if (query.dim() != 3 || query.size(2) != options.query_dim || k.dim() != 3 || v.dim() != 3 ||
      k.size(2) != inner || v.size(2) != inner || k.size(1) != v.size(1) ||
      k.size(0) != query.size(0) || v.size(0) != query.size(0))
    throw std::invalid_argument(
        "MultiHeadAttention: query " + shape_str(query.shape()) + ", projected k " +
        shape_str(k.shape()) + ", v " + shape_str(v.shape()) + " do not fit query_dim " +
        std::to_string(options.query_dim) + ", heads·head_dim " + std::to_string(inner) +
        " (expected [B, n, query_dim], [B, m, inner], [B, m, inner])");
  // Project the queries, then attend with every head at once: the fused op reads head h as the
  // columns [h·hd, (h+1)·hd) of each projection, so no [B, T, H, hd] → [B, H, T, hd] copies are
  // made, and writes the heads side by side, [B, n, H·hd], ready for W_O (chapter 14). It
  // computes what split heads + scaled_dot_product_attention + merge heads would (a test holds
  // them equal); the weights come out [B, H, n, m], detached.
  AttentionOutput r = fused_attention(w_q->forward(query), k, v, options.heads, mask, attn_drop->p,
                                      attn_drop->is_training(), attn_drop->generator());
  return {w_o ? w_o->forward(r.output) : r.output, r.weights};
}

}  // namespace qkv::nn
