// Your exercises for chapter 05 (docs/exercises.md#ch05). Replace a body, then run
//   make exercises EX=softmax_forward   (or softmax_backward, cross_entropy_forward, …)
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// Row by row over the last axis. Subtract the row's maximum before exp().
Tensor softmax_forward(const Tensor& x) { not_written_yet("softmax_forward"); }

// dx from y and dy, row by row, without ever forming the n×n Jacobian. Derive it first.
Tensor softmax_backward(const Tensor& y, const Tensor& dy) { not_written_yet("softmax_backward"); }

// Row loss −Σ_c q_c·log_softmax(x)_c, q the smoothed target; the mean over counted rows.
float cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                            float label_smoothing) {
  not_written_yet("cross_entropy_forward");
}

// d(dloss·loss)/dlogits: 0 in ignored rows. Derive it on log-softmax, not on softmax.
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                              float label_smoothing, float dloss) {
  not_written_yet("cross_entropy_backward");
}

}  // namespace qkv::exercises
