// Your exercises for chapter 01 (docs/exercises.md#ch01). Replace a body, then run
//   make exercises EX=unbroadcast
#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// grad [2, 3, 4], shape [3, 1] → [3, 1]. Hint: align the two shapes at the right; every
// element of grad adds into the one element of the result it was copied from.
Tensor unbroadcast(const Tensor& grad, const Shape& shape) { not_written_yet("unbroadcast"); }

}  // namespace qkv::exercises
