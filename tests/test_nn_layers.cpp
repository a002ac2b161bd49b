// nn/layers: Linear, Embedding, Dropout, LayerNorm, FeedForward and the positional encodings
// (chapters 04, 09, 11): gradients against their formulas and finite differences.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/layers.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using namespace qkv::test;
using namespace qkv::nn;

TEST_CASE("Linear: autograd gives dx = dy·W, dW = dyᵀ·x, db = Σ dy", "[ch04][linear]") {
  Generator gen(1);
  nn::Linear lin(5, 3, gen);
  Tensor x = Tensor::randn({4, 5}, gen, 0, 1, true);
  Tensor dy = Tensor::randn({4, 3}, gen);
  Tensor y = lin.forward(x);
  // the forward against the definition
  Tensor ref = add(matmul(x.detach(), transpose(lin.weight.detach(), 0, 1)), lin.bias.detach());
  CHECK(max_abs_diff(y, ref) < 1e-6f);
  sum(mul(y, dy)).backward();
  CHECK(max_abs_diff(x.grad(), matmul(dy, lin.weight.detach())) < 1e-5f);
  CHECK(max_abs_diff(lin.weight.grad(), matmul(transpose(dy, 0, 1), x.detach())) < 1e-5f);
  CHECK(max_abs_diff(lin.bias.grad(), sum(dy, 0)) < 1e-5f);
}

TEST_CASE("Linear, Embedding, LayerNorm and FeedForward pass gradcheck",
          "[ch04][ch10][ch11][gradcheck]") {
  Generator gen(1);
  Linear lin(3, 4, gen);
  check_module(lin, [&](auto& v) { return lin.forward(v[0]); }, {rnd({2, 3}, 2)});
  Linear xav(3, 2, gen, false, Init::Xavier);
  check_module(xav, [&](auto& v) { return xav.forward(v[0]); }, {rnd({2, 2, 3}, 3)});
  Embedding emb(6, 3, gen, 0);
  Tensor ids = Tensor::from_vector({1, 5, 2, 1}, {2, 2});
  check_module(emb, [&](auto&) { return emb.forward(ids); }, {});
  LayerNorm ln(5);
  Generator g2(4);
  for (auto& p : ln.parameters())  // away from the trivial ones/zeros
    for (int64_t i = 0; i < p.numel(); ++i) p.data()[i] += g2.uniform(-0.5f, 0.5f);
  check_module(ln, [&](auto& v) { return ln.forward(v[0]); }, {rnd({3, 5}, 5, -2.f, 2.f)});
  for (Activation a : {Activation::ReLU, Activation::GELU}) {
    FeedForward ff(4, 6, gen, a);
    // Finite differences straddle ReLU's kink when a pre-activation lies within the step
    // (eps = 0.01) of 0, so for ReLU take the first input whose pre-activations all keep
    // a margin of 0.05, and say so if none does.
    Tensor x;
    float margin = 0.f;
    for (uint64_t seed = 6; seed < 200 && margin < 0.05f; ++seed) {
      x = rnd({2, 3, 4}, seed);
      margin = 1e9f;
      for (float h : ff.linear1->forward(x.detach()).to_vector())
        margin = std::min(margin, std::fabs(h));
      if (a == Activation::GELU) break;
    }
    if (a == Activation::ReLU) REQUIRE(margin >= 0.05f);
    check_module(ff, [&](auto& v) { return ff.forward(v[0]); }, {x});
  }
}

TEST_CASE("Embedding: a lookup is a one-hot matmul; scatter-add backward; pad row gets nothing",
          "[ch04][embedding]") {
  Generator gen(4);
  nn::Embedding emb(6, 4, gen, /*padding_idx=*/0);
  for (int j = 0; j < 4; ++j) CHECK(emb.weight.data()[j] == 0.f);
  Tensor ids = Tensor::from_vector({3, 5, 3, 0, 0, 1}, {2, 3});
  Tensor y = emb.forward(ids);
  REQUIRE(y.shape() == Shape{2, 3, 4});
  Tensor onehot = Tensor::zeros({6, 6});
  for (int i = 0; i < 6; ++i) onehot.data()[i * 6 + static_cast<int>(ids.data()[i])] = 1.f;
  CHECK(max_abs_diff(reshape(y, {6, 4}), matmul(onehot, emb.weight.detach())) == 0.f);
  Tensor dy = Tensor::randn({2, 3, 4}, gen);
  sum(mul(y, dy)).backward();
  Tensor dW = emb.weight.grad();
  for (int j = 0; j < 4; ++j) {
    CHECK(dW.data()[3 * 4 + j] ==
          Approx(dy.data()[0 * 4 + j] + dy.data()[2 * 4 + j]));  // used twice
    CHECK(dW.data()[5 * 4 + j] == dy.data()[1 * 4 + j]);
    CHECK(dW.data()[1 * 4 + j] == dy.data()[5 * 4 + j]);
    CHECK(dW.data()[0 * 4 + j] == 0.f);  // padding row, although used twice
    CHECK(dW.data()[2 * 4 + j] == 0.f);  // unused
    CHECK(dW.data()[4 * 4 + j] == 0.f);
  }
}

TEST_CASE("Dropout: inverted scaling in training, identity in evaluation", "[ch04][dropout]") {
  nn::Dropout drop(0.25f, 11);
  Tensor x = Tensor::ones({20000}, true);
  Tensor y = drop.forward(x);
  int64_t zeros = 0, other = 0;
  double total = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    const float v = y.data()[i];
    other += !(v == 0.f || std::fabs(v - 1.f / 0.75f) < 1e-6f);
    zeros += v == 0.f;
    total += v;
  }
  CHECK(other == 0);
  CHECK(zeros / 20000.0 == Approx(0.25).margin(0.02));
  CHECK(total / 20000.0 == Approx(1.0).margin(0.03));
  sum(y).backward();  // the gradient goes through the same mask
  CHECK(max_abs_diff(x.grad(), y) == 0.f);
  drop.eval();
  Tensor e = drop.forward(x);
  CHECK(max_abs_diff(e, x) == 0.f);
}

TEST_CASE("sinusoidal encoding: the paper's formula", "[ch09][sinusoidal]") {
  const int64_t d = 10;
  Tensor pe = sinusoidal_positions(50, d);
  for (int64_t pos : {0, 1, 7, 49})
    for (int64_t i = 0; 2 * i < d; ++i) {
      const double angle = pos / std::pow(10000.0, 2.0 * i / d);
      CHECK(pe.data()[pos * d + 2 * i] == Approx(std::sin(angle)).margin(1e-6));
      CHECK(pe.data()[pos * d + 2 * i + 1] == Approx(std::cos(angle)).margin(1e-6));
    }
  CHECK_FALSE(pe.requires_grad());
}

TEST_CASE("sinusoidal encoding: PE(pos + k) is a rotation of PE(pos), the same for every pos",
          "[ch09][sinusoidal]") {
  const int64_t d = 16, len = 600;
  Tensor pe = sinusoidal_positions(len, d);
  for (int64_t k : {1, 3, 40}) {
    float worst = 0.f;
    for (int64_t p = 0; p + k < len; ++p)
      for (int64_t i = 0; 2 * i < d; ++i) {
        const double w = 1.0 / std::pow(10000.0, 2.0 * i / d), c = std::cos(w * k),
                     s = std::sin(w * k);
        const double sp = pe.data()[p * d + 2 * i], cp = pe.data()[p * d + 2 * i + 1];
        worst = std::fmax(
            worst, std::fabs(static_cast<float>(c * sp + s * cp) - pe.data()[(p + k) * d + 2 * i]));
        worst = std::fmax(worst, std::fabs(static_cast<float>(-s * sp + c * cp) -
                                           pe.data()[(p + k) * d + 2 * i + 1]));
      }
    CHECK(worst < 1e-6f);
  }
}

TEST_CASE("learned positions: a trainable table that stops at max_len", "[ch09][learned]") {
  Generator gen(4);
  PositionalEncoding learned(8, 4, true, gen);
  REQUIRE(learned.num_parameters() == 32);
  Tensor x = Tensor::zeros({2, 5, 4}, true);
  sum(learned.forward(x)).backward();
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t j = 0; j < 4; ++j)
      CHECK(learned.table.grad().data()[r * 4 + j] == (r < 5 ? 2.f : 0.f));
  CHECK_THROWS_AS(learned.forward(Tensor::zeros({1, 9, 4})), std::invalid_argument);
  PositionalEncoding fixed(8, 4, false, gen);
  CHECK(fixed.num_parameters() == 0);
}

TEST_CASE("the feed-forward layer is a key-value memory with ReLU in place of softmax",
          "[ch11][ffn]") {
  Generator gen(2);
  FeedForward ffn(6, 20, gen);
  Tensor x = Tensor::randn({4, 6}, gen);
  NoGradGuard no_grad;
  Tensor y = ffn.forward(x);
  const Tensor &W1 = ffn.linear1->weight, &W2 = ffn.linear2->weight;
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < 6; ++j) {
      double acc = ffn.linear2->bias.data()[j];
      for (int i = 0; i < 20; ++i) {
        double s = ffn.linear1->bias.data()[i];
        for (int k = 0; k < 6; ++k) s += x.data()[r * 6 + k] * W1.data()[i * 6 + k];
        acc += (s > 0 ? s : 0) * W2.data()[j * 20 + i];
      }
      CHECK(y.data()[r * 6 + j] == Approx(acc).margin(1e-5));
    }
}
