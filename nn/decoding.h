// Decoding (chapter 13): greedy and beam search, written once for every seq2seq model
// through one interface, encode once / then one decoder step at a time.
//
//   DecodeState st = model.start_decoding(src, src_keep);   // the encoder runs once
//   Tensor logits = model.decode_step(st, {bos, …});         // [B, V] for the next token
//   st = st.select(rows);                                     // beam search: keep, repeat rows
//
// The Transformer (nn/transformer.h) and the GRU baseline (nn/gru_seq2seq.h) implement it.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/token_id.h"
#include "nn/module.h"

namespace qkv::nn {

struct DecodeOptions {
  TokenId bos_id = 1, eos_id = 2, pad_id = 0;
  // Tokens generated at most, not counting <bos>. 0: each sentence its own limit,
  // 2 × its source length + 10, at most max_len_cap if that is set (chapter 13): a
  // sentence's translation then never depends on which sentences are decoded with it.
  int64_t max_len = 64;
  int64_t max_len_cap = 0;     // with max_len 0: the longest any sentence may get (0: no cap)
  int64_t beam = 1;            // 1: greedy
  float length_penalty = 1.f;  // beam scores are log p / length^α (α = length_penalty)
  // Keep each decoder layer's keys and values between steps (a model that has such a cache:
  // the Transformer). false: every step recomputes the whole prefix, the slow, obvious way
  // the tests hold the cache equal to (chapter 13).
  bool kv_cache = true;
};

// One attention's keys and values for every row, heads side by side as the projections
// produce them: k, v [B, m, heads·head_dim] (m keys so far; undefined before the first).
struct KeyValues {
  Tensor k, v;
};

// A batch of B sequences being decoded: what the encoder produced and what each row has
// been fed so far. Everything per row is indexed by row, so that select() can reorder it,
// the key/value cache included.
struct DecodeState {
  Tensor memory;       // [B, S, D] the encoder's output
  Tensor memory_keep;  // [B, S] 1 = real source token
  Tensor hidden;       // [B, H] a recurrent decoder's state (GRU); undefined for the Transformer
  Tensor context;      // [B, H] a recurrent encoder's final state, the GRU's fixed context
  std::vector<std::vector<TokenId>> fed;  // each row's tokens fed so far, from <bos>
  // The key/value cache (chapter 13), one entry per decoder layer: self-attention's keys and
  // values of the t tokens fed so far, [B, t, ·], one row appended per step; cross-attention's
  // of the source, [B, S, ·], projected from `memory` once, at the first step. Empty until
  // then, and always when use_cache is false (DecodeOptions::kv_cache).
  bool use_cache = true;
  std::vector<KeyValues> self_kv, cross_kv;
  int64_t batch() const { return static_cast<int64_t>(fed.size()); }
  // Rows `rows` of this state, in that order (a row may repeat or be dropped).
  DecodeState select(const std::vector<int64_t>& rows) const;
};

// The interface both seq2seq models offer their decoders.
class Seq2SeqModel : public Module {
 public:
  // src [B, S] ids, src_keep [B, S]: runs the encoder, nothing fed yet.
  virtual DecodeState start_decoding(const Tensor& src, const Tensor& src_keep) = 0;
  // Feeds one token per row (next [B]: <bos> first) and returns the logits [B, V] of the
  // token after it. With cross_attention, the step's attention over the source, [B, S] per
  // head or averaged as the model has it, is stored there (on request, not kept).
  virtual Tensor decode_step(DecodeState& state, const std::vector<TokenId>& next,
                             Tensor* cross_attention = nullptr) = 0;
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
void pad_batch(const std::vector<std::vector<TokenId>>& rows, TokenId pad, Tensor& ids,
               Tensor& keep);

// One hypothesis: the generated ids (without <bos>, without <eos>) and its log-probability.
struct Hypothesis {
  std::vector<TokenId> tokens;
  float log_prob = 0.f;
};

// src: each row a list of source ids (unpadded). Runs in eval mode under NoGradGuard and
// restores the model's mode afterwards. Greedy decodes the rows together.
std::vector<Hypothesis> greedy_decode(Seq2SeqModel& model,
                                      const std::vector<std::vector<TokenId>>& src,
                                      const DecodeOptions& options);
// Keeps the `beam` best prefixes by log-probability; the finished hypothesis with the best
// log p / length^α wins (α = 0: the raw log-probability, which favours short outputs).
Hypothesis beam_search(Seq2SeqModel& model, const std::vector<TokenId>& src,
                       const DecodeOptions& options);

}  // namespace qkv::nn
