// Decoding a trained Seq2SeqTransformer (chapter 13): greedy and beam search.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/transformer.h"

namespace qkv::nn {

struct DecodeOptions {
  int64_t bos_id = 1, eos_id = 2, pad_id = 0;
  // Tokens generated at most, not counting <bos>. 0: each sentence its own limit,
  // 2 × its source length + 10, at most the model's max_len − 1 (chapter 13): a sentence's
  // translation then never depends on which sentences are decoded in the same batch.
  int64_t max_len = 64;
  int64_t beam = 1;            // 1: greedy
  float length_penalty = 1.f;  // beam scores are log p / length^α (α = length_penalty)
};

// Puts a module in eval mode for a scope and restores its train/eval mode when the scope
// ends, also when an exception leaves it.
struct EvalScope {
  Module& m;
  bool was;
  explicit EvalScope(Module& mod) : m(mod), was(mod.is_training()) { m.eval(); }
  ~EvalScope() { m.train(was); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;
};

// Rows of ids of different lengths → ids [B, L] padded with `pad`, and keep [B, L] (1 for a
// real token, 0 for padding); L is the longest row (at least 1).
void pad_batch(const std::vector<std::vector<int64_t>>& rows, int64_t pad, Tensor& ids,
               Tensor& keep);

// One hypothesis: the generated ids (without <bos>, without <eos>) and its log-probability.
struct Hypothesis {
  std::vector<int64_t> tokens;
  float log_prob = 0.f;
};

// src: each row a list of source ids (unpadded). Runs in eval mode under NoGradGuard and
// restores the model's mode afterwards.
std::vector<Hypothesis> greedy_decode(Seq2SeqTransformer& model,
                                      const std::vector<std::vector<int64_t>>& src,
                                      const DecodeOptions& options);
Hypothesis beam_search(Seq2SeqTransformer& model, const std::vector<int64_t>& src,
                       const DecodeOptions& options);

}  // namespace qkv::nn
