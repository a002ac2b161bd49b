// The Transformer of "Attention Is All You Need" (chapter 11).
//
// Encoder layer:  x → Add&Norm(x, SelfAttention(x)) → Add&Norm(·, FeedForward(·))
// Decoder layer:  y → Add&Norm(y, MaskedSelfAttention(y))
//                   → Add&Norm(·, CrossAttention(·, encoder output))
//                   → Add&Norm(·, FeedForward(·))
// Add&Norm is post-norm by default, LayerNorm(x + Dropout(sublayer(x))), as in the 2017
// paper; with norm_first it is pre-norm, x + Dropout(sublayer(LayerNorm(x))), and each
// stack ends with one more LayerNorm (chapter 10 compares the two).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/attention.h"
#include "nn/decoding.h"
#include "nn/layers.h"

namespace qkv::nn {

// What every encoder and decoder layer is built from. Seq2SeqConfig below is these options plus
// what only the whole model has, so the layer fields are written once, here.
struct TransformerOptions {
  int64_t d_model = 64;
  int64_t heads = 4;
  int64_t d_ff = 256;
  float dropout = 0.1f;
  bool norm_first = false;  // false: post-norm (the paper); true: pre-norm
  Activation activation = Activation::ReLU;
  Init init = Init::Xavier;
};

// One residual sublayer with its norm: post-norm or pre-norm, by option.
class AddNorm : public Module {
 public:
  AddNorm(int64_t dim, float dropout, bool norm_first, uint64_t seed);
  // x + sublayer, normalised before (pre-norm) or after (post-norm). Post-norm runs
  // norm(x + dropout(sublayer(x))) as one op, dropout_add_layer_norm (chapter 14: fewer
  // passes over memory, one parallel region instead of three); fused = false runs the three
  // ops, with the same numbers, for a graph that shows them (chapter 11's figure).
  template <class F>
  Tensor forward(const Tensor& x, F sublayer) {
    if (norm_first) return add(x, drop->forward(sublayer(norm->forward(x))));
    if (!fused) return norm->forward(add(x, drop->forward(sublayer(x))));
    return dropout_add_layer_norm(sublayer(x), x, drop->p, drop->is_training(), drop->generator(),
                                  norm->weight, norm->bias, norm->eps);
  }
  std::shared_ptr<LayerNorm> norm;
  std::shared_ptr<Dropout> drop;
  bool norm_first;
  bool fused = true;
};

class EncoderLayer : public Module {
 public:
  EncoderLayer(const TransformerOptions& o, Generator& gen);
  // x [B, S, D], mask broadcastable to [B, H, S, S] (the source padding mask)
  Tensor forward(const Tensor& x, const Tensor& mask);
  std::shared_ptr<MultiHeadAttention> self_attn;
  std::shared_ptr<FeedForward> ffn;
  std::shared_ptr<AddNorm> add_norm1, add_norm2;
};

class DecoderLayer : public Module {
 public:
  DecoderLayer(const TransformerOptions& o, Generator& gen);
  // y [B, T, D], memory [B, S, D]; self_mask [.., T, T] (causal and target padding),
  // memory_mask [.., T, S] (source padding). With cross_weights, the cross-attention weights
  // [B, heads, T, S] are stored there.
  Tensor forward(const Tensor& y, const Tensor& memory, const Tensor& self_mask,
                 const Tensor& memory_mask, Tensor* cross_weights = nullptr);
  // One decoding step with the key/value cache (chapter 13): y [B, 1, D] is the newest
  // position only. Its self-attention key and value are appended to self_kv, and it attends
  // over all t rows there (no mask: the earlier positions are all it may see); memory is
  // projected into cross_kv at the first step, and only read after. Returns [B, 1, D], what
  // forward() gives for the last position. With cross_weights: [B, heads, 1, S].
  Tensor forward_step(const Tensor& y, const Tensor& memory, const Tensor& memory_mask,
                      KeyValues& self_kv, KeyValues& cross_kv, Tensor* cross_weights = nullptr);
  std::shared_ptr<MultiHeadAttention> self_attn, cross_attn;
  std::shared_ptr<FeedForward> ffn;
  std::shared_ptr<AddNorm> add_norm1, add_norm2, add_norm3;
};

class Encoder : public Module {
 public:
  Encoder(const TransformerOptions& o, int64_t num_layers, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& mask);
  std::vector<std::shared_ptr<EncoderLayer>> layers;
  std::shared_ptr<LayerNorm> final_norm;  // only with pre-norm
};

class Decoder : public Module {
 public:
  Decoder(const TransformerOptions& o, int64_t num_layers, Generator& gen);
  // With cross_weights: one [B, heads, T, S] tensor per layer, on request.
  Tensor forward(const Tensor& y, const Tensor& memory, const Tensor& self_mask,
                 const Tensor& memory_mask, std::vector<Tensor>* cross_weights = nullptr);
  // One cached decoding step through every layer (DecoderLayer::forward_step); self_kv and
  // cross_kv hold one entry per layer (created on the first step).
  Tensor forward_step(const Tensor& y, const Tensor& memory, const Tensor& memory_mask,
                      std::vector<KeyValues>& self_kv, std::vector<KeyValues>& cross_kv,
                      std::vector<Tensor>* cross_weights = nullptr);
  std::vector<std::shared_ptr<DecoderLayer>> layers;
  std::shared_ptr<LayerNorm> final_norm;
};

// The whole model: the layers' options (d_model, heads, d_ff, dropout, norm_first, activation,
// init: inherited from TransformerOptions, one source for both) plus vocabularies, depth,
// positions and embedding sharing. Encoder and Decoder are built from the config itself.
struct Seq2SeqConfig : TransformerOptions {
  int64_t src_vocab = 0, tgt_vocab = 0;
  int64_t encoder_layers = 2, decoder_layers = 2;
  int64_t max_len = 128;
  bool learned_positions = false;
  bool tie_output = true;         // output projection shares the target embedding matrix
  bool share_embeddings = false;  // source and target use one table (needs one vocabulary)
  int64_t pad_id = 0;

  // The number of parameters the model built from this config has, from the config alone
  // (tests hold it equal to num_parameters() of the built model), so that a reader can check
  // a file's tensors before it allocates a model; INT64_MAX if it is beyond 2^53.
  int64_t parameter_count() const;
};

// The config as "key value" lines (a checkpoint's "config" record, docs/12-training.md) and
// back (init is left out: it only says how weights start, and a checkpoint holds the weights);
// reading throws std::runtime_error naming a missing or malformed field, or a config that describes
// an impossible model.
std::string config_to_text(const Seq2SeqConfig& c);
Seq2SeqConfig config_from_text(const std::string& text);

// Embeddings (scaled by √d_model) + positions → encoder; target embeddings + positions →
// decoder over the encoder output → Linear to target-vocabulary logits.
class Seq2SeqTransformer : public Seq2SeqModel {
 public:
  Seq2SeqTransformer(const Seq2SeqConfig& config, Generator& gen);
  // src [B, S] ids, src_keep [B, S] (1 = real token)  →  memory [B, S, D]
  Tensor encode(const Tensor& src, const Tensor& src_keep);
  // tgt_in [B, T] ids (starting with <bos>), tgt_keep [B, T]  →  logits [B, T, tgt_vocab].
  // With cross_weights: every decoder layer's cross-attention [B, heads, T, S], on request.
  Tensor decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_keep,
                const Tensor& tgt_keep, std::vector<Tensor>* cross_weights = nullptr);
  Tensor forward(const Tensor& src, const Tensor& src_keep, const Tensor& tgt_in,
                 const Tensor& tgt_keep) {
    return decode(tgt_in, encode(src, src_keep), src_keep, tgt_keep);
  }
  // The decoding interface (nn/decoding.h). With the state's key/value cache (use_cache, the
  // default) a step runs the decoder on the newest position only; without it, over the whole
  // prefix fed so far, and keeps the last position's logits. Both give the same numbers
  // (tests/test_kv_cache.cpp). The step's cross-attention, on request, is the last decoder
  // layer's for the newest position, [B, heads, S]. Steps run without recording a graph.
  DecodeState start_decoding(const Tensor& src, const Tensor& src_keep) override;
  Tensor decode_step(DecodeState& state, const std::vector<TokenId>& next,
                     Tensor* cross_attention = nullptr) override;
  // Embeddings (scaled by √d_model) + positions [start, start + T) of ids [B, T] → [B, T, D].
  Tensor embed_target(const Tensor& ids, int64_t start = 0);
  Seq2SeqConfig config;
  std::shared_ptr<Embedding> src_embed, tgt_embed;
  std::shared_ptr<PositionalEncoding> positions;
  std::shared_ptr<Dropout> embed_drop;
  std::shared_ptr<Encoder> encoder;
  std::shared_ptr<Decoder> decoder;
  std::shared_ptr<Linear>
      output;  // the output layer; null when tie_output: logits = h·E_tgtᵀ + bias
  Tensor output_bias;
};

}  // namespace qkv::nn
