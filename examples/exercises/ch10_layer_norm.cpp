// Your exercises for chapter 10 (docs/exercises.md#ch10). Replace a body, then run
//   make exercises EX=layer_norm_forward   (or layer_norm_backward)
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// Per row: μ = mean(x), σ² = mean((x − μ)²), y = (x − μ)/√(σ² + eps) · weight + bias.
Tensor layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  not_written_yet("layer_norm_forward");
}

// dx, dweight, dbias. μ and σ² depend on every x of the row: dx has three terms, not one.
LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& weight, float eps,
                                   const Tensor& dy) {
  not_written_yet("layer_norm_backward");
}

}  // namespace qkv::exercises
