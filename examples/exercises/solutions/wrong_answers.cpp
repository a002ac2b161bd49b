// Deliberately wrong answers, one per exercise: each is a mistake a learner really makes.
// tests/test_exercises.cpp holds every check to rejecting its wrong answer (so a check that
// rots into accepting anything turns `make test` red), and `build/exercise_solutions --wrong
// NAME` shows what the checker prints for one. Not a place to look for the right answers.
#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"
#include "examples/exercises/check/answers.h"

namespace qkv::exercises {

namespace {

// Sums the dims broadcasting added in front, but forgets the 1s it stretched: it keeps
// element 0 of those instead of their sum.
Tensor unbroadcast_wrong(const Tensor& grad, const Shape& shape) {
  Tensor g = grad;
  while (g.dim() > static_cast<int64_t>(shape.size())) g = sum(g, 0);
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] == 1 && g.size(d) != 1) g = slice(g, d, 0, 1);
  return g.clone();
}

// Forgets to sum over the batch dims that were broadcast: the shapes come out wrong.
MatmulGrads matmul_backward_wrong(const Tensor& a, const Tensor& b, const Tensor& dc) {
  return {matmul(dc, transpose(b, -1, -2)), matmul(transpose(a, -1, -2), dc)};
}

// The tanh approximation, not the erf form the library (and torch's default) uses.
Tensor gelu_forward_wrong(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.data()[i];
    y.data()[i] = static_cast<float>(
        0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
  }
  return y;
}

// Φ(x) alone: the product rule's second term x·φ(x) is missing.
Tensor gelu_backward_wrong(const Tensor& x, const Tensor& dy) {
  Tensor dx = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    dx.data()[i] =
        static_cast<float>(dy.data()[i] * 0.5 * (1 + std::erf(x.data()[i] / std::sqrt(2.0))));
  return dx;
}

// Row `id` found at offset id instead of id·D.
Tensor embedding_forward_wrong(const Tensor& table, const Tensor& ids) {
  const int64_t D = table.size(1);
  Shape shape = ids.shape();
  shape.push_back(D);
  Tensor out = Tensor::empty(shape);
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t id = static_cast<int64_t>(ids.data()[i]);
    for (int64_t j = 0; j < D; ++j) out.data()[i * D + j] = table.data()[id + j];
  }
  return out;
}

// Assigns instead of adding: a token that appears twice keeps only its last gradient.
Tensor embedding_backward_wrong(const Tensor& ids, const Tensor& dy, int64_t rows, int64_t pad) {
  const int64_t D = dy.size(-1);
  Tensor dw = Tensor::zeros({rows, D});
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t id = static_cast<int64_t>(ids.data()[i]);
    if (id == pad) continue;
    for (int64_t j = 0; j < D; ++j) dw.data()[id * D + j] = dy.data()[i * D + j];
  }
  return dw;
}

// exp(x)/Σexp(x) without subtracting the maximum: exp(1200) is inf, inf/inf is NaN.
Tensor softmax_forward_wrong(const Tensor& x) {
  const int64_t n = x.size(-1);
  Tensor y = Tensor::empty(x.shape());
  for (int64_t r = 0; r < x.numel() / n; ++r) {
    float s = 0.f;
    for (int64_t j = 0; j < n; ++j) s += std::exp(x.data()[r * n + j]);
    for (int64_t j = 0; j < n; ++j) y.data()[r * n + j] = std::exp(x.data()[r * n + j]) / s;
  }
  return y;
}

// dx = y ⊙ dy: the diagonal of the Jacobian only, the rowsum term −y·⟨dy, y⟩ is missing.
Tensor softmax_backward_wrong(const Tensor& y, const Tensor& dy) { return mul(y, dy); }

// The mean over every row, ignored ones included (they count as loss 0).
float cross_entropy_forward_wrong(const Tensor& logits, const Tensor& targets, int64_t ignore,
                                  float eps) {
  const int64_t N = logits.size(0), C = logits.size(1);
  const Tensor lsm = log_softmax(logits, -1);
  double total = 0;
  for (int64_t r = 0; r < N; ++r) {
    const int64_t t = static_cast<int64_t>(targets.data()[r]);
    if (t == ignore) continue;
    for (int64_t c = 0; c < C; ++c)
      total -= ((c == t ? 1.0 - eps : 0.0) + eps / C) * lsm.data()[r * C + c];
  }
  return static_cast<float>(total / N);
}

// Forgets the label smoothing: softmax − onehot.
Tensor cross_entropy_backward_wrong(const Tensor& logits, const Tensor& targets, int64_t ignore,
                                    float, float dloss) {
  const int64_t N = logits.size(0), C = logits.size(1);
  const Tensor p = softmax(logits, -1);
  Tensor dx = Tensor::zeros(logits.shape());
  int64_t count = 0;
  for (int64_t r = 0; r < N; ++r) count += static_cast<int64_t>(targets.data()[r]) != ignore;
  for (int64_t r = 0; r < N; ++r) {
    const int64_t t = static_cast<int64_t>(targets.data()[r]);
    if (t == ignore) continue;
    for (int64_t c = 0; c < C; ++c)
      dx.data()[r * C + c] = dloss * (p.data()[r * C + c] - (c == t)) / static_cast<float>(count);
  }
  return dx;
}

// Scores not divided by √dk.
Tensor worked_example_forward_wrong(const Tensor& a, const Tensor& wq, const Tensor& wk,
                                    const Tensor& wv) {
  const Tensor q = matmul(a, wq), k = matmul(a, wk), v = matmul(a, wv);
  return matmul(softmax(matmul(q, transpose(k, 0, 1)), -1), v);
}

// da through Q only: the paths through K and V are forgotten.
WorkedExampleGrads worked_example_backward_wrong(const Tensor& a, const Tensor& wq,
                                                 const Tensor& wk, const Tensor& wv,
                                                 const Tensor& db) {
  WorkedExampleGrads g = linked_answers().worked_example_backward(a, wq, wk, wv, db);
  const Tensor q = matmul(a, wq), k = matmul(a, wk), v = matmul(a, wv);
  const float scale = 1.f / std::sqrt(static_cast<float>(q.size(1)));
  const Tensor p = softmax(mul(matmul(q, transpose(k, 0, 1)), scale), -1);
  const Tensor dp = matmul(db, transpose(v, 0, 1));
  const Tensor ds = mul(mul(p, sub(dp, sum(mul(p, dp), -1, true))), scale);
  g.da = matmul(matmul(ds, k), transpose(wq, 0, 1));
  return g;
}

// Cho et al.'s original candidate: r gates h before W_hn, so b_hn escapes the reset gate.
Tensor gru_cell_wrong(const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                      const Tensor& b_ih, const Tensor& b_hh) {
  const int64_t H = h.size(1);
  const std::vector<Tensor> i = split(linear(x, w_ih, b_ih), 1, {H, H, H});
  const std::vector<Tensor> wh = split(w_hh, 0, {H, H, H});
  const std::vector<Tensor> bh = split(b_hh, 0, {H, H, H});
  const Tensor r = sigmoid(add(i[0], linear(h, wh[0], bh[0])));
  const Tensor z = sigmoid(add(i[1], linear(h, wh[1], bh[1])));
  const Tensor n = tanh(add(i[2], linear(mul(r, h), wh[2], bh[2])));
  return add(mul(add(neg(z), 1.f), n), mul(z, h));
}

// Reshapes straight to [B, heads, T, d]: the right shape, the wrong elements.
Tensor split_heads_wrong(const Tensor& x, int64_t heads) {
  return reshape(x, {x.size(0), heads, x.size(1), x.size(2) / heads});
}
Tensor merge_heads_wrong(const Tensor& x) {
  return reshape(x, {x.size(0), x.size(2), x.size(1) * x.size(3)});
}

// The causal triangle upside down: query i sees keys j ≥ i, the future.
Tensor attention_mask_wrong(const Tensor& keep, int64_t n, bool causal) {
  const int64_t B = keep.size(0), m = keep.size(1);
  Tensor mask = Tensor::zeros({B, 1, n, m});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j)
        mask.data()[(b * n + i) * m + j] = keep.data()[b * m + j] != 0.f && (!causal || j >= i);
  return mask;
}

// −∞ for blocked keys and softmax spelled out as exp(s − max)/Σ: a row with every key
// blocked is −∞ − (−∞) = NaN.
Tensor masked_softmax_wrong(const Tensor& scores, const Tensor& mask) {
  Tensor blocked;
  {
    NoGradGuard no_grad;
    blocked = add(mul(mask, -1.f), 1.f);
  }
  const Tensor s = masked_fill(scores, blocked, -INFINITY);
  const Tensor e = exp(sub(s, max(s, -1, true).detach()));
  return div(e, sum(e, -1, true));
}

// dQ and dK without the 1/√dk of the forward's scale.
AttentionGrads attention_backward_wrong(const Tensor& q, const Tensor& k, const Tensor& v,
                                        const Tensor& mask, const Tensor& dout) {
  AttentionGrads g = linked_answers().attention_backward(q, k, v, mask, dout);
  const float root = std::sqrt(static_cast<float>(q.size(-1)));
  return {mul(g.dq, root), mul(g.dk, root), g.dv};
}

// pos / 10000^(i/dim) with i the column, not 2i: every pair gets its own frequency.
Tensor sinusoidal_encoding_wrong(int64_t max_len, int64_t dim) {
  Tensor pe = Tensor::zeros({max_len, dim});
  for (int64_t pos = 0; pos < max_len; ++pos)
    for (int64_t c = 0; c < dim; ++c) {
      const double angle = pos / std::pow(10000.0, static_cast<double>(c) / dim);
      pe.data()[pos * dim + c] = static_cast<float>(c % 2 ? std::cos(angle) : std::sin(angle));
    }
  return pe;
}

// The unbiased variance (÷ (D − 1)), which torch.nn.LayerNorm does not use.
Tensor layer_norm_forward_wrong(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
  const int64_t D = x.size(-1);
  const Tensor mu = mean(x, -1, true), xc = sub(x, mu);
  const Tensor var = div(sum(mul(xc, xc), -1, true), Tensor::scalar(static_cast<float>(D - 1)));
  return add(mul(div(xc, sqrt(add(var, eps))), w), b);
}

// dx = rstd·(g − mean(g)): the term through the variance, −x̂·mean(g ⊙ x̂), is missing.
LayerNormGrads layer_norm_backward_wrong(const Tensor& x, const Tensor& w, float eps,
                                         const Tensor& dy) {
  LayerNormGrads g = linked_answers().layer_norm_backward(x, w, eps, dy);
  const Tensor xc = sub(x, mean(x, -1, true));
  const Tensor rstd = pow(add(mean(mul(xc, xc), -1, true), eps), -0.5f);
  const Tensor gw = mul(dy, w);
  g.dx = mul(rstd, sub(gw, mean(gw, -1, true)));
  return g;
}

// No bias correction: the first steps are (1−β₁)/√(1−β₂) times too small or large.
void adam_step_wrong(Tensor& p, const Tensor& grad, Tensor& m, Tensor& v, int64_t, float lr,
                     float beta1, float beta2, float eps) {
  for (int64_t i = 0; i < p.numel(); ++i) {
    const float g = grad.data()[i];
    m.data()[i] = beta1 * m.data()[i] + (1.f - beta1) * g;
    v.data()[i] = beta2 * v.data()[i] + (1.f - beta2) * g * g;
    p.data()[i] -= lr * m.data()[i] / (std::sqrt(v.data()[i]) + eps);
  }
}

// Clips each gradient by its own norm rather than all of them by the global one.
double clip_by_global_norm_wrong(std::vector<Tensor>& grads, double max_norm) {
  double total = 0;
  for (Tensor& g : grads) {
    double sq = 0;
    for (int64_t i = 0; i < g.numel(); ++i) sq += static_cast<double>(g.data()[i]) * g.data()[i];
    total += sq;
    const double norm = std::sqrt(sq);
    if (norm > max_norm)
      for (int64_t i = 0; i < g.numel(); ++i)
        g.data()[i] *= static_cast<float>(max_norm / (norm + 1e-6));
  }
  return std::sqrt(total);
}

}  // namespace

Answers wrong_variant(const std::string& exercise) {
  Answers a = linked_answers();
  // clang-format off
  if (exercise == "unbroadcast") a.unbroadcast = unbroadcast_wrong;
  else if (exercise == "matmul_backward") a.matmul_backward = matmul_backward_wrong;
  else if (exercise == "gelu_forward") a.gelu_forward = gelu_forward_wrong;
  else if (exercise == "gelu_backward") a.gelu_backward = gelu_backward_wrong;
  else if (exercise == "embedding_forward") a.embedding_forward = embedding_forward_wrong;
  else if (exercise == "embedding_backward") a.embedding_backward = embedding_backward_wrong;
  else if (exercise == "softmax_forward") a.softmax_forward = softmax_forward_wrong;
  else if (exercise == "softmax_backward") a.softmax_backward = softmax_backward_wrong;
  else if (exercise == "cross_entropy_forward") a.cross_entropy_forward = cross_entropy_forward_wrong;
  else if (exercise == "cross_entropy_backward") a.cross_entropy_backward = cross_entropy_backward_wrong;
  else if (exercise == "worked_example_forward") a.worked_example_forward = worked_example_forward_wrong;
  else if (exercise == "worked_example_backward") a.worked_example_backward = worked_example_backward_wrong;
  else if (exercise == "gru_cell") a.gru_cell = gru_cell_wrong;
  else if (exercise == "split_heads") a.split_heads = split_heads_wrong;
  else if (exercise == "merge_heads") a.merge_heads = merge_heads_wrong;
  else if (exercise == "attention_mask") a.attention_mask = attention_mask_wrong;
  else if (exercise == "masked_softmax") a.masked_softmax = masked_softmax_wrong;
  else if (exercise == "attention_backward") a.attention_backward = attention_backward_wrong;
  else if (exercise == "sinusoidal_encoding") a.sinusoidal_encoding = sinusoidal_encoding_wrong;
  else if (exercise == "layer_norm_forward") a.layer_norm_forward = layer_norm_forward_wrong;
  else if (exercise == "layer_norm_backward") a.layer_norm_backward = layer_norm_backward_wrong;
  else if (exercise == "adam_step") a.adam_step = adam_step_wrong;
  else if (exercise == "clip_by_global_norm") a.clip_by_global_norm = clip_by_global_norm_wrong;
  else throw std::invalid_argument("wrong_variant: no wrong answer for '" + exercise + "'");
  // clang-format on
  return a;
}

}  // namespace qkv::exercises
