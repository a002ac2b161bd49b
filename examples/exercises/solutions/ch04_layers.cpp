// Reference solutions, chapter 04 (docs/exercises.md#ch04). Try your own first.
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

namespace {
double Phi(double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); }
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
}  // namespace

Tensor gelu_forward(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    y.data()[i] = static_cast<float>(x.data()[i] * Phi(x.data()[i]));
  return y;
}

// y = x·Φ(x)  ⇒  dy/dx = Φ(x) + x·φ(x)
Tensor gelu_backward(const Tensor& x, const Tensor& dy) {
  Tensor dx = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double xi = x.data()[i];
    dx.data()[i] = static_cast<float>(dy.data()[i] * (Phi(xi) + xi * phi(xi)));
  }
  return dx;
}

Tensor embedding_forward(const Tensor& table, const Tensor& ids) {
  const int64_t D = table.size(1);
  Shape shape = ids.shape();
  shape.push_back(D);
  Tensor out = Tensor::empty(shape);
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t id = static_cast<int64_t>(ids.data()[i]);
    for (int64_t j = 0; j < D; ++j) out.data()[i * D + j] = table.data()[id * D + j];
  }
  return out;
}

// y_i = W[id_i]  ⇒  dW[v] = Σ_{i: id_i = v} dy_i, none for padding_idx
Tensor embedding_backward(const Tensor& ids, const Tensor& dy, int64_t num_embeddings,
                          int64_t padding_idx) {
  const int64_t D = dy.size(-1);
  Tensor dw = Tensor::zeros({num_embeddings, D});
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t id = static_cast<int64_t>(ids.data()[i]);
    if (id == padding_idx) continue;
    for (int64_t j = 0; j < D; ++j) dw.data()[id * D + j] += dy.data()[i * D + j];
  }
  return dw;
}

}  // namespace qkv::exercises
