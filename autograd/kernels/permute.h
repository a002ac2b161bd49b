// Copy a contiguous array into a new axis order (chapter 01). The output is written in
// order; each input element is found through the input strides of the permuted axes.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

// out has shape in_shape[order[0]], in_shape[order[1]], …
inline void permute_copy(float* out, const float* in, const std::vector<int64_t>& in_shape,
                         const std::vector<int64_t>& order) {
  const int64_t rank = static_cast<int64_t>(in_shape.size());
  std::vector<int64_t> in_strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d) in_strides[d] = in_strides[d + 1] * in_shape[d + 1];
  std::vector<int64_t> out_shape(rank), step(rank);
  for (int64_t d = 0; d < rank; ++d) {
    out_shape[d] = in_shape[order[d]];
    step[d] = in_strides[order[d]];
  }
  const int64_t last = rank ? out_shape[rank - 1] : 1;
  const int64_t last_step = rank ? step[rank - 1] : 1;
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < rank; ++d) rows *= out_shape[d];
#pragma omp parallel for schedule(static) if (rows * last >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r, off = 0;
    for (int64_t d = rank - 2; d >= 0; --d) {
      off += (rem % out_shape[d]) * step[d];
      rem /= out_shape[d];
    }
    float* o = out + r * last;
    const float* src = in + off;
    for (int64_t j = 0; j < last; ++j) o[j] = src[j * last_step];
  }
}

}  // namespace qkv::kernels
