// nn/transformer: a small Transformer learns to copy random sequences (the floor:
// ≥ 99% token accuracy for length 8 over 10 symbols) with greedy decoding, deterministically;
// layers pass gradcheck; the decoder is causal; padding changes nothing; Add&Norm post-norm
// or pre-norm; an encoder stack (chapter 15) is bidirectional or causal by its mask; the config
// counts its model's parameters before building it.
#include <cmath>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/decoding.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tests/catch.h"
#include "tests/fixtures.h"
#include "tests/helpers.h"

using namespace qkv;
using namespace qkv::nn;
using qkv::test::check_module;
using qkv::test::max_abs_diff;
using qkv::test::rnd;

TEST_CASE("a Transformer learns to copy length-8 sequences over 10 symbols", "[ch11][train]") {
  Generator gen(1);
  Seq2SeqConfig c = test::tiny_config(test::kFirstSymbol + 10, test::kFirstSymbol + 10);
  c.d_model = 32;
  c.heads = 4;
  c.d_ff = 64;
  c.max_len = 16;
  Seq2SeqTransformer model(c, gen);
  Adam opt(model.parameters(), 0.f, 0.9f, 0.98f, 1e-9f);
  const int64_t B = 32, L = 8;
  LoopOptions loop;
  loop.clip = 1.0;
  loop.lr = [&](int64_t step) { return noam_lr(step, c.d_model, 100, 2.f); };
  fit(
      opt, 900,
      [&](int64_t) {
        test::TaskBatch b = test::copy_batch(gen, B, L, 10);
        Tensor logits = model.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);
        return cross_entropy(reshape(logits, {-1, c.tgt_vocab}), b.tgt_out);
      },
      loop);
  Generator test_gen(99);
  const std::vector<std::vector<int64_t>> src = test::copy_batch(test_gen, 200, L, 10).sources;
  DecodeOptions o;
  o.max_len = 12;
  auto hyps = greedy_decode(model, src, o);
  int64_t right = 0;
  for (size_t i = 0; i < src.size(); ++i)
    for (int64_t t = 0; t < L; ++t)
      right += static_cast<int64_t>(hyps[i].tokens.size()) > t && hyps[i].tokens[t] == src[i][t];
  const double accuracy = static_cast<double>(right) / (200.0 * L);
  INFO("token accuracy " << accuracy);
  REQUIRE(accuracy >= 0.99);
  // Beam search with a beam of 1 is greedy search.
  o.beam = 1;
  for (int i = 0; i < 10; ++i) REQUIRE(beam_search(model, src[i], o).tokens == hyps[i].tokens);
  o.beam = 4;
  REQUIRE(beam_search(model, src[0], o).tokens == src[0]);
}

// Chapter 15 reuses the encoder blocks as a stack of its own.
TEST_CASE("one EncoderLayer stack: bidirectional without a mask, GPT-like with a causal mask",
          "[ch15][causal]") {
  const TransformerOptions o = test::tiny_config(1, 1);  // d_model 16, 2 heads, no dropout
  Generator gen(5);
  Encoder stack(o, 2, gen);
  Tensor x = Tensor::randn({1, 6, 16}, gen);
  Tensor y = x.clone();
  for (int64_t j = 0; j < 16; ++j) y.data()[3 * 16 + j] += 1.f;  // change token 3
  NoGradGuard no_grad;
  for (bool causal : {false, true}) {
    Tensor mask = causal ? causal_mask(6) : Tensor();
    Tensor a = stack.forward(x, mask), b = stack.forward(y, mask);
    for (int64_t t = 0; t < 6; ++t) {
      float d = 0.f;
      for (int64_t j = 0; j < 16; ++j)
        d = std::fmax(d, std::fabs(a.data()[t * 16 + j] - b.data()[t * 16 + j]));
      if (causal && t < 3)
        CHECK(d == 0.f);  // the past cannot see the future
      else
        CHECK(d > 1e-4f);  // everything else moves
    }
  }
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
    TransformerOptions o = test::tiny_config(1, 1);
    o.d_model = 6;  // finite differences over every weight: keep the layers narrow
    o.d_ff = 8;
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
          "[ch08][ch11][mask]") {
  SECTION("one decoder layer, garbage in the padded inputs") {
    Generator gen(4);
    DecoderLayer layer(test::tiny_config(1, 1), gen);
    layer.eval();
    const int64_t D = test::tiny_config(1, 1).d_model;
    Tensor y = Tensor::randn({1, 4, D}, gen), mem = Tensor::randn({1, 6, D}, gen);
    Tensor src_keep = Tensor::from_vector({1, 1, 1, 1, 0, 0}, {1, 6});
    Tensor tgt_keep = Tensor::from_vector({1, 1, 1, 0}, {1, 4});
    Tensor self_mask = combine_masks(causal_mask(4), key_padding_mask(tgt_keep));
    Tensor y2 = y.clone(), mem2 = mem.clone();
    for (int64_t i = 3 * D; i < 4 * D; ++i) y2.data()[i] = 1e3f * gen.normal();
    for (int64_t i = 4 * D; i < 6 * D; ++i) mem2.data()[i] = 1e3f * gen.normal();
    NoGradGuard no_grad;
    Tensor a = layer.forward(y, mem, self_mask, key_padding_mask(src_keep));
    Tensor b = layer.forward(y2, mem2, self_mask, key_padding_mask(src_keep));
    for (int64_t i = 0; i < 3 * D; ++i) REQUIRE(a.data()[i] == b.data()[i]);
  }
  SECTION("the whole model, other ids in the padded positions") {
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
}

TEST_CASE("AddNorm: post-norm is LayerNorm(x + f(x)), pre-norm is x + f(LayerNorm(x))",
          "[ch10][addnorm]") {
  Generator gen(5);
  Tensor x = Tensor::randn({2, 3, 8}, gen);
  nn::Linear f(8, 8, gen);
  auto sub = [&](const Tensor& t) { return f.forward(t); };
  nn::AddNorm post(8, 0.f, false, 1), pre(8, 0.f, true, 1);
  Tensor a = post.forward(x, sub), b = pre.forward(x, sub);
  CHECK(max_abs_diff(a, layer_norm(add(x, f.forward(x)), Tensor(), Tensor(), 1e-5f)) < 1e-6f);
  CHECK(max_abs_diff(b, add(x, f.forward(layer_norm(x, Tensor(), Tensor(), 1e-5f)))) < 1e-6f);
  // Post-norm output is normalised (mean 0 per row); pre-norm's residual stream is not.
  double m = 0;
  for (int j = 0; j < 8; ++j) m += a.data()[j];
  CHECK(std::fabs(m / 8) < 1e-5);
  // The default is post-norm, as in the paper.
  CHECK_FALSE(nn::TransformerOptions{}.norm_first);
  CHECK_FALSE(nn::Seq2SeqConfig{}.norm_first);
  // Pre-norm stacks end with one more LayerNorm; post-norm stacks do not need one.
  nn::TransformerOptions o = test::tiny_config(1, 1);
  nn::Encoder enc_post(o, 2, gen);
  o.norm_first = true;
  nn::Encoder enc_pre(o, 2, gen);
  CHECK(enc_post.final_norm == nullptr);
  CHECK(enc_pre.final_norm != nullptr);
}

TEST_CASE("Seq2SeqConfig::parameter_count is the built model's count", "[ch11]") {
  for (int variant = 0; variant < 5; ++variant) {
    nn::Seq2SeqConfig c;
    c.src_vocab = 11, c.tgt_vocab = variant == 3 ? 11 : 13, c.d_model = 8, c.heads = 2;
    c.d_ff = 12, c.encoder_layers = 2, c.decoder_layers = 1, c.max_len = 9;
    c.norm_first = variant == 1;
    c.tie_output = variant != 2;
    c.share_embeddings = variant == 3;
    c.learned_positions = variant == 4;
    Generator gen(1);
    nn::Seq2SeqTransformer model(c, gen);
    INFO("variant " << variant);
    CHECK(c.parameter_count() == model.num_parameters());
  }
  nn::Seq2SeqConfig huge;
  huge.src_vocab = huge.tgt_vocab = 1000, huge.d_model = int64_t{1} << 40;
  CHECK(huge.parameter_count() == INT64_MAX);  // no overflow into a small number
}
