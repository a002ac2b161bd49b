// Your exercises for chapter 04 (docs/exercises.md#ch04). Replace a body, then run
//   make exercises EX=gelu_forward   (or gelu_backward, embedding_forward, embedding_backward)
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// y = x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)): std::erf, element by element.
Tensor gelu_forward(const Tensor& x) { not_written_yet("gelu_forward"); }

// dx = dy · d/dx[x·Φ(x)]: the product rule, and Φ' is the normal density.
Tensor gelu_backward(const Tensor& x, const Tensor& dy) { not_written_yet("gelu_backward"); }

// out[i, :] = table[ids[i], :] for every position i of ids (flattened).
Tensor embedding_forward(const Tensor& table, const Tensor& ids) {
  not_written_yet("embedding_forward");
}

// dtable[v, :] = Σ over positions i with ids[i] = v of dy[i, :]; nothing for padding_idx.
// An id can repeat: add, never assign.
Tensor embedding_backward(const Tensor& ids, const Tensor& dy, int64_t num_embeddings,
                          int64_t padding_idx) {
  not_written_yet("embedding_backward");
}

}  // namespace qkv::exercises
