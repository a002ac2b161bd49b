// Your exercises for chapter 02 (docs/exercises.md#ch02). Replace a body, then run
//   make exercises EX=matmul_backward
#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// da in a's shape, db in b's shape. A batch dim that was broadcast was used by every batch
// it was copied into. Ops are fine here: matmul, transpose, your unbroadcast (or sum_to).
MatmulGrads matmul_backward(const Tensor& a, const Tensor& b, const Tensor& dc) {
  not_written_yet("matmul_backward");
}

}  // namespace qkv::exercises
