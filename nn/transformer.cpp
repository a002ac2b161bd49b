#include "nn/transformer.h"

#include <cmath>
#include <stdexcept>

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
                             const Tensor& memory_mask) {
  // Masked self-attention: each target position sees itself and the positions before it.
  Tensor h = add_norm1->forward(
      y, [&](const Tensor& t) { return self_attn->forward(t, t, t, self_mask); });
  // Cross-attention: queries from the target, keys and values from the encoder output.
  h = add_norm2->forward(
      h, [&](const Tensor& t) { return cross_attn->forward(t, memory, memory, memory_mask); });
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
                        const Tensor& memory_mask) {
  Tensor h = y;
  for (auto& layer : layers) h = layer->forward(h, memory, self_mask, memory_mask);
  return final_norm ? final_norm->forward(h) : h;
}

Seq2SeqTransformer::Seq2SeqTransformer(const Seq2SeqConfig& c, Generator& gen) : config(c) {
  if (c.src_vocab <= 0 || c.tgt_vocab <= 0)
    throw std::invalid_argument("Seq2SeqTransformer: vocabulary sizes must be positive");
  if (c.share_embeddings && c.src_vocab != c.tgt_vocab)
    throw std::invalid_argument("Seq2SeqTransformer: share_embeddings needs one vocabulary (src " +
                                std::to_string(c.src_vocab) + " vs tgt " +
                                std::to_string(c.tgt_vocab) + ")");
  TransformerOptions o;
  o.d_model = c.d_model;
  o.heads = c.heads;
  o.d_ff = c.d_ff;
  o.dropout = c.dropout;
  o.norm_first = c.norm_first;
  o.activation = c.activation;
  o.init = Init::Xavier;
  src_embed = register_module("src_embed",
                              std::make_shared<Embedding>(c.src_vocab, c.d_model, gen, c.pad_id));
  // Embeddings start Xavier-uniform as in the Annotated Transformer: with the √d_model
  // scale they then have roughly the same size as the positional encoding.
  auto xavier_embedding = [&](Embedding& e) {
    xavier_uniform_(e.weight, gen);
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
  encoder = register_module("encoder", std::make_shared<Encoder>(o, c.encoder_layers, gen));
  decoder = register_module("decoder", std::make_shared<Decoder>(o, c.decoder_layers, gen));
  if (c.tie_output) {
    output_bias = register_parameter("output_bias", Tensor::zeros({c.tgt_vocab}));
  } else {
    generator = register_module(
        "generator", std::make_shared<Linear>(c.d_model, c.tgt_vocab, gen, true, Init::Xavier));
  }
}

Tensor Seq2SeqTransformer::encode(const Tensor& src, const Tensor& src_keep) {
  const float scale = std::sqrt(static_cast<float>(config.d_model));
  Tensor x = embed_drop->forward(positions->forward(mul(src_embed->forward(src), scale)));
  return encoder->forward(x, key_padding_mask(src_keep));
}

Tensor Seq2SeqTransformer::decode(const Tensor& tgt_in, const Tensor& memory,
                                  const Tensor& src_keep, const Tensor& tgt_keep) {
  const float scale = std::sqrt(static_cast<float>(config.d_model));
  const int64_t T = tgt_in.size(1);
  Tensor y = embed_drop->forward(positions->forward(mul(tgt_embed->forward(tgt_in), scale)));
  // Target self-attention: causal AND not a padded key. [B, 1, T, T]
  Tensor self_mask = combine_masks(causal_mask(T), key_padding_mask(tgt_keep));
  Tensor h = decoder->forward(y, memory, self_mask, key_padding_mask(src_keep));
  return generator ? generator->forward(h) : linear(h, tgt_embed->weight, output_bias);
}

}  // namespace qkv::nn
