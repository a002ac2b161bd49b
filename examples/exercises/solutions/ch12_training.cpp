// Reference solutions, chapter 12 (docs/exercises.md#ch12). Try your own first.
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, int64_t t, float lr,
               float beta1, float beta2, float eps) {
  // m and v start at 0, so early on they are biased towards 0 by factors 1−β₁ᵗ, 1−β₂ᵗ.
  const float bias1 = 1.f - std::pow(beta1, static_cast<float>(t));
  const float bias2 = 1.f - std::pow(beta2, static_cast<float>(t));
  for (int64_t i = 0; i < param.numel(); ++i) {
    const float g = grad.data()[i];
    m.data()[i] = beta1 * m.data()[i] + (1.f - beta1) * g;
    v.data()[i] = beta2 * v.data()[i] + (1.f - beta2) * g * g;
    param.data()[i] -= lr * (m.data()[i] / bias1) / (std::sqrt(v.data()[i] / bias2) + eps);
  }
}

double clip_by_global_norm(std::vector<Tensor>& grads, double max_norm) {
  double total = 0;
  for (const Tensor& g : grads)
    for (int64_t i = 0; i < g.numel(); ++i) total += static_cast<double>(g.data()[i]) * g.data()[i];
  const double norm = std::sqrt(total);
  if (norm > max_norm) {
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (Tensor& g : grads)
      for (int64_t i = 0; i < g.numel(); ++i) g.data()[i] *= scale;
  }
  return norm;
}

}  // namespace qkv::exercises
