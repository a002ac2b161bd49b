// Shared test fixtures: a tiny Transformer config, a tiny GRU seq2seq config and copy / reverse
// batches, so that no test
// writes its own model sizes or its own special ids.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/random.h"
#include "autograd/tensor.h"
#include "data/vocab.h"
#include "nn/gru_seq2seq.h"
#include "nn/transformer.h"

namespace qkv::test {

// The synthetic tasks' ids: the vocabulary's <pad> <bos> <eos>, then the symbols. (They use
// no <unk>, so the first symbol takes its id.)
constexpr int64_t kPad = data::Vocab::kPad, kBos = data::Vocab::kBos, kEos = data::Vocab::kEos;
constexpr int64_t kFirstSymbol = kEos + 1;

// A model small enough to build in microseconds: d_model 16, 2 heads, d_ff 32, 1+1 layers,
// max_len 24, no dropout. Tests change the fields their property is about.
inline nn::Seq2SeqConfig tiny_config(int64_t src_vocab, int64_t tgt_vocab) {
  nn::Seq2SeqConfig c;
  c.src_vocab = src_vocab;
  c.tgt_vocab = tgt_vocab;
  c.d_model = 16;
  c.heads = 2;
  c.d_ff = 32;
  c.encoder_layers = c.decoder_layers = 1;
  c.max_len = 24;
  c.dropout = 0.f;
  c.pad_id = kPad;
  return c;
}

// The GRU baseline (chapter 06) as small: embeddings of 8, a state of 12, additive attention.
// Tests change the fields their property is about.
inline nn::GRUSeq2SeqConfig tiny_gru_config(int64_t src_vocab, int64_t tgt_vocab) {
  nn::GRUSeq2SeqConfig c;
  c.src_vocab = src_vocab;
  c.tgt_vocab = tgt_vocab;
  c.embed_dim = 8;
  c.hidden = 12;
  c.attention = true;
  c.pad_id = kPad;
  return c;
}

// A batch of B random sequences of `len` symbols and their targets (the same sequence, or
// reversed), as the models take them: src [B, len], tgt_in = <bos> target [B, len + 1],
// tgt_out = target <eos> flattened to [B·(len + 1)], keep-masks all ones.
struct TaskBatch {
  Tensor src, src_keep, tgt_in, tgt_keep, tgt_out;
  std::vector<std::vector<int64_t>> sources, targets;  // the symbols' ids, no specials
};

inline TaskBatch task_batch(Generator& g, int64_t B, int64_t len, int64_t symbols, bool reverse) {
  TaskBatch b{Tensor::zeros({B, len}),
              Tensor::ones({B, len}),
              Tensor::zeros({B, len + 1}),
              Tensor::ones({B, len + 1}),
              Tensor::zeros({B * (len + 1)}),
              {},
              {}};
  for (int64_t i = 0; i < B; ++i) {
    std::vector<int64_t> row(static_cast<size_t>(len));
    for (auto& x : row) x = kFirstSymbol + static_cast<int64_t>(g.randint(symbols));
    std::vector<int64_t> target = row;
    if (reverse) target.assign(row.rbegin(), row.rend());
    float* src = b.src.data() + i * len;
    float* tin = b.tgt_in.data() + i * (len + 1);
    float* tout = b.tgt_out.data() + i * (len + 1);
    tin[0] = static_cast<float>(kBos);
    for (int64_t t = 0; t < len; ++t) {
      src[t] = static_cast<float>(row[static_cast<size_t>(t)]);
      tin[t + 1] = tout[t] = static_cast<float>(target[static_cast<size_t>(t)]);
    }
    tout[len] = static_cast<float>(kEos);
    b.sources.push_back(row);
    b.targets.push_back(target);
  }
  return b;
}
inline TaskBatch copy_batch(Generator& g, int64_t B, int64_t len, int64_t symbols) {
  return task_batch(g, B, len, symbols, false);
}
inline TaskBatch reverse_batch(Generator& g, int64_t B, int64_t len, int64_t symbols) {
  return task_batch(g, B, len, symbols, true);
}

}  // namespace qkv::test
