// Chapters 06 and 07: the worked example's published numbers, the GRU baseline learning to
// reverse sequences, and the published multiply-accumulate counts of one head against eight.
#include <omp.h>

#include <chrono>
#include <cmath>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "nn/attention_scores.h"
#include "nn/gru_seq2seq.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;

TEST_CASE("the two-token worked example: 0.71, 1.41, b1 = (0.33, 0.67), b2 = (0.5, 0.5)",
          "[ch06][worked-example]") {
  Tensor A = Tensor::from_vector({1, 1, 1, 0}, {2, 2});
  Tensor Wq = Tensor::from_vector({1, 1, 0, 1}, {2, 2});
  Tensor Winv = Tensor::from_vector({0, 1, 1, -1}, {2, 2});  // W_k = W_v = A⁻¹
  Tensor Q = matmul(A, Wq), K = matmul(A, Winv), V = matmul(A, Winv);
  CHECK(Q.to_vector() == std::vector<float>{1, 2, 1, 1});
  CHECK(K.to_vector() == std::vector<float>{1, 0, 0, 1});
  Tensor S = nn::attention_scores(Q, K, nn::Score::ScaledDot);
  CHECK(S.at({0, 0}) == Approx(0.71).margin(1e-2));
  CHECK(S.at({0, 1}) == Approx(1.41).margin(1e-2));
  CHECK(S.at({1, 0}) == Approx(0.71).margin(1e-2));
  CHECK(S.at({1, 1}) == Approx(0.71).margin(1e-2));
  nn::AttentionResult r = nn::attend(S, V);
  CHECK(r.output.at({0, 0}) == Approx(0.33).margin(1e-2));
  CHECK(r.output.at({0, 1}) == Approx(0.67).margin(1e-2));
  CHECK(r.output.at({1, 0}) == Approx(0.50).margin(1e-2));
  CHECK(r.output.at({1, 1}) == Approx(0.50).margin(1e-2));
  // The exact values behind the rounding: 1/(1 + e^{1/√2}) and its complement.
  CHECK(r.output.at({0, 0}) == Approx(1 / (1 + std::exp(1 / std::sqrt(2.0)))).epsilon(1e-6));
  // And the same through the library's scaled_dot_product_attention.
  CHECK(nn::scaled_dot_product_attention(Q, K, V).output.to_vector() == r.output.to_vector());
}

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
    nn::GRUSeq2SeqConfig c;
    c.src_vocab = c.tgt_vocab = 8;
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
  nn::GRUSeq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = test::kFirstSymbol + symbols;
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

namespace {
int64_t mha_macs(int64_t B, int64_t T, int64_t D, int64_t heads, bool out_proj) {
  Generator gen(1);
  nn::MultiHeadAttentionOptions o;
  o.query_dim = D;
  o.heads = heads;
  o.out_proj = out_proj;
  nn::MultiHeadAttention mha(o, gen);
  Tensor x = Tensor::randn({B, T, D}, gen);
  NoGradGuard no_grad;
  reset_macs();
  mha.forward(x, x, x);
  return macs();
}
// fvcore's count for timm's Attention: the qkv projection, q·kᵀ, attn·v, and proj if present.
int64_t formula(int64_t B, int64_t T, int64_t D, bool out_proj) {
  return 3 * B * T * D * D + 2 * B * T * T * D + (out_proj ? B * T * D * D : 0);
}
}  // namespace

TEST_CASE("the published counts: 60,129,542,144 and 68,719,476,736 multiply-accumulates",
          "[ch07][mac]") {
  // The formula at the published size x [32, 1024, 512] gives the published numbers…
  CHECK(formula(32, 1024, 512, false) == 60129542144LL);
  CHECK(formula(32, 1024, 512, true) == 68719476736LL);
  // …and the counter, on a real forward, follows the formula for 1 and 8 heads. Run at
  // x [2, 64, 512] here (the full size takes minutes on a busy 2-core machine, see
  // `build/ch07_head_cost`): same width, so the same per-token projection cost.
  for (int64_t heads : {1, 8})
    for (bool out_proj : {false, true}) {
      INFO(heads << " heads, W_O " << out_proj);
      CHECK(mha_macs(2, 64, 512, heads, out_proj) == formula(2, 64, 512, out_proj));
    }
  // The head count never changes the count: h heads of width D/h do h·(T²·D/h) = T²·D.
  CHECK(mha_macs(1, 32, 64, 1, false) == mha_macs(1, 32, 64, 16, false));
}

TEST_CASE("self-attention's core grows as n², cross-attention's as n·m", "[ch07][mac]") {
  auto core = [](int64_t n, int64_t m, int64_t d) {
    Generator g(2);
    Tensor q = Tensor::randn({1, n, d}, g), k = Tensor::randn({1, m, d}, g),
           v = Tensor::randn({1, m, d}, g);
    NoGradGuard no_grad;
    reset_macs();
    nn::scaled_dot_product_attention(q, k, v);
    return macs();
  };
  CHECK(core(64, 64, 16) == 2 * 64 * 64 * 16);
  CHECK(core(128, 128, 16) == 4 * core(64, 64, 16));
  CHECK(core(64, 128, 16) == 2 * core(64, 64, 16));
  CHECK(core(64, 200, 16) == 2 * 64 * 200 * 16);
}
