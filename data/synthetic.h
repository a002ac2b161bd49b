// Synthetic tasks (chapter 12): sequence pairs whose answer is known by construction.
//
// Before a real corpus, a model should learn to copy its input (it must carry every token
// through attention) and to reverse it (it must attend to the mirrored position). The
// symbols are the numbers 0 … vocab_size-1 written as words, so "7 12 3" tokenizes into
// three tokens and the same Vocab/batch pipeline serves both tasks and real text.
#pragma once

#include <cstdint>
#include <vector>

#include "data/corpus.h"

namespace qkv::data {

struct SyntheticOptions {
  int num_pairs = 1000;
  int vocab_size = 10;  // symbols 0 … vocab_size-1
  int min_len = 1;
  int max_len = 8;  // lengths uniform in [min_len, max_len]
  uint64_t seed = 0;
};

// source "4 0 7", target "4 0 7"
std::vector<SentencePair> make_copy_task(const SyntheticOptions& options);
// source "4 0 7", target "7 0 4"
std::vector<SentencePair> make_reverse_task(const SyntheticOptions& options);

}  // namespace qkv::data
