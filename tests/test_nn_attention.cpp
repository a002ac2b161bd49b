// nn/attention: scaled dot-product and multi-head attention: gradients with masks and
// mismatched lengths and widths, exact zeros for masked keys, the cost counted, blindness to
// order without positions, and the module against its per-head composition (chapters 07–09).
#include <cmath>

#include "autograd/counters.h"
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

TEST_CASE("cross-attention: n queries of width 8 over m keys of width 12", "[ch08][cross]") {
  Generator gen(1);
  MultiHeadAttention attn(MultiHeadAttentionOptions{8, 12, 2, 4}, gen);
  Tensor x = Tensor::randn({3, 4, 8}, gen, 0, 1, true),
         y = Tensor::randn({3, 5, 12}, gen, 0, 1, true);
  AttentionResult r = attn.forward_with_weights(x, y, y);
  const Tensor& out = r.output;
  CHECK(out.shape() == Shape{3, 4, 8});
  CHECK(r.weights.shape() == Shape{3, 2, 4, 5});
  CHECK(attn.w_k->weight.shape() == Shape{8, 12});
  for (int64_t i = 0; i < 3 * 2 * 4; ++i) {
    double s = 0;
    for (int64_t j = 0; j < 5; ++j) s += r.weights.data()[i * 5 + j];
    CHECK(s == Approx(1.0).margin(1e-6));
  }
  sum(out).backward();
  CHECK(x.grad().defined());
  CHECK(y.grad().defined());
  // Self-attention is the special case y = x: same module type, kv_dim = query_dim.
  MultiHeadAttention self_attn(8, 2, gen);
  CHECK(self_attn.forward_with_weights(x, x, x).weights.shape() == Shape{3, 2, 4, 4});
}

TEST_CASE(
    "masks: causal and key-padding combine (1 = may attend); masked keys get exactly zero "
    "weight; rows still sum to one",
    "[ch08][mask]") {
  Tensor keep = Tensor::from_vector({1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, {2, 5});
  Tensor mask = combine_masks(causal_mask(5), key_padding_mask(keep));  // [2, 1, 5, 5]
  REQUIRE(mask.shape() == Shape{2, 1, 5, 5});
  Generator gen(2);
  Tensor q = Tensor::randn({2, 1, 5, 4}, gen), k = Tensor::randn({2, 1, 5, 4}, gen, 0, 10),
         v = Tensor::randn({2, 1, 5, 4}, gen);
  AttentionResult r = scaled_dot_product_attention(q, k, v, mask);
  for (int64_t i = 0; i < mask.numel(); ++i)
    if (mask.data()[i] == 0.f) CHECK(r.weights.data()[i] == 0.f);
  for (int64_t row = 0; row < 10; ++row) {
    double s = 0;
    for (int64_t j = 0; j < 5; ++j) s += r.weights.data()[row * 5 + j];
    CHECK(s == Approx(1.0).margin(1e-6));
  }
  // The causal mask's polarity: 1 on and below the diagonal.
  Tensor c = causal_mask(3);
  CHECK(c.to_vector() == std::vector<float>{1, 0, 0, 1, 1, 0, 1, 1, 1});
}

TEST_CASE(
    "cost: the attention core is 2·n·m·d multiply-accumulates (n² for self-attention), the "
    "module adds its four projections",
    "[ch07][ch08][mac]") {
  Generator gen(5);
  auto core = [&](int64_t n, int64_t m, int64_t d) {
    Tensor q = Tensor::randn({1, n, d}, gen), k = Tensor::randn({1, m, d}, gen),
           v = Tensor::randn({1, m, d}, gen);
    NoGradGuard no_grad;
    reset_macs();
    scaled_dot_product_attention(q, k, v);
    return macs();
  };
  for (auto [n, m] : std::vector<std::pair<int64_t, int64_t>>{{8, 8}, {8, 32}, {32, 8}, {5, 7}})
    CHECK(core(n, m, 16) == 2 * n * m * 16);
  CHECK(core(64, 64, 16) == 2 * 64 * 64 * 16);
  CHECK(core(128, 128, 16) == 4 * core(64, 64, 16));  // self-attention: n doubles, ×4
  CHECK(core(64, 128, 16) == 2 * core(64, 64, 16));   // cross-attention: only m doubles, ×2
  CHECK(core(64, 200, 16) == 2 * 64 * 200 * 16);
  // The whole module: four projections plus the two products.
  MultiHeadAttention attn(MultiHeadAttentionOptions{8, 12, 2, 4}, gen);
  Tensor x = Tensor::randn({1, 4, 8}, gen), y = Tensor::randn({1, 5, 12}, gen);
  NoGradGuard no_grad;
  reset_macs();
  attn.forward(x, y, y);
  CHECK(macs() == 4 * 8 * 8 + 2 * 5 * 12 * 8 + 2 * 4 * 5 * 8 + 4 * 8 * 8);
}

namespace {
float row_delta(const Tensor& a, int64_t i, const Tensor& b, int64_t j, int64_t d) {
  float m = 0.f;
  for (int64_t c = 0; c < d; ++c)
    m = std::fmax(m, std::fabs(a.data()[i * d + c] - b.data()[j * d + c]));
  return m;
}
}  // namespace

TEST_CASE("permutation: attention alone is blind to order; with positions it is not",
          "[ch09][permutation]") {
  for (uint64_t seed : {1, 2, 3}) {
    Generator gen(seed);
    const int64_t d = 6;
    MultiHeadAttention attn(d, 2, gen);
    Tensor a = Tensor::randn({1, 3, d}, gen);
    Tensor swapped = index_select(a, 1, {0, 2, 1});
    Tensor pe = sinusoidal_positions(3, d);
    NoGradGuard no_grad;
    Tensor b1 = attn.forward(a, a, a), b2 = attn.forward(swapped, swapped, swapped);
    CHECK(row_delta(b1, 0, b2, 0, d) < 1e-6f);  // output 1 unchanged
    CHECK(row_delta(b1, 1, b2, 2, d) < 1e-6f);  // outputs 2 and 3 swap
    CHECK(row_delta(b1, 2, b2, 1, d) < 1e-6f);
    Tensor p1 = add(a, pe), p2 = add(swapped, pe);
    Tensor c1 = attn.forward(p1, p1, p1), c2 = attn.forward(p2, p2, p2);
    CHECK(row_delta(c1, 0, c2, 0, d) > 1e-3f);
    CHECK(row_delta(c1, 1, c2, 2, d) > 1e-3f);
    CHECK(row_delta(c1, 2, c2, 1, d) > 1e-3f);
  }
}
