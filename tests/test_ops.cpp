// Forward values of the ops against numbers worked out by hand, their error messages, the
// MAC counter, and results that do not depend on the thread count (chapters 01, 02, 05).
// The gradients themselves are checked in test_gradcheck_ops.cpp.
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/counters.h"
#include "autograd/kernels/gemm.h"
#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "tests/catch.h"

using namespace qkv;

namespace {
Tensor T(const std::vector<float>& v, const Shape& s, bool rg = false) {
  return Tensor::from_vector(v, s, rg);
}
// Element-wise comparison with a relative tolerance, reporting the first mismatch.
void require_close(const Tensor& t, const std::vector<float>& expected, double eps = 1e-6) {
  const auto v = t.to_vector();
  REQUIRE(v.size() == expected.size());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("element " << i);
    REQUIRE(v[i] == Approx(expected[i]).epsilon(eps).margin(1e-7));
  }
}
bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}
}  // namespace

// --- element-wise ------------------------------------------------------------------------

TEST_CASE("ops: element-wise arithmetic with broadcasting", "[ch01][ops]") {
  Tensor m = T({1, 2, 3, 4, 5, 6}, {2, 3});
  require_close(m + T({10, 20, 30}, {3}), {11, 22, 33, 14, 25, 36});
  require_close(m - T({1, 2}, {2, 1}), {0, 1, 2, 2, 3, 4});
  require_close(m * T({2}, {1}), {2, 4, 6, 8, 10, 12});
  require_close(m / T({1, 2, 4}, {1, 3}), {1, 1, 0.75f, 4, 2.5f, 1.5f});
  Tensor outer = T({1, 2, 3}, {3, 1}) * T({1, 10}, {1, 2});
  REQUIRE(outer.shape() == Shape{3, 2});
  require_close(outer, {1, 10, 2, 20, 3, 30});
  // Rank grows on the left: [4] with [2, 1, 4] → [2, 1, 4]; [2, 1] with [3] → [2, 3].
  REQUIRE((T({1, 2, 3, 4}, {4}) + Tensor::zeros({2, 1, 4})).shape() == Shape{2, 1, 4});
  REQUIRE(broadcast_shapes({2, 1}, {3}, "t") == Shape{2, 3});
  REQUIRE(broadcast_shapes({2, 1, 4}, {3, 1}, "t") == Shape{2, 3, 4});  // the table in ch01
  REQUIRE(broadcast_shapes({3, 1}, {1, 4}, "t") == Shape{3, 4});
  REQUIRE(broadcast_shapes({}, {2, 2}, "t") == Shape{2, 2});
  require_close(m + 1.f, {2, 3, 4, 5, 6, 7});
  require_close(m - 1.f, {0, 1, 2, 3, 4, 5});
  require_close(2.f * m, {2, 4, 6, 8, 10, 12});
  require_close(m / 2.f, {0.5f, 1, 1.5f, 2, 2.5f, 3});
  require_close(-m, {-1, -2, -3, -4, -5, -6});
}

TEST_CASE("ops: sum_to undoes broadcasting", "[ch02][ops]") {
  Tensor g = T({1, 2, 3, 4, 5, 6}, {2, 3});
  require_close(sum_to(g, {3}), {5, 7, 9});
  require_close(sum_to(g, {2, 1}), {6, 15});
  require_close(sum_to(g, {1}), {21});
  require_close(sum_to(g, {2, 3}), {1, 2, 3, 4, 5, 6});
  REQUIRE_THROWS_WITH(sum_to(g, {4}), Catch::Contains("cannot reduce [2, 3] to [4]"));
}

TEST_CASE("ops: unary maps", "[ch02][ops]") {
  Tensor x = T({-2, -0.5f, 0, 0.5f, 2}, {5});
  require_close(exp(x), {std::exp(-2.f), std::exp(-0.5f), 1, std::exp(0.5f), std::exp(2.f)});
  require_close(tanh(x), {std::tanh(-2.f), std::tanh(-0.5f), 0, std::tanh(0.5f), std::tanh(2.f)});
  require_close(relu(x), {0, 0, 0, 0.5f, 2});
  // σ(x) = 1/(1+e^-x); GELU(x) = x·Φ(x): Φ(2) = 0.977249868, Φ(0.5) = 0.691462461.
  require_close(sigmoid(x), {0.119202922f, 0.377540669f, 0.5f, 0.622459331f, 0.880797078f}, 1e-5);
  require_close(gelu(x),
                {-2 * (1 - 0.977249868f), -0.5f * (1 - 0.691462461f), 0, 0.5f * 0.691462461f,
                 2 * 0.977249868f},
                1e-5);
  Tensor p = T({0.25f, 1, 4}, {3});
  require_close(log(p), {std::log(0.25f), 0, std::log(4.f)});
  require_close(sqrt(p), {0.5f, 1, 2});
  require_close(pow(p, 2.f), {0.0625f, 1, 16});
  require_close(pow(p, -0.5f), {2, 1, 0.5f});
  // The sigmoid of huge inputs saturates without overflow.
  require_close(sigmoid(T({-1e4f, 1e4f}, {2})), {0, 1});
}

// --- reductions and matmul ---------------------------------------------------------------

TEST_CASE("ops: sum, mean and max, over everything and over one axis", "[ch02][ops]") {
  Tensor x = T({1, 5, 3, 4, 2, 6}, {2, 3});
  REQUIRE(sum(x).shape() == Shape{});
  REQUIRE(sum(x).item() == 21.f);
  REQUIRE(mean(x).item() == 3.5f);
  require_close(sum(x, 0), {5, 7, 9});
  require_close(sum(x, 1), {9, 12});
  require_close(sum(x, -1), {9, 12});
  REQUIRE(sum(x, 1, true).shape() == Shape{2, 1});
  REQUIRE(sum(x, 0, false).shape() == Shape{3});
  require_close(mean(x, 0), {2.5f, 3.5f, 4.5f});
  require_close(mean(x, 1, true), {3, 4});
  require_close(max(x, 0), {4, 5, 6});
  require_close(max(x, 1), {5, 6});
  // Over the middle axis of a [2, 3, 2]: out[o, i] = Σ_k x[o, k, i].
  Tensor y = Tensor::arange(12);
  y = reshape(y, {2, 3, 2});
  require_close(sum(y, 1), {6, 9, 24, 27});
  require_close(max(y, 1, true), {4, 5, 10, 11});
  // The gradient of max goes to the first maximum only.
  Tensor tie = T({3, 3, 1}, {1, 3}, true);
  sum(max(tie, 1)).backward();
  require_close(tie.grad(), {1, 0, 0});
}

TEST_CASE("ops: matmul values, batched and broadcast", "[ch02][ops]") {
  Tensor a = T({1, 2, 3, 4}, {2, 2}), b = T({5, 6, 7, 8}, {2, 2});
  require_close(matmul(a, b), {19, 22, 43, 50});
  Tensor c = T({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor d = T({1, 0, 0, 1, 1, 1}, {3, 2});
  require_close(matmul(c, d), {4, 5, 10, 11});
  // [2, 2, 3] @ [3, 2]: each batch against the same right operand.
  Tensor e = reshape(Tensor::arange(12), {2, 2, 3});
  Tensor p = matmul(e, d);
  REQUIRE(p.shape() == Shape{2, 2, 2});
  require_close(p, {2, 3, 8, 9, 14, 15, 20, 21});
  // [2, 3] @ [2, 3, 2]: the left operand broadcast over the batch.
  Tensor f = concat({reshape(d, {1, 3, 2}), reshape(d * 2.f, {1, 3, 2})}, 0);
  require_close(matmul(c, f), {4, 5, 10, 11, 8, 10, 20, 22});
}

TEST_CASE("ops: the MAC counter counts matmul multiply-accumulates", "[ch02][ops][macs]") {
  reset_macs();
  REQUIRE(macs() == 0);
  Tensor a = Tensor::ones({2, 3, 4}), b = Tensor::ones({4, 5});
  Tensor c = matmul(a, b);
  REQUIRE(macs() == 2 * 3 * 5 * 4);
  matmul(Tensor::ones({6, 7}), Tensor::ones({7, 8}));
  REQUIRE(macs() == 2 * 3 * 5 * 4 + 6 * 8 * 7);
  // Element-wise ops and softmax are not counted (as in fvcore).
  softmax(c + c);
  REQUIRE(macs() == 2 * 3 * 5 * 4 + 6 * 8 * 7);
  reset_macs();
  REQUIRE(macs() == 0);
  // Backward products are not counted either: forward only.
  Tensor w = Tensor::ones({4, 5}, true);
  Tensor l = sum(matmul(a, w));
  REQUIRE(macs() == 2 * 3 * 5 * 4);
  l.backward();
  REQUIRE(macs() == 2 * 3 * 5 * 4);
  reset_macs();
}

// --- shape and indexing ------------------------------------------------------------------

TEST_CASE("ops: reshape, transpose, permute, concat, slice, split", "[ch01][ops]") {
  Tensor x = reshape(Tensor::arange(6), {2, 3});
  REQUIRE(reshape(x, {3, -1}).shape() == Shape{3, 2});
  require_close(transpose(x, 0, 1), {0, 3, 1, 4, 2, 5});
  require_close(transpose(x, -1, -2), {0, 3, 1, 4, 2, 5});
  Tensor y = reshape(Tensor::arange(24), {2, 3, 4});
  Tensor p = permute(y, {2, 0, 1});
  REQUIRE(p.shape() == Shape{4, 2, 3});
  REQUIRE(p.at({1, 1, 2}) == y.at({1, 2, 1}));
  REQUIRE(p.at({3, 0, 1}) == y.at({0, 1, 3}));
  require_close(concat({x, x * 10.f}, 0), {0, 1, 2, 3, 4, 5, 0, 10, 20, 30, 40, 50});
  require_close(concat({x, x * 10.f}, 1), {0, 1, 2, 0, 10, 20, 3, 4, 5, 30, 40, 50});
  require_close(slice(x, 1, 1, 3), {1, 2, 4, 5});
  require_close(slice(x, 0, 1, 2), {3, 4, 5});
  auto parts = split(x, 1, {1, 2});
  REQUIRE(parts.size() == 2);
  require_close(parts[0], {0, 3});
  require_close(parts[1], {1, 2, 4, 5});
}

TEST_CASE("ops: embedding, index_select, masked_fill", "[ch02][ops]") {
  Tensor table = T({0, 1, 10, 11, 20, 21}, {3, 2});
  Tensor e = embedding(table, T({2, 0, 2, 1}, {2, 2}));
  REQUIRE(e.shape() == Shape{2, 2, 2});
  require_close(e, {20, 21, 0, 1, 20, 21, 10, 11});
  Tensor x = reshape(Tensor::arange(6), {2, 3});
  require_close(index_select(x, 1, {2, 0}), {2, 0, 5, 3});
  require_close(masked_fill(x, T({1, 0, 0}, {3}), -1.f), {-1, 1, 2, -1, 4, 5});
  require_close(masked_fill(x, T({0, 1}, {2, 1}), -INFINITY),
                {0, 1, 2, -INFINITY, -INFINITY, -INFINITY});
}

// --- softmax, log-softmax, cross-entropy (chapter 05) ------------------------------------

TEST_CASE("ops: softmax and log_softmax values", "[ch05][ops]") {
  // softmax([1, 2, 3]) = e^i / (e + e² + e³)
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  Tensor x = T({1, 2, 3}, {3});
  require_close(softmax(x),
                {float(std::exp(1.0) / z), float(std::exp(2.0) / z), float(std::exp(3.0) / z)});
  require_close(log_softmax(x),
                {float(1 - std::log(z)), float(2 - std::log(z)), float(3 - std::log(z))});
  // Along axis 0 of a [2, 2]: each column sums to 1.
  Tensor m = T({0, 1, 0, 3}, {2, 2});
  const float s1 = float(1 / (1 + std::exp(2.0)));
  require_close(softmax(m, 0), {0.5f, s1, 0.5f, 1 - s1}, 1e-5);
  // Shift invariance: softmax(x + c) = softmax(x).
  require_close(softmax(x + 1000.f), softmax(x).to_vector(), 1e-5);
}

TEST_CASE("ops: softmax is stable for inputs of +-1e4", "[ch05][ops]") {
  Tensor big = T({1e4f, 0, -1e4f, 1e4f - 1, 1e4f, -1e4f}, {2, 3});
  Tensor s = softmax(big);
  REQUIRE(all_finite(s));
  require_close(s, {1, 0, 0, float(1 / (1 + std::exp(1.0))), float(1 / (1 + std::exp(-1.0))), 0});
  Tensor ls = log_softmax(big);
  REQUIRE(all_finite(ls));
  require_close(ls,
                {0, -1e4f, -2e4f, float(-1 - std::log1p(std::exp(-1.0))),
                 float(-std::log1p(std::exp(-1.0))), float(-2e4 - std::log1p(std::exp(-1.0)))},
                1e-3);  // floats near 1e4 are 0.001 apart: that is the rounding of lse
  Tensor neg = T({-1e4f, -1e4f}, {2});
  require_close(softmax(neg), {0.5f, 0.5f});
  require_close(log_softmax(neg), {float(-std::log(2.0)), float(-std::log(2.0))}, 1e-3);
  // The gradients are finite too.
  Tensor g = T({1e4f, 0, -1e4f}, {1, 3}, true);
  sum(log_softmax(g) * T({1, 2, 3}, {1, 3})).backward();
  REQUIRE(all_finite(g.grad()));
  require_close(g.grad(), {1 - 6, 2, 3});  // dy − softmax·Σdy with softmax = [1, 0, 0]
}

TEST_CASE("ops: a softmax row that is entirely -inf gives zeros", "[ch05][ops]") {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = T({-inf, -inf, -inf, 0, -inf, 0}, {2, 3}, true);
  Tensor s = softmax(x);
  require_close(s, {0, 0, 0, 0.5f, 0, 0.5f});
  sum(s * T({1, 2, 3, 4, 5, 6}, {2, 3})).backward();
  REQUIRE(all_finite(x.grad()));
  require_close(x.grad(), {0, 0, 0, -0.5f * 1, 0, 0.5f * 1});  // y(dy − ⟨dy, y⟩), ⟨dy, y⟩ = 5
}

TEST_CASE("ops: cross_entropy against a hand computation", "[ch05][ops][loss]") {
  const std::vector<float> v = {2.0f, 1.0f, 0.1f, 0.5f, 2.5f, 0.3f};
  Tensor logits = T(v, {2, 3}, true);
  Tensor targets = T({0, 1}, {2});
  auto lse = [&](int r) {
    double s = 0;
    for (int c = 0; c < 3; ++c) s += std::exp(double(v[r * 3 + c]));
    return std::log(s);
  };
  const double l0 = lse(0) - 2.0, l1 = lse(1) - 2.5;
  Tensor loss = cross_entropy(logits, targets);
  REQUIRE(loss.shape() == Shape{});
  REQUIRE(loss.item() == Approx((l0 + l1) / 2).epsilon(1e-6));
  loss.backward();
  // d/dx = (softmax − onehot) / N
  std::vector<float> expect(6);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c)
      expect[r * 3 + c] = float((std::exp(v[r * 3 + c] - lse(r)) - (c == (r == 0 ? 0 : 1))) / 2);
  require_close(logits.grad(), expect, 1e-5);

  SECTION("ignore_index: ignored rows neither count in the mean nor get gradient") {
    logits.zero_grad();
    Tensor l = cross_entropy(logits, T({-100, 1}, {2}));
    REQUIRE(l.item() == Approx(l1).epsilon(1e-6));
    l.backward();
    const auto g = logits.grad().to_vector();
    REQUIRE(g[0] == 0.f);
    REQUIRE(g[1] == 0.f);
    REQUIRE(g[2] == 0.f);
    REQUIRE(g[4] == Approx(std::exp(2.5 - lse(1)) - 1).epsilon(1e-5));  // not halved
    // A custom ignore index (the <pad> id), and every row ignored: loss 0, gradient 0.
    REQUIRE(cross_entropy(logits, T({0, 1}, {2}), 0).item() == Approx(l1).epsilon(1e-6));
    logits.zero_grad();
    Tensor none = cross_entropy(logits, T({0, 0}, {2}), 0);
    REQUIRE(none.item() == 0.f);
    none.backward();
    require_close(logits.grad(), {0, 0, 0, 0, 0, 0});
  }
  SECTION("label smoothing: the target is (1-eps)·onehot + eps/C") {
    const double eps = 0.1;
    auto smoothed = [&](int r, int t) {
      double l = 0;
      for (int c = 0; c < 3; ++c) {
        const double q = (c == t ? 1 - eps : 0) + eps / 3;
        l -= q * (v[r * 3 + c] - lse(r));
      }
      return l;
    };
    Tensor l = cross_entropy(logits, targets, -100, float(eps));
    REQUIRE(l.item() == Approx((smoothed(0, 0) + smoothed(1, 1)) / 2).epsilon(1e-5));
    logits.zero_grad();
    l.backward();
    std::vector<float> g(6);
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) {
        const double q = (c == r ? 1 - eps : 0) + eps / 3;
        g[r * 3 + c] = float((std::exp(v[r * 3 + c] - lse(r)) - q) / 2);
      }
    require_close(logits.grad(), g, 1e-5);
  }
}

TEST_CASE("ops: label smoothing never produces inf or NaN, even with extreme logits",
          "[ch05][ops][loss]") {
  Tensor x = T({1e4f, -1e4f, 0, -1e4f, 1e4f, 1e4f, 3e4f, -3e4f, 0}, {3, 3}, true);
  Tensor t = T({0, 0, 1}, {3});
  for (float eps : {0.f, 0.1f, 0.5f, 0.9f}) {
    x.zero_grad();
    Tensor l = cross_entropy(x, t, -100, eps);
    INFO("label_smoothing " << eps);
    REQUIRE(std::isfinite(l.item()));
    REQUIRE(l.item() >= 0.f);
    l.backward();
    REQUIRE(all_finite(x.grad()));
  }
  // Row 0 is confidently right: with eps = 0 its loss is 0 and so is its gradient.
  x.zero_grad();
  Tensor l0 = cross_entropy(slice(x.detach(), 0, 0, 1), T({0}, {1}));
  REQUIRE(l0.item() == 0.f);
}

TEST_CASE("ops: layer_norm forward values, as torch.nn.LayerNorm", "[ch10][ops]") {
  // x = [1, 2, 3, 4]: mean 2.5, biased variance 1.25; torch.nn.functional.layer_norm gives
  // [-1.3416, -0.4472, 0.4472, 1.3416].
  Tensor x = T({1, 2, 3, 4}, {1, 4});
  const double r = 1 / std::sqrt(1.25 + 1e-5);
  require_close(layer_norm(x, Tensor(), Tensor()),
                {float(-1.5 * r), float(-0.5 * r), float(0.5 * r), float(1.5 * r)}, 1e-5);
  CHECK(layer_norm(x, Tensor(), Tensor()).data()[0] == Approx(-1.3416355).margin(1e-5));
  Tensor w = T({1, 2, 1, 1}, {4}), b = T({0, 0, 0, 10}, {4});
  require_close(layer_norm(x, w, b),
                {float(-1.5 * r), float(-1.0 * r), float(0.5 * r), float(1.5 * r + 10)}, 1e-5);
  // A row of tiny variance shows where eps sits: x̂ = (x − μ)/√(σ² + eps), σ² = 2e-6.
  Tensor t = layer_norm(T({1, 1.002f, 0.998f, 1}, {1, 4}), Tensor(), Tensor(), 1e-5f);
  CHECK(t.data()[1] == Approx(0.002 / std::sqrt(2e-6 + 1e-5)).epsilon(1e-3));
}

TEST_CASE("ops: layer_norm backward, each row of dx sums to zero", "[ch10][ops]") {
  Generator gen(4);
  Tensor x = Tensor::randn({4, 8}, gen, 0, 1, true);
  sum(mul(layer_norm(x, Tensor(), Tensor(), 1e-5f), Tensor::randn({4, 8}, gen))).backward();
  for (int r = 0; r < 4; ++r) {
    double s = 0;
    for (int j = 0; j < 8; ++j) s += x.grad().data()[r * 8 + j];
    CHECK(std::fabs(s) < 1e-5);
  }
}

TEST_CASE("ops: ReLU and exact GELU, values and derivatives", "[ch04][ops]") {
  Tensor x = Tensor::from_vector({-2.f, -0.5f, 0.5f, 1.f, 2.f}, {5}, true);
  Tensor g = gelu(x);
  // torch.nn.GELU() (exact): gelu(1) = 0.8413447, gelu(-0.5) = -0.1542687, gelu(2) = 1.9544997
  CHECK(g.data()[3] == Approx(0.8413447).margin(1e-6));
  CHECK(g.data()[1] == Approx(-0.1542687).margin(1e-6));
  CHECK(g.data()[4] == Approx(1.9544997).margin(1e-6));
  sum(g).backward();
  for (int i = 0; i < 5; ++i) {
    const double v = x.data()[i];
    const double d = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) +
                     v * std::exp(-0.5 * v * v) / std::sqrt(2 * 3.14159265358979);
    CHECK(x.grad().data()[i] == Approx(d).margin(1e-6));
  }
  Tensor z = Tensor::from_vector({-1.f, 0.f, 2.f}, {3}, true);
  Tensor r = relu(z);
  sum(r).backward();
  CHECK(r.to_vector() == std::vector<float>{0.f, 0.f, 2.f});
  CHECK(z.grad().to_vector() == std::vector<float>{0.f, 0.f, 1.f});  // the kink at 0 is taken as 0
}

TEST_CASE("ops: dropout is the identity in eval mode or with p = 0", "[ch04][ops]") {
  Generator gen(1);
  Tensor x = T({1, 2, 3, 4}, {4});
  require_close(dropout(x, 0.5f, false, gen), {1, 2, 3, 4});
  require_close(dropout(x, 0.f, true, gen), {1, 2, 3, 4});
  Tensor big = Tensor::ones({10000});
  const auto v = dropout(big, 0.25f, true, gen).to_vector();
  int zeros = 0;
  for (float f : v) {
    REQUIRE((f == 0.f || f == Approx(1 / 0.75f)));
    zeros += f == 0.f;
  }
  REQUIRE(zeros > 2300);
  REQUIRE(zeros < 2700);
}

// --- error messages: the op and the shapes --------------------------------------------------

TEST_CASE("ops: errors name the op and the shapes", "[ch02][ops][errors]") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  REQUIRE_THROWS_AS(matmul(a, b), std::invalid_argument);
  REQUIRE_THROWS_WITH(matmul(a, b),
                      Catch::Contains("matmul: [2, 3] @ [4, 5]: inner dimensions 3 and 4 differ"));
  REQUIRE_THROWS_WITH(matmul(Tensor::zeros({3}), a), Catch::Contains("matmul: [3] @ [2, 3]") &&
                                                         Catch::Contains("at least 2 dimensions"));
  REQUIRE_THROWS_WITH(matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 4})),
                      Catch::Contains("matmul: [2, 2, 3] @ [3, 3, 4]") && Catch::Contains("batch"));
  REQUIRE_THROWS_WITH(add(a, b), Catch::Contains("add: shapes [2, 3] and [4, 5] cannot broadcast"));
  REQUIRE_THROWS_WITH(mul(a, Tensor::zeros({2})), Catch::Contains("mul: shapes [2, 3] and [2]"));
  REQUIRE_THROWS_WITH(sub(a, Tensor::zeros({3, 3})), Catch::Contains("sub:"));
  REQUIRE_THROWS_WITH(div(a, Tensor::zeros({2, 2})), Catch::Contains("div:"));
  REQUIRE_THROWS_WITH(reshape(a, {4, 2}),
                      Catch::Contains("reshape: [2, 3] (6 elements) cannot become [4, 2]"));
  REQUIRE_THROWS_WITH(reshape(a, {-1, -1}), Catch::Contains("reshape: more than one -1"));
  REQUIRE_THROWS_WITH(reshape(a, {4, -1}),
                      Catch::Contains("reshape: cannot infer -1 in [4, -1] for [2, 3]"));
  REQUIRE_THROWS_WITH(sum(a, 2),
                      Catch::Contains("sum: axis 2 is out of range for a tensor of rank 2"));
  REQUIRE_THROWS_WITH(softmax(a, -3), Catch::Contains("softmax: axis -3"));
  REQUIRE_THROWS_WITH(softmax(Tensor::scalar(1.f)),
                      Catch::Contains("softmax: needs at least one dimension"));
  REQUIRE_THROWS_WITH(transpose(a, 0, 5), Catch::Contains("transpose: axis 5"));
  REQUIRE_THROWS_WITH(permute(a, {0, 0}), Catch::Contains("permute: axis 0 repeated"));
  REQUIRE_THROWS_WITH(concat({a, b}, 0), Catch::Contains("concat: [4, 5] does not match [2, 3]"));
  REQUIRE_THROWS_WITH(slice(a, 1, 2, 5),
                      Catch::Contains("slice: range [2, 5) is outside axis 1 of [2, 3]"));
  REQUIRE_THROWS_WITH(split(a, 1, {1, 1}),
                      Catch::Contains("split: sizes add up to 2 but axis 1 of [2, 3] has 3"));
  REQUIRE_THROWS_WITH(embedding(a, Tensor::from_vector({0, 2}, {2})),
                      Catch::Contains("embedding: id 2") && Catch::Contains("not in [0, 2)"));
  REQUIRE_THROWS_WITH(embedding(Tensor::zeros({3}), Tensor::zeros({1})),
                      Catch::Contains("embedding: table must be [V, D], got [3]"));
  REQUIRE_THROWS_WITH(index_select(a, 0, {2}),
                      Catch::Contains("index_select: index 2 out of range for axis 0 of [2, 3]"));
  REQUIRE_THROWS_WITH(masked_fill(a, Tensor::zeros({2, 3, 1}), 0.f),
                      Catch::Contains("masked_fill:") && Catch::Contains("[2, 3, 1]"));
  REQUIRE_THROWS_WITH(
      layer_norm(a, Tensor::ones({2}), Tensor()),
      Catch::Contains("layer_norm: weight [2] does not match the last dimension of [2, 3]"));
}

TEST_CASE("ops: cross_entropy errors", "[ch05][ops][errors]") {
  Tensor logits = Tensor::zeros({2, 3});
  REQUIRE_THROWS_WITH(cross_entropy(Tensor::zeros({2, 3, 4}), Tensor::zeros({2})),
                      Catch::Contains("cross_entropy: logits must be [N, C], got [2, 3, 4]"));
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::zeros({3})),
                      Catch::Contains("cross_entropy: targets [3] do not match logits [2, 3]"));
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::from_vector({0, 3}, {2})),
                      Catch::Contains("cross_entropy: target 3") && Catch::Contains("row 1"));
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::from_vector({0.5f, 1}, {2})),
                      Catch::Contains("not a class id in [0, 3)"));
  REQUIRE_THROWS_WITH(cross_entropy(logits, Tensor::zeros({2}), -100, 1.f),
                      Catch::Contains("cross_entropy: label_smoothing must be in [0, 1)"));
}

// --- determinism across thread counts -------------------------------------------------------

namespace {
// A forward and backward through the ops that have OpenMP loops, at sizes big enough
// (> 2^15 elements) that the loops really are split across threads. Returns every value
// and every gradient.
std::vector<std::vector<float>> forward_backward_run() {
  Generator gen(42);
  Tensor x = Tensor::randn({128, 512}, gen, 0.f, 1.f, true);
  Tensor w = Tensor::randn({512, 512}, gen, 0.f, 0.05f, true);
  Tensor gamma = Tensor::uniform({512}, gen, 0.5f, 1.5f, true);
  Tensor beta = Tensor::uniform({512}, gen, -0.5f, 0.5f, true);
  Tensor table = Tensor::randn({1000, 512}, gen, 0.f, 1.f, true);
  std::vector<float> id_values(128);
  for (auto& v : id_values) v = static_cast<float>(gen.randint(1000));
  id_values[3] = id_values[7] = 5;  // a repeated id: two rows scatter-add into one
  Tensor ids = Tensor::from_vector(id_values, {128});
  std::vector<float> t_values(128);
  for (auto& v : t_values) v = static_cast<float>(gen.randint(512));
  t_values[0] = -100;
  Tensor targets = Tensor::from_vector(t_values, {128});

  Tensor h = matmul(x + embedding(table, ids), w);    // [128, 512]
  Tensor n = layer_norm(h, gamma, beta);              // [128, 512]
  Tensor p = softmax(n * 3.f, -1);                    // [128, 512]
  Tensor col = sum(p * n, 0);                         // [512]
  Tensor ce = cross_entropy(n, targets, -100, 0.1f);  // []
  Tensor loss = ce + mean(col * col) + sum(log_softmax(h, 0)) * 1e-6f;
  loss.backward();
  return {h.to_vector(),
          n.to_vector(),
          p.to_vector(),
          {loss.item()},
          x.grad().to_vector(),
          w.grad().to_vector(),
          gamma.grad().to_vector(),
          beta.grad().to_vector(),
          table.grad().to_vector()};
}
}  // namespace

TEST_CASE("ops: results are bit-for-bit the same on 1 and 2 threads", "[ch02][ops][determinism]") {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = forward_backward_run();
  omp_set_num_threads(2);
  const auto two = forward_backward_run();
  omp_set_num_threads(saved);
  REQUIRE(one.size() == two.size());
  for (size_t k = 0; k < one.size(); ++k) {
    INFO("result " << k);
    REQUIRE(one[k].size() == two[k].size());
    size_t differ = 0;
    for (size_t i = 0; i < one[k].size(); ++i) differ += one[k][i] != two[k][i];
    REQUIRE(differ == 0);
  }
  REQUIRE(std::isfinite(one[3][0]));
}

// linear's backward on two threads hands small products out whole, one per thread (dx to one,
// dW to the other: kOneProductEachMacs in ops_linear.cpp), larger ones in shares. Either way
// every gradient must be the bits one thread computes, also when x's gradient is added to (x
// feeds two layers). The counters say which way ran: shares of these shapes claim dx's rows
// and split dW's sum over k; whole products do neither.
// The first layer is linear_relu_dropout, whose backward computes dy in the region before the
// products (linear_backward's `before`, then a barrier); the second a plain linear.
TEST_CASE("linear backward: small products one per thread, the same bits as one thread",
          "[ch14][ops][determinism]") {
  struct Case {
    int64_t rows, in, out;
    bool whole;  // one product per thread on two threads
  };
  const Case cases[] = {{256, 64, 64, true}, {300, 48, 80, true}, {1100, 64, 64, false}};
  for (const Case& c : cases) {
    INFO("rows " << c.rows << ", in " << c.in << ", out " << c.out);
    auto run = [&](int threads, int64_t* claimed, int64_t* split) {
      Generator gen(7);
      Tensor x = Tensor::randn({c.rows, c.in}, gen, 0, 1, true);
      Tensor w1 = Tensor::randn({c.out, c.in}, gen, 0, 0.2f, true);
      Tensor b1 = Tensor::randn({c.out}, gen, 0, 0.2f, true);
      Tensor w2 = Tensor::randn({c.out, c.in}, gen, 0, 0.2f, true);
      Tensor r = Tensor::randn({c.rows, c.out}, gen);
      Generator drop(11);
      Tensor h = linear_relu_dropout(x, w1, b1, 0.25f, true, drop);
      Tensor loss = sum(mul(add(h, linear(x, w2, Tensor())), r));
      const int saved = omp_get_max_threads();
      omp_set_num_threads(threads);
      const int64_t claimed0 = kernels::gemm_products_claimed();
      const int64_t split0 = kernels::gemm_products_split_by_k();
      loss.backward();
      *claimed = kernels::gemm_products_claimed() - claimed0;
      *split = kernels::gemm_products_split_by_k() - split0;
      omp_set_num_threads(saved);
      return std::vector<std::vector<float>>{x.grad().to_vector(), w1.grad().to_vector(),
                                             b1.grad().to_vector(), w2.grad().to_vector()};
    };
    int64_t claimed1, split1, claimed2, split2;
    const auto one = run(1, &claimed1, &split1);
    const auto two = run(2, &claimed2, &split2);
    CHECK(claimed1 + split1 == 0);
    if (c.whole) {
      CHECK(claimed2 + split2 == 0);
    } else {
      CHECK(split2 > 0);
    }
    for (size_t k = 0; k < one.size(); ++k) {
      INFO("gradient " << k << " (x, w1, b1, w2)");
      REQUIRE(one[k].size() == two[k].size());
      size_t differ = 0;
      for (size_t i = 0; i < one[k].size(); ++i) differ += one[k][i] != two[k][i];
      CHECK(differ == 0);
    }
  }
}
