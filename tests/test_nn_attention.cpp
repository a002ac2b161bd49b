// Attention: gradients with masks and mismatched lengths and widths, exact zeros for
// masked keys, decoder causality, padding that changes nothing (chapters 06–08, 11).
#include <cmath>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "nn/attention.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"
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
    REQUIRE(cross.forward_with_weights(q, kv, kv, mask).weights.shape() == Shape{2, 3, 3, 5});
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

namespace {
// x [B, n, in] · Wᵀ + b, in double: a Linear computed without the library.
std::vector<double> project(const Tensor& x, const Linear& l) {
  const int64_t rows = x.numel() / l.in_features, in = l.in_features, out = l.out_features;
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = l.bias.defined() ? l.bias.data()[o] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        s += static_cast<double>(x.data()[r * in + i]) * l.weight.data()[o * in + i];
      y[static_cast<size_t>(r * out + o)] = s;
    }
  return y;
}
}  // namespace

TEST_CASE("MultiHeadAttention equals its per-head composition computed independently",
          "[ch07][attention]") {
  // Per head h: softmax(Q_h K_hᵀ / √d_h) V_h over the unmasked keys, heads concatenated, W_O.
  const int64_t B = 2, n = 4, m = 3, H = 3, hd = 2, qd = 6, kd = 5;
  Generator gen(21);
  MultiHeadAttentionOptions o;
  o.query_dim = qd;
  o.kv_dim = kd;
  o.heads = H;
  o.head_dim = hd;
  MultiHeadAttention mha(o, gen);
  Tensor x = Tensor::randn({B, n, qd}, gen), y = Tensor::randn({B, m, kd}, gen);
  Tensor keep = Tensor::from_vector({1, 1, 1, 1, 0, 1}, {B, m});  // row 1 masks key 1
  Tensor out = mha.forward(x, y, y, key_padding_mask(keep));
  const auto Q = project(x, *mha.w_q), K = project(y, *mha.w_k), V = project(y, *mha.w_v);
  std::vector<double> concat(static_cast<size_t>(B * n * H * hd));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> w(static_cast<size_t>(m), 0.0);
        double mx = -1e300, z = 0;
        for (int64_t j = 0; j < m; ++j) {
          if (keep.data()[b * m + j] == 0) continue;
          double s = 0;
          for (int64_t d = 0; d < hd; ++d)
            s += Q[static_cast<size_t>((b * n + i) * H * hd + h * hd + d)] *
                 K[static_cast<size_t>((b * m + j) * H * hd + h * hd + d)];
          w[static_cast<size_t>(j)] = s / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, w[static_cast<size_t>(j)]);
        }
        for (int64_t j = 0; j < m; ++j) {
          double& e = w[static_cast<size_t>(j)];
          e = keep.data()[b * m + j] == 0 ? 0.0 : std::exp(e - mx);
          z += e;
        }
        for (int64_t d = 0; d < hd; ++d) {
          double s = 0;
          for (int64_t j = 0; j < m; ++j)
            s += w[static_cast<size_t>(j)] / z *
                 V[static_cast<size_t>((b * m + j) * H * hd + h * hd + d)];
          concat[static_cast<size_t>((b * n + i) * H * hd + h * hd + d)] = s;
        }
      }
  Tensor c = Tensor::empty({B, n, H * hd});
  for (size_t i = 0; i < concat.size(); ++i) c.data()[i] = static_cast<float>(concat[i]);
  const auto want = project(c, *mha.w_o);
  REQUIRE(out.numel() == static_cast<int64_t>(want.size()));
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::fabs(out.data()[i] - want[i]));
  CHECK(worst < 1e-5);
}
