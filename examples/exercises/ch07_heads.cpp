// Your exercises for chapter 07 (docs/exercises.md#ch07). Replace a body, then run
//   make exercises EX=split_heads   (or merge_heads)
#include "examples/exercises/exercises.h"

namespace qkv::exercises {

// [B, T, heads·d] → [B, heads, T, d] from ops: reshape, then move the head axis forward.
Tensor split_heads(const Tensor& x, int64_t heads) { not_written_yet("split_heads"); }

// [B, heads, T, d] → [B, T, heads·d]: the inverse.
Tensor merge_heads(const Tensor& x) { not_written_yet("merge_heads"); }

}  // namespace qkv::exercises
