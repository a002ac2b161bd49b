// Element-wise loops over raw float arrays. Each element is independent, so OpenMP splits
// the index range and the result cannot depend on the thread count. Small arrays stay on
// one thread: starting a parallel region costs more than adding a few thousand floats.
#pragma once

#include <cstdint>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

// dst[i] += src[i]
inline void add_into(float* dst, const float* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

// a[i] += src[i] and b[i] += src[i] in one pass and one parallel region (an add's backward:
// both inputs receive the output's gradient). a == b adds twice, as two add_into calls would.
inline void add_into2(float* a, float* b, const float* src, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    a[i] += src[i];
    b[i] += src[i];
  }
}

// dst[i] += alpha * src[i]
inline void axpy(float* dst, float alpha, const float* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] += alpha * src[i];
}

// out[i] = f(in[i])
template <class F>
inline void map(float* out, const float* in, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

// out[i] = f(a[i], b[i])
template <class F>
inline void map2(float* out, const float* a, const float* b, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

// out[i] += f(a[i], b[i]): the shape of most backward rules (dx += dy · f'(x)).
template <class F>
inline void accumulate2(float* out, const float* a, const float* b, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] += f(a[i], b[i]);
}

}  // namespace qkv::kernels
