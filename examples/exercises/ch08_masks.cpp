// Your exercises for chapter 08 (docs/exercises.md#ch08). Replace a body, then run
//   make exercises EX=attention_mask   (or masked_softmax, attention_backward)
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// keep [B, m] → [B, 1, n, m]: 1 where key j is real (and j ≤ i when causal).
Tensor attention_mask(const Tensor& keep, int64_t n, bool causal) {
  not_written_yet("attention_mask");
}

// From autograd ops. exp(−∞ − (−∞)) is NaN: think about the row with every key blocked.
Tensor masked_softmax(const Tensor& scores, const Tensor& mask) {
  not_written_yet("masked_softmax");
}

// Recompute what you need of the forward, then go back one product at a time. Ops such as
// matmul and transpose are fine as arithmetic; autograd is off in here.
AttentionGrads attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& mask, const Tensor& dout) {
  not_written_yet("attention_backward");
}

}  // namespace qkv::exercises
