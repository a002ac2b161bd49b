// Element-wise binary loops under NumPy broadcasting (chapter 01).
//
// Each input is described by its strides in the OUTPUT's index space: a dimension the input
// broadcasts along has stride 0, so the same element is read again. The output is walked
// row by row (its last dimension); each row is independent, so rows are split across threads.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

template <class F>
void broadcast_map2(float* out, const std::vector<int64_t>& out_shape, const float* a,
                    const std::vector<int64_t>& a_strides, const float* b,
                    const std::vector<int64_t>& b_strides, F f) {
  const int64_t rank = static_cast<int64_t>(out_shape.size());
  const int64_t last = rank ? out_shape[rank - 1] : 1;
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < rank; ++d) rows *= out_shape[d];
  const int64_t sa = rank ? a_strides[rank - 1] : 0, sb = rank ? b_strides[rank - 1] : 0;
#pragma omp parallel for schedule(static) if (rows * last >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    // Decompose the row index into the leading coordinates to find each input's offset.
    int64_t rem = r, oa = 0, ob = 0;
    for (int64_t d = rank - 2; d >= 0; --d) {
      const int64_t coord = rem % out_shape[d];
      rem /= out_shape[d];
      oa += coord * a_strides[d];
      ob += coord * b_strides[d];
    }
    float* o = out + r * last;
    const float* pa = a + oa;
    const float* pb = b + ob;
    if (sa == 1 && sb == 1) {
      for (int64_t j = 0; j < last; ++j) o[j] = f(pa[j], pb[j]);
    } else if (sa == 1) {
      for (int64_t j = 0; j < last; ++j) o[j] = f(pa[j], pb[j * sb]);
    } else {
      for (int64_t j = 0; j < last; ++j) o[j] = f(pa[j * sa], pb[j * sb]);
    }
  }
}

}  // namespace qkv::kernels
