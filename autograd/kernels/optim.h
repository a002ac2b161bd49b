// Parameter updates over raw arrays (chapter 12): each element is updated independently,
// so the loops split across threads without changing any result.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

// Adam / AdamW, element by element:
//   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
// L2 (Adam): g += wd·p before the moments. Decoupled (AdamW): p −= lr·wd·p, apart.
struct AdamHyper {
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  float bias1, bias2;  // 1 − β₁ᵗ, 1 − β₂ᵗ
};

// One parameter array, its gradient and its two moments, all of n floats.
struct AdamSlot {
  float* p;
  const float* grad;
  float* m;
  float* v;
  int64_t n;
};

// Elements [begin, end) of one array, on the calling thread.
inline void adam_update_range(const AdamSlot& s, int64_t begin, int64_t end, const AdamHyper& h) {
  float *p = s.p, *m = s.m, *v = s.v;
  const float* grad = s.grad;
  for (int64_t i = begin; i < end; ++i) {
    float g = grad[i];
    if (!h.decoupled) g += h.weight_decay * p[i];
    m[i] = h.beta1 * m[i] + (1.f - h.beta1) * g;
    v[i] = h.beta2 * v[i] + (1.f - h.beta2) * g * g;
    const float mhat = m[i] / h.bias1, vhat = v[i] / h.bias2;
    if (h.decoupled) p[i] -= h.lr * h.weight_decay * p[i];
    p[i] -= h.lr * mhat / (std::sqrt(vhat) + h.eps);
  }
}

// Every array of a model in one parallel region (chapter 14): their elements, end to end,
// are cut into one share per thread (in whole 16-float chunks), so a model of many small
// arrays neither stays on one thread nor wakes the others once per array (88 times a step
// at the default size). Each element gets the same arithmetic whatever the thread count.
inline void adam_update_all(const std::vector<AdamSlot>& slots, const AdamHyper& h) {
  int64_t total = 0;
  for (const AdamSlot& s : slots) total += s.n;
  const int64_t chunks = (total + 15) / 16;
#pragma omp parallel if (total >= kParallelMin)
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    const int64_t lo = chunks * t / threads * 16,
                  hi = std::min(total, chunks * (t + 1) / threads * 16);
    int64_t start = 0;  // of the current array in the end-to-end numbering
    for (const AdamSlot& s : slots) {
      const int64_t begin = std::max(lo, start), end = std::min(hi, start + s.n);
      if (begin < end) adam_update_range(s, begin - start, end - start, h);
      start += s.n;
    }
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
