// Attention scoring functions (chapter 06): how well does a query match a key?
//
// Every attention mechanism in this project is three steps (chapter 06):
//   1. score each query against each key          scores [..., n, m]
//   2. softmax each row of scores into weights    weights [..., n, m], rows sum to 1
//   3. mix the values with those weights          output [..., n, dv] = weights · values
// Only step 1 differs between the scoring functions below. Steps 2 and 3 are `attend`.
//
// Masks follow nn/attention.h: 1 = the query may attend to this key, 0 = blocked.
#pragma once

#include <memory>

#include "autograd/ops.h"
#include "nn/attention.h"
#include "nn/layers.h"

namespace qkv::nn {

enum class Score {
  Dot,        // q·k                          (Luong's "dot")
  ScaledDot,  // q·k / √d                     (the Transformer's; chapter 06 explains the √d)
  Cosine,     // q·k / (|q|·|k|), in [−1, 1]  (the angle only, lengths ignored)
  Additive,   // vᵀ tanh(W_q q + W_k k)       (Bahdanau's; has parameters: AdditiveAttention)
};
const char* score_name(Score s);  // "dot", "scaled dot", "cosine", "additive"

// The parameter-free scores. q [..., n, d], k [..., m, d] → [..., n, m].
// Score::Additive has weights, so it is refused here: use AdditiveAttention::scores.
Tensor attention_scores(const Tensor& q, const Tensor& k, Score score);

// Steps 2 and 3: softmax over the keys (masked keys get weight exactly 0), then the
// weighted sum of the values. scores [..., n, m], values [..., m, dv], mask broadcastable
// to [..., n, m]  →  output [..., n, dv], weights [..., n, m]. With weight_dropout, the
// values are mixed with dropped-out weights (the returned weights are the undropped ones).
AttentionResult attend(const Tensor& scores, const Tensor& values, const Tensor& mask = Tensor(),
                       Dropout* weight_dropout = nullptr);

// Bahdanau et al. (2015), "additive" or "concat" attention:
//   score(q, k) = vᵀ tanh(W_q q + W_k k + b)
// A one-hidden-layer network scores each (query, key) pair, so q and k may have different
// widths: the decoder state and the encoder outputs of chapter 06's GRU model need not match.
class AdditiveAttention : public Module {
 public:
  AdditiveAttention(int64_t query_dim, int64_t key_dim, int64_t hidden, Generator& gen);
  // q [..., n, query_dim], k [..., m, key_dim]  →  scores [..., n, m]
  Tensor scores(const Tensor& q, const Tensor& k) const;
  // scores, then attend: values [..., m, dv], mask broadcastable to [..., n, m].
  AttentionResult forward(const Tensor& q, const Tensor& k, const Tensor& values,
                          const Tensor& mask = Tensor()) const {
    return attend(scores(q, k), values, mask);
  }
  std::shared_ptr<Linear> w_q;  // [hidden, query_dim], no bias (w_k's bias is the b above)
  std::shared_ptr<Linear> w_k;  // [hidden, key_dim] and b [hidden]
  std::shared_ptr<Linear> v;    // [1, hidden], no bias: a bias would add the same to every score
  int64_t query_dim, key_dim, hidden;
};

}  // namespace qkv::nn
