// Chapter 08: masks, self- versus cross-attention, sequences of other lengths and widths.
#include <cmath>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "nn/attention.h"
#include "nn/transformer.h"
#include "tests/catch.h"

using namespace qkv;
using namespace qkv::nn;

namespace {
float max_abs_diff(const Tensor& a, const Tensor& b, int64_t begin, int64_t end) {
  float m = 0.f;
  for (int64_t i = begin; i < end; ++i) m = std::fmax(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}
}  // namespace

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

// Seed 003: Diffusers' CrossAttention defaults, heads 8 and dim_head 64, no q/k/v bias; the
// widths are Stable Diffusion v1's (image features 320, CLIP text 768 × 77 tokens).
TEST_CASE("cross-attention with Diffusers' defaults: inner width 8·64, output as the query",
          "[ch08][cross]") {
  MultiHeadAttentionOptions o;
  o.query_dim = 320;
  o.kv_dim = 768;
  o.heads = 8;
  o.head_dim = 64;
  o.bias = false;
  Generator gen(14);
  MultiHeadAttention attn(o, gen);
  Tensor image = Tensor::randn({2, 64, 320}, gen), text = Tensor::randn({2, 77, 768}, gen);
  NoGradGuard no_grad;
  AttentionResult r = attn.forward_with_weights(image, text, text);
  CHECK(r.output.shape() == Shape{2, 64, 320});
  CHECK(r.weights.shape() == Shape{2, 8, 64, 77});
  CHECK(attn.w_q->weight.shape() == Shape{512, 320});
  CHECK(attn.w_k->weight.shape() == Shape{512, 768});
  CHECK(attn.w_v->weight.shape() == Shape{512, 768});
  CHECK(attn.w_o->weight.shape() == Shape{320, 512});
  CHECK(attn.num_parameters() == 320 * 512 + 2 * 768 * 512 + 512 * 320);
  CHECK(attn.num_parameters() == 1114112);
}

TEST_CASE("masks: masked keys get exactly zero weight; rows still sum to one", "[ch08][mask]") {
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

TEST_CASE("masks: a query whose keys are all masked gets zeros, never NaN, also in backward",
          "[ch08][mask]") {
  Tensor mask =
      combine_masks(causal_mask(3), key_padding_mask(Tensor::from_vector({0, 1, 1}, {1, 3})));
  Generator gen(3);
  Tensor q = Tensor::randn({1, 1, 3, 2}, gen, 0, 1, true),
         k = Tensor::randn({1, 1, 3, 2}, gen, 0, 1, true),
         v = Tensor::randn({1, 1, 3, 2}, gen, 0, 1, true);
  AttentionResult r = scaled_dot_product_attention(q, k, v, mask);
  for (int j = 0; j < 3; ++j) CHECK(r.weights.data()[j] == 0.f);
  for (int j = 0; j < 2; ++j) CHECK(r.output.data()[j] == 0.f);
  sum(r.output).backward();
  for (const Tensor* t : {&q, &k, &v})
    for (int64_t i = 0; i < t->numel(); ++i) CHECK(std::isfinite(t->grad().data()[i]));
}

TEST_CASE("masks: garbage in padded positions changes nothing at real positions", "[ch08][mask]") {
  Generator gen(4);
  TransformerOptions o;
  o.d_model = 8;
  o.heads = 2;
  o.d_ff = 16;
  o.dropout = 0.f;
  DecoderLayer layer(o, gen);
  layer.eval();
  Tensor y = Tensor::randn({1, 4, 8}, gen), mem = Tensor::randn({1, 6, 8}, gen);
  Tensor src_keep = Tensor::from_vector({1, 1, 1, 1, 0, 0}, {1, 6});
  Tensor tgt_keep = Tensor::from_vector({1, 1, 1, 0}, {1, 4});
  Tensor self_mask = combine_masks(causal_mask(4), key_padding_mask(tgt_keep));
  Tensor y2 = y.clone(), mem2 = mem.clone();
  for (int64_t i = 3 * 8; i < 4 * 8; ++i) y2.data()[i] = 1e3f * gen.normal();
  for (int64_t i = 4 * 8; i < 6 * 8; ++i) mem2.data()[i] = 1e3f * gen.normal();
  NoGradGuard no_grad;
  Tensor a = layer.forward(y, mem, self_mask, key_padding_mask(src_keep));
  Tensor b = layer.forward(y2, mem2, self_mask, key_padding_mask(src_keep));
  CHECK(max_abs_diff(a, b, 0, 3 * 8) == 0.f);
}

TEST_CASE("cost: cross-attention is n·m·d, self-attention n²·d (MAC counter)", "[ch08][cost]") {
  Generator gen(5);
  const int64_t d = 16;
  for (auto [n, m] : std::vector<std::pair<int64_t, int64_t>>{{8, 8}, {8, 32}, {32, 8}, {5, 7}}) {
    Tensor q = Tensor::randn({n, d}, gen), k = Tensor::randn({m, d}, gen),
           v = Tensor::randn({m, d}, gen);
    reset_macs();
    scaled_dot_product_attention(q, k, v);
    CHECK(macs() == 2 * n * m * d);
  }
  // The whole module: four projections plus the two products.
  MultiHeadAttention attn(MultiHeadAttentionOptions{8, 12, 2, 4}, gen);
  Tensor x = Tensor::randn({1, 4, 8}, gen), y = Tensor::randn({1, 5, 12}, gen);
  reset_macs();
  attn.forward(x, y, y);
  CHECK(macs() == 4 * 8 * 8 + 2 * 5 * 12 * 8 + 2 * 4 * 5 * 8 + 4 * 8 * 8);
}
