// The pre-Transformer baseline (chapter 06): a GRU encoder-decoder, with or without
// additive (Bahdanau) attention.
//
// Encoder: embed the source, run a GRU over it → outputs h_1..h_S [B, S, H] and the final
//          state C [B, H].
// Decoder, one target position t at a time, starting from s_0 = C:
//   context c_t  = C                                      (attention off: the fixed context)
//               or Σ_j α_tj h_j with α_t = softmax_j(vᵀ tanh(W_q s_{t−1} + W_k h_j + b))
//                                                         (attention on)
//   s_t          = GRUCell([embed(y_{t−1}); c_t], s_{t−1})
//   logits_t     = W_out [s_t; c_t] + b_out
// Without attention the whole source must squeeze through the H numbers of C: that is the
// bottleneck chapter 06 measures. With attention each step looks back at every h_j.
#pragma once

#include <memory>
#include <vector>

#include "nn/attention_scores.h"
#include "nn/decoding.h"
#include "nn/gru.h"
#include "nn/layers.h"

namespace qkv::nn {

struct GRUSeq2SeqConfig {
  int64_t src_vocab = 0, tgt_vocab = 0;
  int64_t embed_dim = 32;
  int64_t hidden = 64;      // encoder and decoder state width H
  int64_t attn_hidden = 0;  // width inside the additive scorer (0: = hidden)
  bool attention = true;    // false: the decoder sees only the fixed context C
  int64_t pad_id = 0;
};

class GRUSeq2Seq : public Seq2SeqModel {
 public:
  GRUSeq2Seq(const GRUSeq2SeqConfig& config, Generator& gen);

  struct Encoded {
    Tensor outputs;  // [B, S, H]: h_1..h_S
    Tensor final;    // [B, H]: C, the state after each row's last real token
    Tensor keep;     // [B, S]: the source mask (1 = real token)
  };
  // src [B, S] ids, src_keep [B, S]
  Encoded encode(const Tensor& src, const Tensor& src_keep) const;

  struct Step {
    Tensor logits;   // [B, V]
    Tensor state;    // [B, H]: s_t
    Tensor weights;  // [B, S]: α_t (undefined without attention)
  };
  // One decoder step: prev [B] ids (y_{t−1}), state s_{t−1} [B, H].
  Step step(const Tensor& prev, const Tensor& state, const Encoded& enc) const;

  // Teacher forcing: tgt_in [B, T] (starting with <bos>)  →  logits [B, T, V]. With
  // attention (and the model has it), the weights of every step [B, T, S] are stored there.
  Tensor forward(const Tensor& src, const Tensor& src_keep, const Tensor& tgt_in,
                 Tensor* attention_weights = nullptr);

  // The decoding interface (nn/decoding.h): greedy_decode and beam_search work on it.
  DecodeState start_decoding(const Tensor& src, const Tensor& src_keep) override;
  Tensor decode_step(DecodeState& state, const std::vector<TokenId>& next,
                     Tensor* cross_attention = nullptr) override;

  GRUSeq2SeqConfig config;
  std::shared_ptr<Embedding> src_embed, tgt_embed;
  std::shared_ptr<GRU> encoder;
  std::shared_ptr<GRUCell> decoder;
  std::shared_ptr<AdditiveAttention> attention;  // null when config.attention is false
  std::shared_ptr<Linear> out;                   // [s_t; c_t] (2H) → V
};

}  // namespace qkv::nn
