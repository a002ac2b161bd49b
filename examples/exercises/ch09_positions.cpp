// Your exercise for chapter 09 (docs/exercises.md#ch09). Replace the body, then run
//   make exercises EX=sinusoidal_encoding
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// PE(pos, 2i) = sin(pos / 10000^(2i/dim)), PE(pos, 2i+1) = cos(same angle). Work in double.
Tensor sinusoidal_encoding(int64_t max_len, int64_t dim) { not_written_yet("sinusoidal_encoding"); }

}  // namespace qkv::exercises
