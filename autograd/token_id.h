// The type of a token id wherever ids travel outside tensors: the vocabulary and the batches
// (data/), decoding and its hypotheses (nn/), the apps between them (chapter 12).
//
// Inside a tensor an id is a float: embedding() and cross_entropy() read their ids from float
// tensors, so that every tensor has the one element type. That is exact: a float holds every
// integer up to 2^24 = 16,777,216 exactly, far above any vocabulary here (the toy corpus has
// 516 target tokens, a BPE vocabulary some 37,000), and the ops reject an id that does not
// name a row. kMaxExactTokenId is that limit: nn::pad_batch, where decoding turns ids into a
// tensor, refuses an id at or above it.
#pragma once

#include <cstdint>

namespace qkv {

using TokenId = int64_t;
constexpr TokenId kMaxExactTokenId = TokenId{1} << 24;

}  // namespace qkv
