// Reference solution, chapter 02 (docs/exercises.md#ch02). Try your own first.
#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// C = A·B  ⇒  dA = dC·Bᵀ, dB = Aᵀ·dC, each summed over the batch dims it was broadcast along.
MatmulGrads matmul_backward(const Tensor& a, const Tensor& b, const Tensor& dc) {
  const Tensor da = matmul(dc, transpose(b, -1, -2));  // [batch, n, k]
  const Tensor db = matmul(transpose(a, -1, -2), dc);  // [batch, k, m]
  return {unbroadcast(da, a.shape()), unbroadcast(db, b.shape())};
}

}  // namespace qkv::exercises
