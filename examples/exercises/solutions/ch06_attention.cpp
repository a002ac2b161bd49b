// Reference solutions, chapter 06 (docs/exercises.md#ch06). Try your own first.
#include <cmath>
#include <vector>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

namespace {
// A plain [rows, cols] matrix: the worked example is all 2-D products.
struct Mat {
  int64_t rows, cols;
  std::vector<double> v;
  Mat(int64_t r, int64_t c) : rows(r), cols(c), v(static_cast<size_t>(r * c), 0.0) {}
  explicit Mat(const Tensor& t) : Mat(t.size(0), t.size(1)) {
    for (int64_t i = 0; i < t.numel(); ++i) v[i] = t.data()[i];
  }
  double& operator()(int64_t i, int64_t j) { return v[i * cols + j]; }
  double operator()(int64_t i, int64_t j) const { return v[i * cols + j]; }
  Tensor tensor() const {
    std::vector<float> f(v.begin(), v.end());
    return Tensor::from_vector(f, {rows, cols});
  }
};

// x·y, with either read transposed: the three products every backward line needs.
Mat product(const Mat& x, const Mat& y, bool tx = false, bool ty = false) {
  const int64_t n = tx ? x.cols : x.rows, k = tx ? x.rows : x.cols, m = ty ? y.rows : y.cols;
  Mat out(n, m);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double s = 0;
      for (int64_t l = 0; l < k; ++l) s += (tx ? x(l, i) : x(i, l)) * (ty ? y(j, l) : y(l, j));
      out(i, j) = s;
    }
  return out;
}

Mat plus(Mat x, const Mat& y) {
  for (size_t i = 0; i < x.v.size(); ++i) x.v[i] += y.v[i];
  return x;
}

struct Forward {
  Mat q, k, v, p, b;
};

Forward forward(const Tensor& a_, const Tensor& wq, const Tensor& wk, const Tensor& wv) {
  const Mat a(a_);
  Mat q = product(a, Mat(wq)), k = product(a, Mat(wk)), v = product(a, Mat(wv));
  Mat p = product(q, k, false, true);  // S = Q·Kᵀ/√dk, then softmax by rows
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.cols));
  for (int64_t i = 0; i < p.rows; ++i) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < p.cols; ++j) m = std::max(m, p(i, j) *= scale);
    for (int64_t j = 0; j < p.cols; ++j) s += (p(i, j) = std::exp(p(i, j) - m));
    for (int64_t j = 0; j < p.cols; ++j) p(i, j) /= s;
  }
  Mat b = product(p, v);
  return {q, k, v, p, b};
}
}  // namespace

Tensor worked_example_forward(const Tensor& a, const Tensor& w_q, const Tensor& w_k,
                              const Tensor& w_v) {
  return forward(a, w_q, w_k, w_v).b.tensor();
}

WorkedExampleGrads worked_example_backward(const Tensor& a_, const Tensor& w_q, const Tensor& w_k,
                                           const Tensor& w_v, const Tensor& db_) {
  const Forward f = forward(a_, w_q, w_k, w_v);
  const Mat a(a_), db(db_);
  // B = P·V  ⇒  dP = dB·Vᵀ, dV = Pᵀ·dB
  const Mat dp = product(db, f.v, false, true), dv = product(f.p, db, true, false);
  // P = softmax(S) by rows  ⇒  dS = P ⊙ (dP − rowsum(P ⊙ dP)); and S = Q·Kᵀ/√dk
  Mat ds(dp.rows, dp.cols);
  const double scale = 1.0 / std::sqrt(static_cast<double>(f.q.cols));
  for (int64_t i = 0; i < ds.rows; ++i) {
    double dot = 0;
    for (int64_t j = 0; j < ds.cols; ++j) dot += f.p(i, j) * dp(i, j);
    for (int64_t j = 0; j < ds.cols; ++j) ds(i, j) = f.p(i, j) * (dp(i, j) - dot) * scale;
  }
  // S·√dk = Q·Kᵀ  ⇒  dQ = dS·K, dK = dSᵀ·Q  (the 1/√dk is already in dS)
  const Mat dq = product(ds, f.k), dk = product(ds, f.q, true, false);
  // Q = a·W_q  ⇒  dW_q = aᵀ·dQ; a feeds Q, K and V: da sums the three paths
  const Mat da = plus(plus(product(dq, Mat(w_q), false, true), product(dk, Mat(w_k), false, true)),
                      product(dv, Mat(w_v), false, true));
  return {da.tensor(), product(a, dq, true, false).tensor(), product(a, dk, true, false).tensor(),
          product(a, dv, true, false).tensor()};
}

// The four gate equations of exercises.h, one op each.
Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& weight_ih, const Tensor& weight_hh,
                const Tensor& bias_ih, const Tensor& bias_hh) {
  const int64_t H = h.size(1);
  const std::vector<Tensor> i = split(linear(x, weight_ih, bias_ih), 1, {H, H, H});  // [B, H] ×3
  const std::vector<Tensor> g = split(linear(h, weight_hh, bias_hh), 1, {H, H, H});
  const Tensor r = sigmoid(add(i[0], g[0]));
  const Tensor z = sigmoid(add(i[1], g[1]));
  const Tensor n = tanh(add(i[2], mul(r, g[2])));  // r scales h's part, bias b_hn included
  return add(mul(add(neg(z), 1.f), n), mul(z, h));
}

}  // namespace qkv::exercises
