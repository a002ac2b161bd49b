// What both translator apps share: batches → tensors, decoding id sequences, evaluation.
// This is where data/ (text, vocabularies, batches) meets nn/ (the model).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/batch.h"
#include "data/corpus.h"
#include "data/vocab.h"
#include "nn/metrics.h"
#include "nn/transformer.h"

namespace qkv::app {

// A padded batch as model inputs: ids and keep-masks as float tensors, and the targets
// flattened to [B·T] with <pad> (= the loss's ignore index) after each sentence.
struct BatchTensors {
  Tensor src, src_keep;     // [B, S]
  Tensor tgt_in, tgt_keep;  // [B, T]
  Tensor tgt_out;           // [B·T]
  int64_t tokens = 0;       // real source + target tokens (for tokens/s)
};
BatchTensors to_tensors(const data::Batch& b);

struct TranslateOptions {
  int64_t beam = 1;            // 1: greedy
  float length_penalty = 1.f;  // beam scores are log p / length^α
  int64_t max_len = 0;         // 0: 2 × source length + 10, capped by the model's max_len
  int64_t batch = 64;          // sentences decoded together (greedy only)
};

// Source id sequences (no specials) → output id sequences (no <bos>/<eos>). Greedy
// decodes sentences of similar length together; beam search goes one sentence at a time.
std::vector<std::vector<TokenId>> translate_ids(nn::Seq2SeqTransformer& model,
                                                const std::vector<std::vector<TokenId>>& sources,
                                                const TranslateOptions& options);

std::vector<int64_t> to_ids(const data::Vocab& vocab, const std::vector<std::string>& tokens);
std::vector<std::string> to_tokens(const data::Vocab& vocab, const std::vector<int64_t>& ids);

struct Evaluation {
  double exact_match = 0;
  nn::BleuStats bleu;
  std::vector<std::vector<std::string>> hypotheses;  // one token list per test pair
  std::vector<size_t> worst;  // test pairs ordered from the worst (edit distance / length)
};

// Translates every test pair and compares its tokens to the reference tokens.
Evaluation evaluate(nn::Seq2SeqTransformer& model, const std::vector<data::SentencePair>& test,
                    const data::Vocab& src_vocab, const data::Vocab& tgt_vocab,
                    const TranslateOptions& options);

std::string json_escape(const std::string& s);
std::string format_duration(double seconds);  // "1m05s", "12.3s"

}  // namespace qkv::app
