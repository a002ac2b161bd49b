// Reference solutions, chapter 07 (docs/exercises.md#ch07). Try your own first.
#include "examples/exercises/exercises.h"

namespace qkv::exercises {

Tensor split_heads(const Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2) / heads;
  return permute(reshape(x, {B, T, heads, d}), {0, 2, 1, 3});  // [B, T, h, d] → [B, h, T, d]
}

Tensor merge_heads(const Tensor& x) {
  const int64_t B = x.size(0), heads = x.size(1), T = x.size(2), d = x.size(3);
  return reshape(permute(x, {0, 2, 1, 3}), {B, T, heads * d});
}

}  // namespace qkv::exercises
