// A set of answers to the exercises: one slot per function of examples/exercises/exercises.h.
//
// The checker runs on a set, not on the functions by name, so the same checks hold the
// learner's functions, the reference solutions, a never-written stub and a deliberately
// wrong variant (tests/test_exercises.cpp swaps single slots).
#pragma once

#include <functional>
#include <string>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

struct Answers {
  std::function<Tensor(const Tensor&, const Shape&)> unbroadcast;
  std::function<MatmulGrads(const Tensor&, const Tensor&, const Tensor&)> matmul_backward;
  std::function<Tensor(const Tensor&)> gelu_forward;
  std::function<Tensor(const Tensor&, const Tensor&)> gelu_backward;
  std::function<Tensor(const Tensor&, const Tensor&)> embedding_forward;
  std::function<Tensor(const Tensor&, const Tensor&, int64_t, int64_t)> embedding_backward;
  std::function<Tensor(const Tensor&)> softmax_forward;
  std::function<Tensor(const Tensor&, const Tensor&)> softmax_backward;
  std::function<float(const Tensor&, const Tensor&, int64_t, float)> cross_entropy_forward;
  std::function<Tensor(const Tensor&, const Tensor&, int64_t, float, float)> cross_entropy_backward;
  std::function<Tensor(const Tensor&, const Tensor&, const Tensor&, const Tensor&)>
      worked_example_forward;
  std::function<WorkedExampleGrads(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                   const Tensor&)>
      worked_example_backward;
  std::function<Tensor(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                       const Tensor&)>
      gru_cell;
  std::function<Tensor(const Tensor&, int64_t)> split_heads;
  std::function<Tensor(const Tensor&)> merge_heads;
  std::function<Tensor(const Tensor&, int64_t, bool)> attention_mask;
  std::function<Tensor(const Tensor&, const Tensor&)> masked_softmax;
  std::function<AttentionGrads(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                               const Tensor&)>
      attention_backward;
  std::function<Tensor(int64_t, int64_t)> sinusoidal_encoding;
  std::function<Tensor(const Tensor&, const Tensor&, const Tensor&, float)> layer_norm_forward;
  std::function<LayerNormGrads(const Tensor&, const Tensor&, float, const Tensor&)>
      layer_norm_backward;
  std::function<void(Tensor&, const Tensor&, Tensor&, Tensor&, int64_t, float, float, float, float)>
      adam_step;
  std::function<double(std::vector<Tensor>&, double)> clip_by_global_norm;
};

// The functions of exercises.h as linked into this program: the learner's in
// build/exercises, the reference solutions in build/exercise_solutions and the tests.
Answers linked_answers();

// A set in which every slot throws NotWrittenYet, as a fresh stub does.
Answers unwritten_answers();

// linked_answers() with one exercise's slot replaced by a deliberately wrong answer
// (solutions/wrong_answers.cpp); throws std::invalid_argument for an unknown name.
Answers wrong_variant(const std::string& exercise);

}  // namespace qkv::exercises
