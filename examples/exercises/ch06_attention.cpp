// Your exercises for chapter 06 (docs/exercises.md#ch06). Replace a body, then run
//   make exercises EX=worked_example_forward   (or worked_example_backward, gru_cell)
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// Q = a·w_q, K = a·w_k, V = a·w_v, S = Q·Kᵀ/√dk, P = softmax(S) by rows, B = P·V, with
// plain loops: the article's 2 tokens give b1 = (0.33, 0.67), b2 = (0.50, 0.50).
Tensor worked_example_forward(const Tensor& a, const Tensor& w_q, const Tensor& w_k,
                              const Tensor& w_v) {
  not_written_yet("worked_example_forward");
}

// Backwards one line at a time: dP and dV from B = P·V, dS from the softmax, dQ and dK
// from S, then the weights; a feeds Q, K and V, so da is the sum of three paths.
WorkedExampleGrads worked_example_backward(const Tensor& a, const Tensor& w_q, const Tensor& w_k,
                                           const Tensor& w_v, const Tensor& db) {
  not_written_yet("worked_example_backward");
}

// From autograd ops (linear, split, sigmoid, tanh, add, mul): see exercises.h.
Tensor gru_cell(const Tensor& x, const Tensor& h, const Tensor& weight_ih, const Tensor& weight_hh,
                const Tensor& bias_ih, const Tensor& bias_hh) {
  not_written_yet("gru_cell");
}

}  // namespace qkv::exercises
