#include "nn/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "autograd/engine.h"
#include "nn/state.h"

namespace qkv::nn {

namespace {
MultiHeadAttentionOptions mha_options(const TransformerOptions& o) {
  MultiHeadAttentionOptions m;
  m.query_dim = m.kv_dim = o.d_model;
  m.heads = o.heads;
  m.dropout = o.dropout;
  m.init = o.init;
  return m;
}
}  // namespace

AddNorm::AddNorm(int64_t dim, float p, bool nf, uint64_t seed) : norm_first(nf) {
  norm = register_module("norm", std::make_shared<LayerNorm>(dim));
  drop = register_module("dropout", std::make_shared<Dropout>(p, seed));
}

EncoderLayer::EncoderLayer(const TransformerOptions& o, Generator& gen) {
  self_attn =
      register_module("self_attn", std::make_shared<MultiHeadAttention>(mha_options(o), gen));
  ffn = register_module("ffn", std::make_shared<FeedForward>(o.d_model, o.d_ff, gen, o.activation,
                                                             o.dropout, o.init));
  add_norm1 = register_module(
      "add_norm1", std::make_shared<AddNorm>(o.d_model, o.dropout, o.norm_first, gen.next_u64()));
  add_norm2 = register_module(
      "add_norm2", std::make_shared<AddNorm>(o.d_model, o.dropout, o.norm_first, gen.next_u64()));
}

Tensor EncoderLayer::forward(const Tensor& x, const Tensor& mask) {
  Tensor h =
      add_norm1->forward(x, [&](const Tensor& t) { return self_attn->forward(t, t, t, mask); });
  return add_norm2->forward(h, [&](const Tensor& t) { return ffn->forward(t); });
}

DecoderLayer::DecoderLayer(const TransformerOptions& o, Generator& gen) {
  self_attn =
      register_module("self_attn", std::make_shared<MultiHeadAttention>(mha_options(o), gen));
  cross_attn =
      register_module("cross_attn", std::make_shared<MultiHeadAttention>(mha_options(o), gen));
  ffn = register_module("ffn", std::make_shared<FeedForward>(o.d_model, o.d_ff, gen, o.activation,
                                                             o.dropout, o.init));
  add_norm1 = register_module(
      "add_norm1", std::make_shared<AddNorm>(o.d_model, o.dropout, o.norm_first, gen.next_u64()));
  add_norm2 = register_module(
      "add_norm2", std::make_shared<AddNorm>(o.d_model, o.dropout, o.norm_first, gen.next_u64()));
  add_norm3 = register_module(
      "add_norm3", std::make_shared<AddNorm>(o.d_model, o.dropout, o.norm_first, gen.next_u64()));
}

Tensor DecoderLayer::forward(const Tensor& y, const Tensor& memory, const Tensor& self_mask,
                             const Tensor& memory_mask, Tensor* cross_weights) {
  // Masked self-attention: each target position sees itself and the positions before it.
  Tensor h = add_norm1->forward(
      y, [&](const Tensor& t) { return self_attn->forward(t, t, t, self_mask); });
  // Cross-attention: queries from the target, keys and values from the encoder output.
  h = add_norm2->forward(h, [&](const Tensor& t) {
    AttentionResult r = cross_attn->forward_with_weights(t, memory, memory, memory_mask);
    if (cross_weights) *cross_weights = r.weights;
    return r.output;
  });
  return add_norm3->forward(h, [&](const Tensor& t) { return ffn->forward(t); });
}

namespace {
// The cache's rows so far, then the new ones: [B, t, ·] and [B, 1, ·] → [B, t + 1, ·]. The copy
// of the t rows already there costs what the attention that reads them does, O(t) per step;
// the fused attention reads each row's keys as one contiguous [m, ·] block, which a buffer
// with room for max_len rows would not be.
Tensor append_rows(const Tensor& cache, const Tensor& rows) {
  return cache.defined() ? concat({cache, rows}, 1) : rows;
}
}  // namespace

Tensor DecoderLayer::forward_step(const Tensor& y, const Tensor& memory, const Tensor& memory_mask,
                                  KeyValues& self_kv, KeyValues& cross_kv, Tensor* cross_weights) {
  // Masked self-attention, cached: the new position's key and value join those of the earlier
  // positions, and its query attends over all of them (the causal mask's last row is all 1).
  Tensor h = add_norm1->forward(y, [&](const Tensor& t) {
    self_kv.k = append_rows(self_kv.k, self_attn->w_k->forward(t));
    self_kv.v = append_rows(self_kv.v, self_attn->w_v->forward(t));
    return self_attn->forward_projected(t, self_kv.k, self_kv.v).output;
  });
  // Cross-attention: the source's keys and values are the same at every step, projected once.
  h = add_norm2->forward(h, [&](const Tensor& t) {
    if (!cross_kv.k.defined()) {
      cross_kv.k = cross_attn->w_k->forward(memory);
      cross_kv.v = cross_attn->w_v->forward(memory);
    }
    AttentionResult r = cross_attn->forward_projected(t, cross_kv.k, cross_kv.v, memory_mask);
    if (cross_weights) *cross_weights = r.weights;
    return r.output;
  });
  return add_norm3->forward(h, [&](const Tensor& t) { return ffn->forward(t); });
}

Encoder::Encoder(const TransformerOptions& o, int64_t n, Generator& gen) {
  for (int64_t i = 0; i < n; ++i)
    layers.push_back(
        register_module("layers." + std::to_string(i), std::make_shared<EncoderLayer>(o, gen)));
  if (o.norm_first)
    final_norm = register_module("final_norm", std::make_shared<LayerNorm>(o.d_model));
}

Tensor Encoder::forward(const Tensor& x, const Tensor& mask) {
  Tensor h = x;
  for (auto& layer : layers) h = layer->forward(h, mask);
  return final_norm ? final_norm->forward(h) : h;
}

Decoder::Decoder(const TransformerOptions& o, int64_t n, Generator& gen) {
  for (int64_t i = 0; i < n; ++i)
    layers.push_back(
        register_module("layers." + std::to_string(i), std::make_shared<DecoderLayer>(o, gen)));
  if (o.norm_first)
    final_norm = register_module("final_norm", std::make_shared<LayerNorm>(o.d_model));
}

Tensor Decoder::forward(const Tensor& y, const Tensor& memory, const Tensor& self_mask,
                        const Tensor& memory_mask, std::vector<Tensor>* cross_weights) {
  Tensor h = y;
  if (cross_weights) cross_weights->assign(layers.size(), Tensor());
  for (size_t i = 0; i < layers.size(); ++i)
    h = layers[i]->forward(h, memory, self_mask, memory_mask,
                           cross_weights ? &(*cross_weights)[i] : nullptr);
  return final_norm ? final_norm->forward(h) : h;
}

Tensor Decoder::forward_step(const Tensor& y, const Tensor& memory, const Tensor& memory_mask,
                             std::vector<KeyValues>& self_kv, std::vector<KeyValues>& cross_kv,
                             std::vector<Tensor>* cross_weights) {
  self_kv.resize(layers.size());
  cross_kv.resize(layers.size());
  Tensor h = y;
  if (cross_weights) cross_weights->assign(layers.size(), Tensor());
  for (size_t i = 0; i < layers.size(); ++i)
    h = layers[i]->forward_step(h, memory, memory_mask, self_kv[i], cross_kv[i],
                                cross_weights ? &(*cross_weights)[i] : nullptr);
  return final_norm ? final_norm->forward(h) : h;
}

int64_t Seq2SeqConfig::parameter_count() const {
  // In double: a corrupt config may hold sizes whose product overflows int64.
  const double D = static_cast<double>(d_model), F = static_cast<double>(d_ff);
  const double attention = 4 * (D * D + D), ffn = D * F + F + F * D + D, norm = 2 * D;
  double n = static_cast<double>(src_vocab) * D;
  if (!share_embeddings) n += static_cast<double>(tgt_vocab) * D;
  if (learned_positions) n += static_cast<double>(max_len) * D;
  n += static_cast<double>(encoder_layers) * (attention + ffn + 2 * norm);
  n += static_cast<double>(decoder_layers) * (2 * attention + ffn + 3 * norm);
  if (norm_first) n += 2 * norm;  // each stack's final LayerNorm
  n += tie_output ? static_cast<double>(tgt_vocab)
                  : D * static_cast<double>(tgt_vocab) + static_cast<double>(tgt_vocab);
  return n > 0x1p53 ? INT64_MAX : static_cast<int64_t>(n);
}

Seq2SeqTransformer::Seq2SeqTransformer(const Seq2SeqConfig& c, Generator& gen) : config(c) {
  if (c.src_vocab <= 0 || c.tgt_vocab <= 0)
    throw std::invalid_argument("Seq2SeqTransformer: vocabulary sizes must be positive");
  if (c.share_embeddings && c.src_vocab != c.tgt_vocab)
    throw std::invalid_argument("Seq2SeqTransformer: share_embeddings needs one vocabulary (src " +
                                std::to_string(c.src_vocab) + " vs tgt " +
                                std::to_string(c.tgt_vocab) + ")");
  src_embed = register_module("src_embed",
                              std::make_shared<Embedding>(c.src_vocab, c.d_model, gen, c.pad_id));
  // Embeddings start Xavier-uniform as in the Annotated Transformer: with the √d_model
  // scale they then have roughly the same size as the positional encoding.
  auto xavier_embedding = [&](Embedding& e) {
    xavier_uniform_(e.weight, gen);
    if (c.pad_id < 0) return;  // no padding row (Embedding checked pad_id < its size)
    for (int64_t j = 0; j < c.d_model; ++j) e.weight.data()[c.pad_id * c.d_model + j] = 0.f;
  };
  xavier_embedding(*src_embed);
  if (c.share_embeddings) {
    tgt_embed = src_embed;
  } else {
    tgt_embed = register_module("tgt_embed",
                                std::make_shared<Embedding>(c.tgt_vocab, c.d_model, gen, c.pad_id));
    xavier_embedding(*tgt_embed);
  }
  positions = register_module("positions", std::make_shared<PositionalEncoding>(
                                               c.max_len, c.d_model, c.learned_positions, gen));
  embed_drop =
      register_module("embed_dropout", std::make_shared<Dropout>(c.dropout, gen.next_u64()));
  encoder = register_module("encoder", std::make_shared<Encoder>(c, c.encoder_layers, gen));
  decoder = register_module("decoder", std::make_shared<Decoder>(c, c.decoder_layers, gen));
  if (c.tie_output) {
    output_bias = register_parameter("output_bias", Tensor::zeros({c.tgt_vocab}));
  } else {
    output = register_module(
        "output", std::make_shared<Linear>(c.d_model, c.tgt_vocab, gen, true, Init::Xavier));
  }
}

Tensor Seq2SeqTransformer::encode(const Tensor& src, const Tensor& src_keep) {
  const float scale = std::sqrt(static_cast<float>(config.d_model));
  Tensor x = embed_drop->forward(positions->forward(mul(src_embed->forward(src), scale)));
  return encoder->forward(x, key_padding_mask(src_keep));
}

Tensor Seq2SeqTransformer::embed_target(const Tensor& ids, int64_t start) {
  const float scale = std::sqrt(static_cast<float>(config.d_model));
  return embed_drop->forward(positions->forward(mul(tgt_embed->forward(ids), scale), start));
}

Tensor Seq2SeqTransformer::decode(const Tensor& tgt_in, const Tensor& memory,
                                  const Tensor& src_keep, const Tensor& tgt_keep,
                                  std::vector<Tensor>* cross_weights) {
  const int64_t T = tgt_in.size(1);
  Tensor y = embed_target(tgt_in);
  // Target self-attention: causal AND not a padded key. [B, 1, T, T]
  Tensor self_mask = combine_masks(causal_mask(T), key_padding_mask(tgt_keep));
  Tensor h = decoder->forward(y, memory, self_mask, key_padding_mask(src_keep), cross_weights);
  return output ? output->forward(h) : linear(h, tgt_embed->weight, output_bias);
}

DecodeState Seq2SeqTransformer::start_decoding(const Tensor& src, const Tensor& src_keep) {
  DecodeState st;
  st.memory = encode(src, src_keep);
  st.memory_keep = src_keep;
  st.fed.assign(static_cast<size_t>(src.size(0)), {});
  return st;
}

Tensor Seq2SeqTransformer::decode_step(DecodeState& state, const std::vector<TokenId>& next,
                                       Tensor* cross_attention) {
  // Inference: no graph (with one, every cached key would keep all the steps before it alive).
  NoGradGuard no_grad;
  const int64_t B = state.batch();
  if (static_cast<int64_t>(next.size()) != B)
    throw std::invalid_argument("decode_step: " + std::to_string(next.size()) +
                                " next tokens for a batch of " + std::to_string(B));
  if (state.use_cache) {
    // Only the newest position: its id [B, 1] at position t, through each layer's cache.
    const int64_t t = static_cast<int64_t>(state.fed.empty() ? 0 : state.fed[0].size());
    Tensor ids = Tensor::empty({B, 1});
    for (int64_t b = 0; b < B; ++b) {
      ids.data()[b] = static_cast<float>(next[static_cast<size_t>(b)]);
      state.fed[static_cast<size_t>(b)].push_back(next[static_cast<size_t>(b)]);
    }
    std::vector<Tensor> weights;
    Tensor h = decoder->forward_step(embed_target(ids, t), state.memory,
                                     key_padding_mask(state.memory_keep), state.self_kv,
                                     state.cross_kv, cross_attention ? &weights : nullptr);
    h = reshape(h, {B, config.d_model});  // [B, D]
    if (cross_attention) {
      const Tensor& w = weights.back();  // [B, heads, 1, S]
      *cross_attention = reshape(w, {B, w.size(1), w.size(3)});
    }
    return output ? output->forward(h) : linear(h, tgt_embed->weight, output_bias);  // [B, V]
  }
  for (size_t b = 0; b < state.fed.size(); ++b) state.fed[b].push_back(next[b]);
  Tensor tgt, tgt_keep;
  pad_batch(state.fed, config.pad_id, tgt, tgt_keep);  // every row has the same length
  std::vector<Tensor> weights;
  Tensor logits = decode(tgt, state.memory, state.memory_keep, tgt_keep,
                         cross_attention ? &weights : nullptr);  // [B, T, V]
  const int64_t T = logits.size(1), V = logits.size(2);
  if (cross_attention) {
    const Tensor& w = weights.back();  // [B, heads, T, S]
    *cross_attention = reshape(slice(w, 2, T - 1, T), {B, w.size(1), w.size(3)});
  }
  return reshape(slice(logits, 1, T - 1, T), {B, V});
}

namespace {
std::string fmt_float(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

std::string config_to_text(const Seq2SeqConfig& c) {
  std::ostringstream o;
  o << "src_vocab " << c.src_vocab << "\ntgt_vocab " << c.tgt_vocab << "\nd_model " << c.d_model
    << "\nheads " << c.heads << "\nd_ff " << c.d_ff << "\nencoder_layers " << c.encoder_layers
    << "\ndecoder_layers " << c.decoder_layers << "\nmax_len " << c.max_len << "\ndropout "
    << fmt_float(c.dropout) << "\nnorm_first " << c.norm_first << "\nlearned_positions "
    << c.learned_positions << "\ntie_output " << c.tie_output << "\nshare_embeddings "
    << c.share_embeddings << "\nactivation " << (c.activation == Activation::GELU ? "gelu" : "relu")
    << "\npad_id " << c.pad_id << "\n";
  return o.str();
}

Seq2SeqConfig config_from_text(const std::string& text) {
  auto kv = key_values(text, "config");
  auto get = [&](const char* key) { return key_int(kv, key, "config"); };
  Seq2SeqConfig c;
  c.src_vocab = get("src_vocab");
  c.tgt_vocab = get("tgt_vocab");
  c.d_model = get("d_model");
  c.heads = get("heads");
  c.d_ff = get("d_ff");
  c.encoder_layers = get("encoder_layers");
  c.decoder_layers = get("decoder_layers");
  c.max_len = get("max_len");
  c.norm_first = get("norm_first") != 0;
  c.learned_positions = get("learned_positions") != 0;
  c.tie_output = get("tie_output") != 0;
  c.share_embeddings = get("share_embeddings") != 0;
  c.pad_id = get("pad_id");
  const std::string act = kv.count("activation") ? kv["activation"] : "";
  if (act != "relu" && act != "gelu")
    throw std::runtime_error("config 'activation' is '" + act + "'");
  c.activation = act == "gelu" ? Activation::GELU : Activation::ReLU;
  try {
    c.dropout = std::stof(kv.at("dropout"));
  } catch (const std::exception&) {
    throw std::runtime_error("config 'dropout' is missing or not a number");
  }
  // Every check the model's constructor needs, so that a damaged file gets an error, not a
  // crash (these came from fuzzing the checkpoint reader: tests/fuzz/fuzz_checkpoint.cpp).
  if (c.src_vocab <= 0 || c.tgt_vocab <= 0 || c.d_model <= 0 || c.heads <= 0 || c.d_ff <= 0 ||
      c.encoder_layers < 0 || c.decoder_layers < 0 || c.max_len <= 0 || c.d_model % c.heads != 0 ||
      !(c.dropout >= 0 && c.dropout < 1) || c.pad_id < 0 ||
      c.pad_id >= std::min(c.src_vocab, c.tgt_vocab) ||
      (c.share_embeddings && c.src_vocab != c.tgt_vocab))
    throw std::runtime_error("the config describes an impossible model:\n" + text);
  // The position table is max_len × d_model floats even when it is not stored.
  if (c.max_len > (int64_t{1} << 26) / c.d_model)
    throw std::runtime_error("the config's max_len " + std::to_string(c.max_len) + " × d_model " +
                             std::to_string(c.d_model) + " is more than 2^26 position values");
  return c;
}

}  // namespace qkv::nn
