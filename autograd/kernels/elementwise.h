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

// dst[i] = src[i] when add is false (a gradient's first contribution, written into a new,
// uninitialised buffer: Tensor::grad_buffer_for_write), dst[i] += src[i] when it is true.
inline void write_or_add(float* dst, const float* src, int64_t n, bool add) {
  if (add) return add_into(dst, src, n);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

namespace detail {
template <bool AddA, bool AddB>
inline void add_into2(float* a, float* b, const float* src, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    a[i] = AddA ? a[i] + src[i] : src[i];
    b[i] = AddB ? b[i] + src[i] : src[i];
  }
}
}  // namespace detail

// a[i] += src[i] and b[i] += src[i] in one pass and one parallel region (an add's backward:
// both inputs receive the output's gradient); add_a / add_b false writes instead of adding,
// as write_or_add. a == b adds twice, as two add_into calls would (then both must add).
inline void add_into2(float* a, float* b, const float* src, int64_t n, bool add_a = true,
                      bool add_b = true) {
  if (add_a && add_b) return detail::add_into2<true, true>(a, b, src, n);
  if (add_a) return detail::add_into2<true, false>(a, b, src, n);
  if (add_b) return detail::add_into2<false, true>(a, b, src, n);
  detail::add_into2<false, false>(a, b, src, n);
}

// dst[i] += alpha * src[i]
inline void axpy(float* dst, float alpha, const float* src, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] += alpha * src[i];
}

// dst[i] = alpha * src[i] when add is false (as write_or_add), axpy when it is true.
inline void write_or_axpy(float* dst, float alpha, const float* src, int64_t n, bool add) {
  if (add) return axpy(dst, alpha, src, n);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dst[i] = alpha * src[i];
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
