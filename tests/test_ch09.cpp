// Chapter 09: positional encoding and the permutation experiment.
#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"
#include "nn/attention.h"
#include "nn/layers.h"
#include "tests/catch.h"

using namespace qkv;
using namespace qkv::nn;

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
