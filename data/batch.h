// Batches (chapter 12): id sequences of different lengths → rectangular, padded arrays.
//
// A batch is B sentence pairs padded to the longest one in it. Padding costs compute, so
// pairs of similar length go together ("bucketing"): shuffle all pairs, sort each chunk
// of the shuffled list by length, cut the list into batches, shuffle the batch order.
// (Sorting only within chunks keeps some randomness in which pairs meet in a batch.) Every epoch
// reshuffles from (seed, epoch), so training is reproducible.
//
// Teacher forcing shifts the target by one position:
//   target ids   y1 y2 y3
//   tgt_in       <bos> y1 y2 y3       what the decoder reads
//   tgt_out      y1 y2 y3 <eos>       what it must predict at each position
// Both have length T = longest target + 1. Masks are 1 on real tokens, 0 on <pad>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/corpus.h"
#include "data/vocab.h"

namespace qkv::data {

// One pair as ids, without <bos>/<eos> (make_batch adds them).
struct EncodedPair {
  std::vector<TokenId> src, tgt;
};

// Tokens → ids with each side's vocabulary (unknown tokens become <unk>).
std::vector<EncodedPair> encode_pairs(const std::vector<SentencePair>& pairs,
                                      const Vocab& src_vocab, const Vocab& tgt_vocab);

struct Batch {
  int batch_size = 0;                // B
  int src_len = 0;                   // S: longest source in the batch
  int tgt_len = 0;                   // T: longest target in the batch + 1
  std::vector<TokenId> src;          // [B,S] source ids, <pad>=0 after each sentence
  std::vector<TokenId> tgt_in;       // [B,T] <bos> y1 … yn <pad> …
  std::vector<TokenId> tgt_out;      // [B,T] y1 … yn <eos> <pad> …
  std::vector<uint8_t> src_keep;     // [B,S] 1 = real token, 0 = padding
  std::vector<uint8_t> tgt_keep;     // [B,T] 1 = real position in tgt_in and tgt_out
  std::vector<int32_t> src_lengths;  // [B] real source tokens per row
  std::vector<int32_t> tgt_lengths;  // [B] real target positions per row (n + 1)
  std::vector<size_t> indices;       // [B] which pairs of the data set, row by row

  int64_t src_tokens() const;  // sum of src_lengths (real tokens, padding excluded)
  int64_t tgt_tokens() const;  // sum of tgt_lengths
};

// Pads the chosen pairs into one batch. Throws std::invalid_argument for an empty row list
// or an empty source (a row with every key masked has nothing to attend to).
Batch make_batch(const std::vector<EncodedPair>& data, const std::vector<size_t>& rows,
                 TokenId pad_id = Vocab::kPad, TokenId bos_id = Vocab::kBos,
                 TokenId eos_id = Vocab::kEos);

struct BatchOptions {
  size_t batch_size = 32;    // rows per batch (used when max_tokens == 0)
  size_t max_tokens = 0;     // token budget: B × max(S, T) ≤ max_tokens, padding included
  size_t chunk_size = 1024;  // pairs sorted by length together; 1 = no bucketing
  bool shuffle = true;       // false: keep the data's order (evaluation), no sorting
  uint64_t seed = 0;
};

// Which rows form each batch in the given epoch (the plan, without padding anything).
std::vector<std::vector<size_t>> plan_batches(const std::vector<EncodedPair>& data,
                                              const BatchOptions& options, uint64_t epoch = 0);
// plan_batches, then make_batch for each.
std::vector<Batch> make_batches(const std::vector<EncodedPair>& data, const BatchOptions& options,
                                uint64_t epoch = 0);

}  // namespace qkv::data
