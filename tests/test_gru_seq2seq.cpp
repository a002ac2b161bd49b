// nn/gru_seq2seq: the pre-Transformer baseline (chapter 06): gradients reach every parameter,
// attention rows are distributions, and the GRU with additive attention learns to reverse.
#include <omp.h>

#include <chrono>
#include <cmath>

#include "autograd/gradcheck.h"
#include "nn/gru_seq2seq.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;

namespace {
// [B, T] keep mask from row lengths. Built by loops, not from a float literal list: GCC 12.2
// at -O2 -march=native (AVX-512) miscompiles some such lists, e.g. {1, 1, 1, 1, 1, 1, 0, 0}
// inside a loop comes out as eight 1s (its SLP vectoriser; -fno-tree-slp-vectorize avoids it).
Tensor lengths_mask(const std::vector<int64_t>& lengths, int64_t T) {
  Tensor keep = Tensor::zeros({static_cast<int64_t>(lengths.size()), T});
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = 0; t < lengths[b]; ++t) keep.at({static_cast<int64_t>(b), t}) = 1.f;
  return keep;
}
}  // namespace

TEST_CASE("GRU seq2seq: gradients reach every parameter; attention rows are distributions",
          "[ch06][gru-seq2seq]") {
  for (bool attention : {false, true}) {
    Generator gen(3);
    nn::GRUSeq2SeqConfig c = test::tiny_gru_config(8, 8);
    c.embed_dim = 4;
    c.hidden = 5;
    c.attention = attention;
    nn::GRUSeq2Seq model(c, gen);
    Tensor src = Tensor::from_vector({3, 4, 5, 6, 7, 3, 0, 0}, {2, 4});
    Tensor keep = lengths_mask({4, 2}, 4);
    Tensor tgt_in = Tensor::from_vector({1, 6, 5, 1, 3, 7}, {2, 3});
    Tensor weights;  // the attention of every step, on request
    Tensor logits = model.forward(src, keep, tgt_in, &weights);
    REQUIRE(logits.shape() == Shape{2, 3, 8});
    sum(mul(logits, logits)).backward();
    for (auto& [name, p] : model.named_parameters()) {
      INFO(name);
      REQUIRE(p.grad().defined());
      double norm = 0;
      for (float g : p.grad().to_vector()) norm += std::fabs(g);
      CHECK(norm > 0);  // every parameter, biases and embedding tables too, gets a gradient
    }
    CHECK((model.attention != nullptr) == attention);
    CHECK(weights.defined() == attention);
    if (attention) {
      REQUIRE(weights.shape() == Shape{2, 3, 4});
      for (int64_t t = 0; t < 3; ++t) {
        CHECK(weights.at({1, t, 2}) == 0.f);  // padding gets no weight
        CHECK(weights.at({1, t, 0}) + weights.at({1, t, 1}) == Approx(1.0));
      }
      // The whole model against finite differences, through the attention and both GRUs.
      std::vector<Tensor> in = {model.attention->w_q->weight, model.decoder->weight_hh,
                                model.encoder->cell->weight_ih, model.out->weight};
      GradcheckResult g = gradcheck([&](auto&) { return model.forward(src, keep, tgt_in); }, in);
      INFO(g.message);
      CHECK(g.ok);
    }
  }
}

TEST_CASE("the GRU + additive attention baseline learns to reverse length-8 sequences",
          "[ch06][reverse][train]") {
  // 10 symbols, length 8; Adam 3e-3, batches of 64; held-out sequences decoded greedily.
  // One thread: this model's ops are tiny, and on a busy machine two OpenMP threads waiting
  // on each other at every op's barrier cost far more than they save (measured 15× slower).
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const int64_t symbols = 10, len = 8;
  Generator init(1), data(2), test(3);
  // Wider than the fixture: it has to learn the task in 300 steps.
  nn::GRUSeq2SeqConfig c =
      test::tiny_gru_config(test::kFirstSymbol + symbols, test::kFirstSymbol + symbols);
  c.embed_dim = 32;
  c.hidden = 64;
  nn::GRUSeq2Seq model(c, init);
  nn::Adam opt(model.parameters(), 3e-3f);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t steps = 300;
  nn::LoopOptions loop;
  loop.clip = 1.0;
  const float loss_value =
      nn::fit(
          opt, steps,
          [&](int64_t) {
            test::TaskBatch b = test::reverse_batch(data, 64, len, symbols);
            Tensor logits = model.forward(b.src, b.src_keep, b.tgt_in);
            return cross_entropy(reshape(logits, {-1, c.tgt_vocab}), b.tgt_out, test::kPad);
          },
          loop)
          .loss;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  test::TaskBatch held_out = test::reverse_batch(test, 200, len, symbols);
  nn::DecodeOptions dec;
  dec.max_len = len + 2;
  auto hyps = nn::greedy_decode(model, held_out.sources, dec);
  int64_t correct = 0, exact = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    const std::vector<int64_t>& want = held_out.targets[i];
    for (int64_t t = 0; t < len; ++t)
      correct += t < (int64_t)hyps[i].tokens.size() && hyps[i].tokens[t] == want[t];
    exact += hyps[i].tokens == want;
  }
  const double acc = 100.0 * correct / (200 * len);
  WARN("reverse, length 8: token accuracy " << acc << "%, exact match " << exact / 2.0
                                            << "%, final loss " << loss_value << ", trained in "
                                            << seconds << " s");
  omp_set_num_threads(threads);
  CHECK(acc >= 95.0);
}
