#include "nn/gru_seq2seq.h"

#include <algorithm>
#include <stdexcept>

#include "autograd/engine.h"

namespace qkv::nn {

GRUSeq2Seq::GRUSeq2Seq(const GRUSeq2SeqConfig& c, Generator& gen) : config(c) {
  if (c.src_vocab <= 0 || c.tgt_vocab <= 0)
    throw std::invalid_argument("GRUSeq2Seq: vocabulary sizes must be positive");
  const int64_t H = c.hidden, E = c.embed_dim;
  src_embed =
      register_module("src_embed", std::make_shared<Embedding>(c.src_vocab, E, gen, c.pad_id));
  tgt_embed =
      register_module("tgt_embed", std::make_shared<Embedding>(c.tgt_vocab, E, gen, c.pad_id));
  encoder = register_module("encoder", std::make_shared<GRU>(E, H, gen));
  decoder = register_module("decoder", std::make_shared<GRUCell>(E + H, H, gen));
  if (c.attention)
    attention = register_module("attention", std::make_shared<AdditiveAttention>(
                                                 H, H, c.attn_hidden > 0 ? c.attn_hidden : H, gen));
  out = register_module("out", std::make_shared<Linear>(2 * H, c.tgt_vocab, gen));
}

GRUSeq2Seq::Encoded GRUSeq2Seq::encode(const Tensor& src, const Tensor& src_keep) const {
  GRUResult r =
      encoder->forward(src_embed->forward(src), Tensor(), src_keep);  // [B, S, E] → [B, S, H]
  return {r.outputs, r.last, src_keep};
}

GRUSeq2Seq::Step GRUSeq2Seq::step(const Tensor& prev, const Tensor& state,
                                  const Encoded& enc) const {
  const int64_t B = state.size(0), H = config.hidden, S = enc.outputs.size(1);
  Tensor context, weights;
  if (attention) {
    // One query per row, the previous state: [B, 1, H] against the keys h_1..h_S [B, S, H].
    Tensor query = reshape(state, {B, 1, H});
    AttentionResult a =
        attention->forward(query, enc.outputs, enc.outputs, reshape(enc.keep, {B, 1, S}));
    context = reshape(a.output, {B, H});   // c_t = Σ_j α_tj h_j   [B, H]
    weights = reshape(a.weights, {B, S});  // α_t                  [B, S]
  } else {
    context = enc.final;  // c_t = C, the same at every step
  }
  Tensor x = concat({tgt_embed->forward(prev), context}, 1);  // [B, E + H]
  Tensor s = decoder->forward(x, state);                      // [B, H]
  Tensor logits = out->forward(concat({s, context}, 1));      // [B, V]
  return {logits, s, weights};
}

Tensor GRUSeq2Seq::forward(const Tensor& src, const Tensor& src_keep, const Tensor& tgt_in,
                           Tensor* attention_weights) {
  if (src.dim() != 2 || tgt_in.dim() != 2 || src_keep.shape() != src.shape() ||
      src.size(0) != tgt_in.size(0))
    throw std::invalid_argument("GRUSeq2Seq: src " + shape_str(src.shape()) + ", src_keep " +
                                shape_str(src_keep.shape()) + ", tgt_in " +
                                shape_str(tgt_in.shape()) + ": need [B, S], [B, S], [B, T]");
  const int64_t B = tgt_in.size(0), T = tgt_in.size(1), V = config.tgt_vocab;
  Encoded enc = encode(src, src_keep);
  Tensor state = enc.final;  // s_0 = C
  std::vector<Tensor> logits, weights;
  for (int64_t t = 0; t < T; ++t) {
    Tensor prev =
        reshape(slice(tgt_in, 1, t, t + 1), {B});  // the true previous token (teacher forcing)
    Step st = step(prev, state, enc);
    state = st.state;
    logits.push_back(reshape(st.logits, {B, 1, V}));
    if (st.weights.defined()) weights.push_back(reshape(st.weights.detach(), {B, 1, src.size(1)}));
  }
  if (attention_weights) *attention_weights = weights.empty() ? Tensor() : concat(weights, 1);
  return concat(logits, 1);  // [B, T, V]
}

DecodeState GRUSeq2Seq::start_decoding(const Tensor& src, const Tensor& src_keep) {
  Encoded enc = encode(src, src_keep);
  DecodeState st;
  st.memory = enc.outputs;
  st.memory_keep = enc.keep;
  st.context = enc.final;
  st.hidden = enc.final;  // s_0 = C
  st.fed.assign(static_cast<size_t>(src.size(0)), {});
  return st;
}

Tensor GRUSeq2Seq::decode_step(DecodeState& state, const std::vector<TokenId>& next,
                               Tensor* cross_attention) {
  const int64_t B = state.batch();
  Tensor prev = Tensor::empty({B});
  for (int64_t b = 0; b < B; ++b) {
    prev.data()[b] = static_cast<float>(next[static_cast<size_t>(b)]);
    state.fed[static_cast<size_t>(b)].push_back(next[static_cast<size_t>(b)]);
  }
  Step st = step(prev, state.hidden, Encoded{state.memory, state.context, state.memory_keep});
  state.hidden = st.state;
  if (cross_attention) *cross_attention = st.weights;  // [B, S]
  return st.logits;                                    // [B, V]
}

}  // namespace qkv::nn
