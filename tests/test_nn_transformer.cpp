// A small Transformer learns to copy random sequences (the floor: ≥ 99% token
// accuracy for length 8 over 10 symbols), with greedy decoding, deterministically.
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
