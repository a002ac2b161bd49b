// Attention: gradients with masks and mismatched lengths and widths, exact zeros for
// masked keys, decoder causality, padding that changes nothing (chapters 06–08, 11).
#include <cmath>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "nn/attention.h"
#include "nn/transformer.h"
#include "tests/fixtures.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using namespace qkv::test;
using namespace qkv::nn;

TEST_CASE("MultiHeadAttention passes gradcheck: self, masked, n != m, query_dim != kv_dim",
          "[ch07][ch08][gradcheck]") {
  Generator gen(1);
  MultiHeadAttention self(6, 2, gen);
  Tensor x = rnd({2, 3, 6}, 2);
  check_module(self, [&](auto& v) { return self.forward(v[0], v[0], v[0]); }, {x});
  Tensor causal = causal_mask(3);
  check_module(self, [&](auto& v) { return self.forward(v[0], v[0], v[0], causal); }, {x});

  // Cross-attention: 3 queries of width 4 attend to 5 keys/values of width 7, with 3 heads
  // of width 2 (heads × head_dim = 6 ≠ query_dim), a padding mask, with and without W_O.
  for (bool out_proj : {true, false}) {
    MultiHeadAttentionOptions o;
    o.query_dim = 4;
    o.kv_dim = 7;
    o.heads = 3;
    o.head_dim = 2;
    o.out_proj = out_proj;
    MultiHeadAttention cross(o, gen);
    Tensor q = rnd({2, 3, 4}, 3), kv = rnd({2, 5, 7}, 4);
    Tensor keep = Tensor::from_vector({1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, {2, 5});
    Tensor mask = key_padding_mask(keep);
    Tensor out = cross.forward(q, kv, kv, mask);
    REQUIRE(out.shape() == Shape{2, 3, out_proj ? 4 : 6});
    REQUIRE(cross.last_weights.shape() == Shape{2, 3, 3, 5});
    check_module(cross, [&](auto& v) { return cross.forward(v[0], v[1], v[1], mask); }, {q, kv});
  }
}

TEST_CASE("masked keys get exactly zero weight; an all-masked row gives zeros, not NaN",
          "[ch08][attention]") {
  Tensor q = rnd({1, 3, 4}, 5), k = rnd({1, 4, 4}, 6), v = rnd({1, 4, 2}, 7);
  // Query 0 may see keys 0 and 2; query 1 all keys; query 2 none.
  Tensor mask = Tensor::from_vector({1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0}, {1, 3, 4});
  AttentionResult r = scaled_dot_product_attention(q, k, v, mask);
  const float* w = r.weights.data();
  REQUIRE(w[1] == 0.f);
  REQUIRE(w[3] == 0.f);
  REQUIRE(w[0] + w[2] == Approx(1.f).epsilon(1e-6));
  for (int j = 0; j < 4; ++j) REQUIRE(w[8 + j] == 0.f);
  for (float o : r.output.to_vector()) REQUIRE(std::isfinite(o));
  REQUIRE(r.output.at({0, 2, 0}) == 0.f);
  // And the gradient through the fully masked row is finite too.
  sum(r.output).backward();
  for (const Tensor& t : {q, k, v})
    for (float g : t.grad().to_vector()) REQUIRE(std::isfinite(g));
}

namespace {
Seq2SeqConfig small_config(bool norm_first) {
  Seq2SeqConfig c = test::tiny_config(9, 10);
  c.d_model = 8;
  c.d_ff = 16;
  c.encoder_layers = c.decoder_layers = 2;
  c.norm_first = norm_first;
  return c;
}
}  // namespace

TEST_CASE("encoder and decoder layers pass gradcheck, post-norm and pre-norm",
          "[ch10][ch11][gradcheck]") {
  for (bool nf : {false, true}) {
    TransformerOptions o;
    o.d_model = 6;
    o.heads = 2;
    o.d_ff = 8;
    o.dropout = 0.f;
    o.norm_first = nf;
    // GELU: smooth, so finite differences are valid everywhere (ReLU's kink is covered,
    // with inputs kept away from it, in the FeedForward test).
    o.activation = Activation::GELU;
    Generator gen(8);
    EncoderLayer enc(o, gen);
    Tensor x = rnd({2, 3, 6}, 9);
    Tensor keep = Tensor::from_vector({1, 1, 0, 1, 1, 1}, {2, 3});
    check_module(enc, [&](auto& v) { return enc.forward(v[0], key_padding_mask(keep)); }, {x});
    DecoderLayer dec(o, gen);
    Tensor y = rnd({2, 4, 6}, 10);
    check_module(
        dec,
        [&](auto& v) { return dec.forward(v[0], v[1], causal_mask(4), key_padding_mask(keep)); },
        {y, x});
  }
}

TEST_CASE("decoder causality: changing target token t+1 leaves outputs at positions <= t unchanged",
          "[ch08][ch11]") {
  for (bool nf : {false, true}) {
    Generator gen(11);
    Seq2SeqTransformer model(small_config(nf), gen);
    model.eval();
    NoGradGuard no_grad;
    Tensor src = Tensor::from_vector({3, 4, 5, 6}, {1, 4}), src_keep = Tensor::ones({1, 4});
    Tensor tgt = Tensor::from_vector({1, 4, 7, 8, 9}, {1, 5}), tgt_keep = Tensor::ones({1, 5});
    Tensor before = model.forward(src, src_keep, tgt, tgt_keep);
    for (int64_t t = 0; t + 1 < 5; ++t) {
      Tensor changed = tgt.clone();
      changed.data()[t + 1] = changed.data()[t + 1] == 3.f ? 5.f : 3.f;
      Tensor after = model.forward(src, src_keep, changed, tgt_keep);
      const int64_t V = 10;
      for (int64_t i = 0; i <= t; ++i)
        for (int64_t j = 0; j < V; ++j)
          REQUIRE(after.data()[i * V + j] == before.data()[i * V + j]);
      // …while the position that now sees the change does change.
      bool differs = false;
      for (int64_t j = 0; j < V; ++j)
        differs = differs || after.data()[(t + 1) * V + j] != before.data()[(t + 1) * V + j];
      REQUIRE(differs);
    }
  }
}

TEST_CASE("garbage in padded source and target positions changes nothing at real positions",
          "[ch08][ch11]") {
  Generator gen(12);
  Seq2SeqTransformer model(small_config(false), gen);
  model.eval();
  NoGradGuard no_grad;
  Tensor src_keep = Tensor::from_vector({1, 1, 1, 0, 0}, {1, 5});
  Tensor tgt_keep = Tensor::from_vector({1, 1, 1, 0}, {1, 4});
  Tensor a = model.forward(Tensor::from_vector({3, 4, 5, 0, 0}, {1, 5}), src_keep,
                           Tensor::from_vector({1, 6, 7, 0}, {1, 4}), tgt_keep);
  Tensor b = model.forward(Tensor::from_vector({3, 4, 5, 8, 2}, {1, 5}), src_keep,
                           Tensor::from_vector({1, 6, 7, 9}, {1, 4}), tgt_keep);
  for (int64_t i = 0; i < 3 * 10; ++i) REQUIRE(a.data()[i] == b.data()[i]);
}
