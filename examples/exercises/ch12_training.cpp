// Your exercises for chapter 12 (docs/exercises.md#ch12). Replace a body, then run
//   make exercises EX=adam_step   (or clip_by_global_norm)
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·m̂/(√v̂ + eps), m̂ = m/(1−β₁ᵗ),
// v̂ = v/(1−β₂ᵗ). Write into param.data(), m.data(), v.data().
void adam_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, int64_t t, float lr,
               float beta1, float beta2, float eps) {
  not_written_yet("adam_step");
}

// norm = √(Σ over every element of every gradient of g²), summed in double.
double clip_by_global_norm(std::vector<Tensor>& grads, double max_norm) {
  not_written_yet("clip_by_global_norm");
}

}  // namespace qkv::exercises
