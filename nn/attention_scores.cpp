#include "nn/attention_scores.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/engine.h"

namespace qkv::nn {

const char* score_name(Score s) {
  switch (s) {
    case Score::Dot:
      return "dot";
    case Score::ScaledDot:
      return "scaled dot";
    case Score::Cosine:
      return "cosine";
    case Score::Additive:
      return "additive";
  }
  return "?";
}

namespace {
// x [..., d] → x / |x| along the last axis. The tiny constant under the square root keeps
// a zero vector from dividing by zero (its "direction" is then 0, and so are its scores).
Tensor unit_rows(const Tensor& x) {
  Tensor norm = sqrt(add(sum(mul(x, x), -1, /*keepdim=*/true), 1e-12f));  // [..., 1]
  return div(x, norm);
}
}  // namespace

Tensor attention_scores(const Tensor& q, const Tensor& k, Score score) {
  if (q.dim() < 2 || k.dim() < 2 || q.size(-1) != k.size(-1))
    throw std::invalid_argument(std::string("attention_scores (") + score_name(score) + "): q " +
                                shape_str(q.shape()) + ", k " + shape_str(k.shape()) +
                                ": need q [..., n, d] and k [..., m, d] with the same d");
  switch (score) {
    case Score::Dot:
      // scores[i, j] = qᵢ·kⱼ: all n·m dot products at once, Q·Kᵀ   [..., n, m]
      return matmul(q, transpose(k, -2, -1));
    case Score::ScaledDot: {
      // Divided by √d so the scores' variance stays near 1 whatever the width d.
      const float scale = 1.f / std::sqrt(static_cast<float>(q.size(-1)));
      return mul(matmul(q, transpose(k, -2, -1)), scale);
    }
    case Score::Cosine:
      // The dot product of the unit vectors: only the angle between q and k counts.
      return matmul(unit_rows(q), transpose(unit_rows(k), -2, -1));
    case Score::Additive:
      break;
  }
  throw std::invalid_argument(
      "attention_scores: additive scores have weights; use AdditiveAttention::scores");
}

AttentionResult attend(const Tensor& scores, const Tensor& values, const Tensor& mask,
                       Dropout* weight_dropout) {
  if (scores.dim() < 2 || values.dim() < 2 || scores.size(-1) != values.size(-2))
    throw std::invalid_argument("attend: scores " + shape_str(scores.shape()) + ", values " +
                                shape_str(values.shape()) +
                                ": need scores [..., n, m] and values [..., m, dv]");
  Tensor s = scores;
  if (mask.defined()) {
    // masked_fill fills where its mask is non-zero, i.e. where ours says "blocked": 1 − mask.
    Tensor blocked;
    {
      NoGradGuard no_grad;
      blocked = add(mul(mask, -1.f), 1.f);
    }
    // −∞ becomes exactly 0 after the softmax: a blocked key gets no weight at all.
    s = masked_fill(s, blocked, -std::numeric_limits<float>::infinity());
  }
  Tensor weights = softmax(s, -1);  // [..., n, m], each row sums to 1
  // Dropout on the weights, as in the paper's reference code (identity in eval mode).
  Tensor used = weight_dropout ? weight_dropout->forward(weights) : weights;
  return {matmul(used, values), weights};  // [..., n, dv]
}

AdditiveAttention::AdditiveAttention(int64_t qd, int64_t kd, int64_t h, Generator& gen)
    : query_dim(qd), key_dim(kd), hidden(h) {
  w_q = register_module("w_q", std::make_shared<Linear>(qd, h, gen, /*bias=*/false));
  w_k = register_module("w_k", std::make_shared<Linear>(kd, h, gen, /*bias=*/true));
  v = register_module("v", std::make_shared<Linear>(h, 1, gen, /*bias=*/false));
}

Tensor AdditiveAttention::scores(const Tensor& q, const Tensor& k) const {
  if (q.dim() < 2 || k.dim() < 2 || q.size(-1) != query_dim || k.size(-1) != key_dim)
    throw std::invalid_argument("AdditiveAttention: q " + shape_str(q.shape()) + ", k " +
                                shape_str(k.shape()) + ": need q [..., n, " +
                                std::to_string(query_dim) + "] and k [..., m, " +
                                std::to_string(key_dim) + "]");
  // Project both into the same hidden space: [..., n, H] and [..., m, H].
  Tensor qh = w_q->forward(q);
  Tensor kh = w_k->forward(k);
  // Every (query i, key j) pair: [..., n, 1, H] + [..., 1, m, H] → [..., n, m, H].
  Shape qs = qh.shape(), ks = kh.shape();
  qs.insert(qs.end() - 1, 1);  // [..., n, 1, H]
  ks.insert(ks.end() - 2, 1);  // [..., 1, m, H]
  Tensor pair = tanh(add(reshape(qh, qs), reshape(kh, ks)));
  // vᵀ tanh(…): one number per pair, [..., n, m, 1] → [..., n, m].
  Tensor s = v->forward(pair);
  Shape out = s.shape();
  out.pop_back();
  return reshape(s, out);
}

}  // namespace qkv::nn
