// Parameter updates over raw arrays (chapter 12): each element is updated independently,
// so the loops split across threads without changing any result.
#pragma once

#include <cmath>
#include <cstdint>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

// Adam / AdamW for one parameter array, in one pass over p, g, m, v.
//   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
// L2 (Adam): g += wd·p before the moments. Decoupled (AdamW): p −= lr·wd·p, apart.
inline void adam_update(float* p, const float* grad, float* m, float* v, int64_t n, float lr,
                        float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                        float bias1, float bias2) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    float g = grad[i];
    if (!decoupled) g += weight_decay * p[i];
    m[i] = beta1 * m[i] + (1.f - beta1) * g;
    v[i] = beta2 * v[i] + (1.f - beta2) * g * g;
    const float mhat = m[i] / bias1, vhat = v[i] / bias2;
    if (decoupled) p[i] -= lr * weight_decay * p[i];
    p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
  }
}

// SGD with momentum (PyTorch's form): b ← μb + g,  p ← p − lr·b.
inline void sgd_update(float* p, const float* grad, float* buf, int64_t n, float lr, float momentum,
                       float weight_decay) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i] + weight_decay * p[i];
    buf[i] = momentum * buf[i] + g;
    p[i] -= lr * (momentum != 0.f ? buf[i] : g);
  }
}

}  // namespace qkv::kernels
