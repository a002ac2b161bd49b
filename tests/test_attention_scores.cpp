// Chapter 06: the attention scoring functions and the shared softmax-and-mix step.
// Gradients against finite differences with gradcheck's default float32 tolerances.
#include <cmath>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "nn/attention_scores.h"
#include "tests/catch.h"

using namespace qkv;
using nn::Score;

namespace {
Tensor rnd(const Shape& s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Generator g(seed);
  return Tensor::uniform(s, g, lo, hi, true);
}
// [B, m] keep mask from lengths, by loops: GCC 12.2 -O2 -march=native (AVX-512) miscompiles
// some float literal lists such as {1, 1, 1, 1, 1, 1, 0, 0} (its SLP vectoriser).
Tensor lengths_mask(const std::vector<int64_t>& lengths, int64_t m) {
  Tensor keep = Tensor::zeros({static_cast<int64_t>(lengths.size()), m});
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = 0; t < lengths[b]; ++t) keep.at({static_cast<int64_t>(b), t}) = 1.f;
  return keep;
}
void check(const TensorFn& f, std::vector<Tensor> in) {
  GradcheckResult r = gradcheck(f, std::move(in));
  INFO(r.message);
  REQUIRE(r.ok);
}
}  // namespace

TEST_CASE("dot, scaled dot and cosine scores: values", "[ch06][attention-scores]") {
  // q1 = (1, 2), q2 = (1, 1) against k1 = (1, 0), k2 = (0, 1): chapter 06's example.
  Tensor q = Tensor::from_vector({1, 2, 1, 1}, {2, 2}),
         k = Tensor::from_vector({1, 0, 0, 1}, {2, 2});
  Tensor dot = nn::attention_scores(q, k, Score::Dot);
  Tensor scaled = nn::attention_scores(q, k, Score::ScaledDot);
  Tensor cosine = nn::attention_scores(q, k, Score::Cosine);
  CHECK(dot.to_vector() == std::vector<float>{1, 2, 1, 1});
  CHECK(scaled.at({0, 0}) == Approx(1 / std::sqrt(2.0)).epsilon(1e-6));
  CHECK(scaled.at({0, 1}) == Approx(std::sqrt(2.0)).epsilon(1e-6));
  CHECK(cosine.at({0, 0}) == Approx(1 / std::sqrt(5.0)).epsilon(1e-6));
  CHECK(cosine.at({0, 1}) == Approx(2 / std::sqrt(5.0)).epsilon(1e-6));
  CHECK(cosine.at({1, 1}) == Approx(1 / std::sqrt(2.0)).epsilon(1e-6));
  // Cosine ignores length: scaling a query by 10 changes dot scores tenfold, cosine not at all.
  Tensor q10 = mul(q, 10.f);
  CHECK(nn::attention_scores(q10, k, Score::Dot).at({0, 1}) == Approx(20));
  CHECK(nn::attention_scores(q10, k, Score::Cosine).at({0, 1}) ==
        Approx(cosine.at({0, 1})).epsilon(1e-6));
  CHECK_THROWS_AS(nn::attention_scores(q, k, Score::Additive), std::invalid_argument);
  CHECK_THROWS_AS(nn::attention_scores(q, Tensor::zeros({2, 3}), Score::Dot),
                  std::invalid_argument);
}

TEST_CASE("gradcheck: dot, scaled dot and cosine scores, batched, n ≠ m",
          "[ch06][attention-scores][gradcheck]") {
  for (Score s : {Score::Dot, Score::ScaledDot, Score::Cosine}) {
    INFO(nn::score_name(s));
    check([s](auto& v) { return nn::attention_scores(v[0], v[1], s); },
          {rnd({2, 3, 4}, 1), rnd({2, 5, 4}, 2)});
  }
}

TEST_CASE("additive scores: Bahdanau's formula, query and key widths differ",
          "[ch06][attention-scores]") {
  Generator gen(3);
  nn::AdditiveAttention att(/*query_dim=*/4, /*key_dim=*/6, /*hidden=*/5, gen);
  Tensor q = rnd({2, 3, 4}, 4, -1, 1), k = rnd({2, 7, 6}, 5, -1, 1);
  Tensor s = att.scores(q, k);
  REQUIRE(s.shape() == Shape{2, 3, 7});
  // score(q, k) = vᵀ tanh(W_q q + W_k k + b), by plain loops in double.
  const float* Wq = att.w_q->weight.data();
  const float* Wk = att.w_k->weight.data();
  const float* b = att.w_k->bias.data();
  const float* v = att.v->weight.data();
  double worst = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 7; ++j) {
        double want = 0;
        for (int64_t h = 0; h < 5; ++h) {
          double pre = b[h];
          for (int64_t c = 0; c < 4; ++c) pre += Wq[h * 4 + c] * q.at({n, i, c});
          for (int64_t c = 0; c < 6; ++c) pre += Wk[h * 6 + c] * k.at({n, j, c});
          want += v[h] * std::tanh(pre);
        }
        worst = std::max(worst, std::fabs(want - s.at({n, i, j})));
      }
  CHECK(worst < 1e-5);
  CHECK_THROWS_AS(att.scores(k, k), std::invalid_argument);
}

TEST_CASE("gradcheck: additive attention, inputs and every weight",
          "[ch06][attention-scores][gradcheck]") {
  Generator gen(6);
  nn::AdditiveAttention att(4, 6, 5, gen);
  auto params = att.parameters();
  REQUIRE(params.size() == 4);  // w_q.weight, w_k.weight, w_k.bias, v.weight
  std::vector<Tensor> in = {rnd({2, 3, 4}, 7), rnd({2, 5, 6}, 8)};
  in.insert(in.end(), params.begin(), params.end());
  check([&att](auto& v) { return att.scores(v[0], v[1]); }, in);
  // And through softmax and the weighted sum of values, with a mask.
  Tensor values = rnd({2, 5, 3}, 9);
  Tensor mask = reshape(lengths_mask({3, 5}, 5), {2, 1, 5});
  in.push_back(values);
  check([&att, mask](auto& v) { return att.forward(v[0], v[1], v[6], mask).output; }, in);
}

TEST_CASE("attend: masked keys get weight 0 and their values cannot leak",
          "[ch06][attention-scores]") {
  Tensor scores = rnd({2, 3, 4}, 10, -2, 2);
  Tensor values = rnd({2, 4, 5}, 11);
  Tensor mask = reshape(lengths_mask({2, 3}, 4), {2, 1, 4});  // key padding
  nn::AttentionResult r = nn::attend(scores, values, mask);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 3; ++i) {
      double row = 0;
      for (int64_t j = 0; j < 4; ++j) {
        row += r.weights.at({b, i, j});
        if (mask.at({b, 0, j}) == 0.f) CHECK(r.weights.at({b, i, j}) == 0.f);
      }
      CHECK(row == Approx(1.0).epsilon(1e-6));
    }
  // Garbage in the masked values changes nothing.
  Tensor garbage = values.clone();
  for (int64_t c = 0; c < 5; ++c)
    garbage.at({0, 2, c}) = 1e6f, garbage.at({0, 3, c}) = -1e6f, garbage.at({1, 3, c}) = 1e6f;
  CHECK(nn::attend(scores, garbage, mask).output.to_vector() == r.output.to_vector());
  // Gradients, with the mask.
  check([mask](auto& v) { return nn::attend(v[0], v[1], mask).output; }, {scores, values});
}
