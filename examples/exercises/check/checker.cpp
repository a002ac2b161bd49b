#include "examples/exercises/check/checker.h"

#include "examples/exercises/check/checks.h"
#include "examples/exercises/check/harness.h"

namespace qkv::exercises {

const char* status_name(Status s) {
  switch (s) {
    case Status::Passed:
      return "passed";
    case Status::NotWritten:
      return "not written yet";
    case Status::Wrong:
      return "wrong";
  }
  return "?";
}

const std::vector<Exercise>& all_exercises() {
  static const std::vector<Exercise> list = {
      {"unbroadcast", "ch01", "sum a broadcast gradient back down to the input's shape",
       checks::unbroadcast},
      {"matmul_backward", "ch02", "dA and dB of a batched matmul whose batch dims broadcast",
       checks::matmul_backward},
      {"gelu_forward", "ch04", "GELU, the exact erf form", checks::gelu_forward},
      {"gelu_backward", "ch04", "GELU's derivative, times dy", checks::gelu_backward},
      {"embedding_forward", "ch04", "pick rows of the table by token id",
       checks::embedding_forward},
      {"embedding_backward", "ch04", "scatter-add into the picked rows, none into the padding row",
       checks::embedding_backward},
      {"softmax_forward", "ch05", "softmax that does not overflow at logits of 1000",
       checks::softmax_forward},
      {"softmax_backward", "ch05", "softmax's vector-Jacobian product, no Jacobian",
       checks::softmax_backward},
      {"cross_entropy_forward", "ch05",
       "log-softmax + cross-entropy, label smoothing, ignore index", checks::cross_entropy_forward},
      {"cross_entropy_backward", "ch05", "the gradient of that loss with respect to the logits",
       checks::cross_entropy_backward},
      {"worked_example_forward", "ch06", "the 2-token worked example by hand: B = softmax(QKᵀ/√d)V",
       checks::worked_example_forward},
      {"worked_example_backward", "ch06", "its gradients with respect to A, W_q, W_k, W_v",
       checks::worked_example_backward},
      {"gru_cell", "ch06", "one GRU step from autograd ops, as torch.nn.GRUCell", checks::gru_cell},
      {"split_heads", "ch07", "[B, T, heads·d] → [B, heads, T, d] from ops", checks::split_heads},
      {"merge_heads", "ch07", "[B, heads, T, d] → [B, T, heads·d] from ops", checks::merge_heads},
      {"attention_mask", "ch08", "causal and key-padding mask in one [B, 1, n, m]",
       checks::attention_mask},
      {"masked_softmax", "ch08", "softmax over allowed keys; a fully masked row is 0, not NaN",
       checks::masked_softmax},
      {"attention_backward", "ch08",
       "dQ, dK, dV of masked scaled dot-product attention, one function",
       checks::attention_backward},
      {"sinusoidal_encoding", "ch09", "the paper's sine/cosine position table",
       checks::sinusoidal_encoding},
      {"layer_norm_forward", "ch10", "LayerNorm over the last dim, as torch",
       checks::layer_norm_forward},
      {"layer_norm_backward", "ch10", "dx, dweight, dbias of LayerNorm",
       checks::layer_norm_backward},
      {"adam_step", "ch12", "one Adam step with bias correction", checks::adam_step},
      {"clip_by_global_norm", "ch12",
       "scale all gradients so their global norm is at most max_norm", checks::clip_by_global_norm},
  };
  return list;
}

const Exercise* find_exercise(const std::string& name) {
  for (const Exercise& ex : all_exercises())
    if (ex.name == name) return &ex;
  return nullptr;
}

Outcome check_exercise(const Exercise& ex, const Answers& answers) {
  try {
    ex.check(answers);
    return {Status::Passed, ""};
  } catch (const NotWrittenYet&) {
    return {Status::NotWritten, ""};
  } catch (const CheckFailed& e) {
    return {Status::Wrong, e.what()};
  } catch (const std::exception& e) {
    return {Status::Wrong, std::string("it threw: ") + e.what()};
  }
}

}  // namespace qkv::exercises
