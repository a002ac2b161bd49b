// Reference solutions, chapter 05 (docs/exercises.md#ch05). Try your own first.
#include <cmath>
#include <limits>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

Tensor softmax_forward(const Tensor& x) {
  const int64_t n = x.size(-1), rows = x.numel() / n;
  Tensor y = Tensor::empty(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * n;
    float* yr = y.data() + r * n;
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) m = std::max(m, xr[j]);
    if (std::isinf(m) && m < 0) {  // every entry −∞: no weight anywhere
      for (int64_t j = 0; j < n; ++j) yr[j] = 0.f;
      continue;
    }
    double s = 0;
    for (int64_t j = 0; j < n; ++j) s += std::exp(static_cast<double>(xr[j]) - m);
    for (int64_t j = 0; j < n; ++j)
      yr[j] = static_cast<float>(std::exp(static_cast<double>(xr[j]) - m) / s);
  }
  return y;
}

// y = softmax(x)  ⇒  dx = y ⊙ (dy − ⟨dy, y⟩)
Tensor softmax_backward(const Tensor& y, const Tensor& dy) {
  const int64_t n = y.size(-1), rows = y.numel() / n;
  Tensor dx = Tensor::empty(y.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float *yr = y.data() + r * n, *gr = dy.data() + r * n;
    double dot = 0;
    for (int64_t j = 0; j < n; ++j) dot += static_cast<double>(yr[j]) * gr[j];
    for (int64_t j = 0; j < n; ++j)
      dx.data()[r * n + j] = static_cast<float>(yr[j] * (gr[j] - dot));
  }
  return dx;
}

namespace {
// log Σ exp(x_j) over one row, without overflow.
double logsumexp(const float* x, int64_t n) {
  float m = x[0];
  for (int64_t j = 1; j < n; ++j) m = std::max(m, x[j]);
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(static_cast<double>(x[j]) - m);
  return m + std::log(s);
}
int64_t counted_rows(const Tensor& targets, int64_t ignore_index) {
  int64_t count = 0;
  for (int64_t r = 0; r < targets.numel(); ++r)
    count += static_cast<int64_t>(targets.data()[r]) != ignore_index;
  return count;
}
}  // namespace

// −Σ_c q_c·(x_c − lse) = lse − (1−ε)·x_t − (ε/C)·Σ_c x_c, since Σ_c q_c = 1
float cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                            float label_smoothing) {
  const int64_t N = logits.size(0), C = logits.size(1);
  const int64_t count = counted_rows(targets, ignore_index);
  if (count == 0) return 0.f;
  double total = 0;
  for (int64_t r = 0; r < N; ++r) {
    const int64_t t = static_cast<int64_t>(targets.data()[r]);
    if (t == ignore_index) continue;
    const float* x = logits.data() + r * C;
    double sum_x = 0;
    for (int64_t c = 0; c < C; ++c) sum_x += x[c];
    total += logsumexp(x, C) - (1.0 - label_smoothing) * x[t] - label_smoothing / C * sum_x;
  }
  return static_cast<float>(total / count);
}

// L = mean_r (lse_r − Σ_c q_rc·x_rc)  ⇒  dx_rc = dL · (softmax(x_r)_c − q_rc) / count
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                              float label_smoothing, float dloss) {
  const int64_t N = logits.size(0), C = logits.size(1);
  const int64_t count = counted_rows(targets, ignore_index);
  Tensor dx = Tensor::zeros(logits.shape());
  for (int64_t r = 0; r < N; ++r) {
    const int64_t t = static_cast<int64_t>(targets.data()[r]);
    if (t == ignore_index) continue;
    const float* x = logits.data() + r * C;
    const double lse = logsumexp(x, C);
    for (int64_t c = 0; c < C; ++c) {
      const double q = (c == t ? 1.0 - label_smoothing : 0.0) + label_smoothing / C;
      dx.data()[r * C + c] = static_cast<float>(dloss * (std::exp(x[c] - lse) - q) / count);
    }
  }
  return dx;
}

}  // namespace qkv::exercises
