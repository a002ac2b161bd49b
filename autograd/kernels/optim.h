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

// Elements [begin, end) of one array, on the calling thread. The hyperparameters are copied
// into locals and the arrays marked __restrict: otherwise the compiler must assume a store to
// p, m or v may change h or another array, reloads h every element and leaves the loop scalar
// (perf, chapter 14). The weight decay's form (Adam or AdamW) is a template argument, so the
// loop has no branch. Vectorised, each element still gets the same operations in the same order.
template <bool Decoupled>
inline void adam_loop(const AdamSlot& s, int64_t begin, int64_t end, const AdamHyper& h) {
  float* __restrict p = s.p;
  float* __restrict m = s.m;
  float* __restrict v = s.v;
  const float* __restrict grad = s.grad;
  const float lr = h.lr, beta1 = h.beta1, beta2 = h.beta2, eps = h.eps, wd = h.weight_decay;
  const float bias1 = h.bias1, bias2 = h.bias2;
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    float g = grad[i];
    if constexpr (!Decoupled) g += wd * p[i];
    m[i] = beta1 * m[i] + (1.f - beta1) * g;
    v[i] = beta2 * v[i] + (1.f - beta2) * g * g;
    const float mhat = m[i] / bias1, vhat = v[i] / bias2;
    if constexpr (Decoupled) p[i] -= lr * wd * p[i];
    p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
  }
}

// The same, with the form h asks for.
inline void adam_update_range(const AdamSlot& s, int64_t begin, int64_t end, const AdamHyper& h) {
  if (h.decoupled)
    adam_loop<true>(s, begin, end, h);
  else
    adam_loop<false>(s, begin, end, h);
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
