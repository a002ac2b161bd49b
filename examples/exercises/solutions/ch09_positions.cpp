// Reference solution, chapter 09 (docs/exercises.md#ch09). Try your own first.
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

Tensor sinusoidal_encoding(int64_t max_len, int64_t dim) {
  Tensor pe = Tensor::zeros({max_len, dim});
  for (int64_t pos = 0; pos < max_len; ++pos)
    for (int64_t c = 0; c < dim; ++c) {
      const int64_t i2 = c - c % 2;  // the pair (2i, 2i+1) shares one frequency
      const double angle =
          static_cast<double>(pos) / std::pow(10000.0, static_cast<double>(i2) / dim);
      pe.data()[pos * dim + c] = static_cast<float>(c % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return pe;
}

}  // namespace qkv::exercises
