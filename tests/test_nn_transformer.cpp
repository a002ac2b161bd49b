// nn/transformer: a small Transformer learns to copy random sequences (the floor:
// ≥ 99% token accuracy for length 8 over 10 symbols) with greedy decoding, deterministically;
// the decoder is causal; an encoder stack (chapter 15) is bidirectional or causal by its mask.
#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "nn/decoding.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;
using namespace qkv::nn;

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

TEST_CASE("decoder output at position t does not depend on target tokens after t",
          "[ch11][causal]") {
  Seq2SeqConfig c = test::tiny_config(12, 12);
  c.encoder_layers = c.decoder_layers = 2;
  Generator gen(3);
  Seq2SeqTransformer model(c, gen);
  model.eval();
  NoGradGuard no_grad;
  Tensor src = Tensor::from_vector({3, 4, 5}, {1, 3}), keep = Tensor::ones({1, 3});
  Tensor a =
      model.forward(src, keep, Tensor::from_vector({1, 6, 7, 8}, {1, 4}), Tensor::ones({1, 4}));
  Tensor b =
      model.forward(src, keep, Tensor::from_vector({1, 6, 9, 10}, {1, 4}), Tensor::ones({1, 4}));
  float before = 0.f, after = 0.f;
  for (int64_t i = 0; i < 2 * 12; ++i)
    before = std::fmax(before, std::fabs(a.data()[i] - b.data()[i]));
  for (int64_t i = 2 * 12; i < 4 * 12; ++i)
    after = std::fmax(after, std::fabs(a.data()[i] - b.data()[i]));
  CHECK(before == 0.f);
  CHECK(after > 1e-3f);
}

// Chapter 15 reuses the encoder blocks as a stack of its own.
TEST_CASE("one EncoderLayer stack: bidirectional without a mask, GPT-like with a causal mask",
          "[ch15][causal]") {
  TransformerOptions o;
  o.d_model = 16;
  o.heads = 2;
  o.d_ff = 32;
  o.dropout = 0.f;
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
