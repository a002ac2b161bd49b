// Every differentiable op against central finite differences (chapter 02's contract).
// Tolerances are per test and never loosened to go green; inputs keep away from kinks
// (ReLU at 0, ties in max) on purpose, since finite differences straddle them.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using namespace qkv::test;

namespace {
// Uniform values whose magnitude is at least `gap`, so no element sits near 0.
Tensor away_from_zero(const Shape& s, uint64_t seed, float gap = 0.1f) {
  Tensor t = rnd(s, seed);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float& v = t.data()[i];
    v = v < 0 ? v - gap : v + gap;
  }
  return t;
}
void check(const TensorFn& f, std::vector<Tensor> in, GradcheckOptions o = {}) {
  GradcheckResult r = gradcheck(f, std::move(in), o);
  INFO(r.message);
  REQUIRE(r.ok);
}
}  // namespace

TEST_CASE("gradcheck: add, sub, mul, div with broadcasting", "[ch02][gradcheck]") {
  for (auto shapes : std::vector<std::pair<Shape, Shape>>{
           {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1, 4}, {3, 1}}, {{1}, {2, 2}}, {{4, 1}, {1, 5}}}) {
    Tensor a = rnd(shapes.first, 1), b = away_from_zero(shapes.second, 2, 0.5f);
    check([](auto& v) { return add(v[0], v[1]); }, {a, b});
    check([](auto& v) { return sub(v[0], v[1]); }, {a, b});
    check([](auto& v) { return mul(v[0], v[1]); }, {a, b});
    check([](auto& v) { return div(v[0], v[1]); }, {a, b});
  }
}

TEST_CASE("gradcheck: unary maps", "[ch02][gradcheck]") {
  Tensor x = away_from_zero({3, 4}, 3);
  Tensor pos = rnd({3, 4}, 4, 0.5f, 2.f);
  check([](auto& v) { return neg(v[0]); }, {x});
  check([](auto& v) { return exp(v[0]); }, {x});
  check([](auto& v) { return log(v[0]); }, {pos});
  check([](auto& v) { return sqrt(v[0]); }, {pos});
  check([](auto& v) { return pow(v[0], 3.f); }, {x});
  check([](auto& v) { return pow(v[0], -1.5f); }, {pos});
  check([](auto& v) { return tanh(v[0]); }, {x});
  check([](auto& v) { return sigmoid(v[0]); }, {x});
  check([](auto& v) { return relu(v[0]); }, {x});
  check([](auto& v) { return gelu(v[0]); }, {x});
  check([](auto& v) { return add(v[0], 2.f) * 3.f; }, {x});
}

TEST_CASE("gradcheck: sum, mean, max over all and over an axis", "[ch02][gradcheck]") {
  Tensor x = rnd({2, 3, 4}, 5);
  check([](auto& v) { return sum(v[0]); }, {x});
  check([](auto& v) { return mean(v[0]); }, {x});
  for (int64_t axis : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      check([=](auto& v) { return sum(v[0], axis, keep); }, {x});
      check([=](auto& v) { return mean(v[0], axis, keep); }, {x});
      check([=](auto& v) { return max(v[0], axis, keep); }, {x});
    }
  Tensor one = rnd({3, 1}, 6);
  check([](auto& v) { return sum(v[0], 1, false); }, {one});
}

TEST_CASE("gradcheck: matmul 2-D, batched and broadcast", "[ch02][gradcheck]") {
  check([](auto& v) { return matmul(v[0], v[1]); }, {rnd({3, 4}, 7), rnd({4, 5}, 8)});
  check([](auto& v) { return matmul(v[0], v[1]); }, {rnd({2, 3, 4}, 9), rnd({2, 4, 2}, 10)});
  check([](auto& v) { return matmul(v[0], v[1]); }, {rnd({2, 3, 4}, 11), rnd({4, 2}, 12)});
  check([](auto& v) { return matmul(v[0], v[1]); }, {rnd({3, 4}, 13), rnd({2, 4, 2}, 14)});
  check([](auto& v) { return matmul(v[0], v[1]); }, {rnd({2, 2, 1, 3}, 15), rnd({2, 2, 3, 1}, 16)});
}

TEST_CASE("gradcheck: reshape, transpose, permute, concat, slice, split", "[ch01][gradcheck]") {
  Tensor x = rnd({2, 3, 4}, 17);
  check([](auto& v) { return reshape(v[0], {4, -1}); }, {x});
  check([](auto& v) { return transpose(v[0], 0, 2); }, {x});
  check([](auto& v) { return permute(v[0], {1, 2, 0}); }, {x});
  check([](auto& v) { return concat({v[0], v[1]}, 1); }, {x, rnd({2, 2, 4}, 18)});
  check([](auto& v) { return concat({v[0], v[1]}, -1); }, {x, rnd({2, 3, 1}, 19)});
  check([](auto& v) { return slice(v[0], 1, 1, 3); }, {x});
  check([](auto& v) { return split(v[0], 2, {1, 3})[1]; }, {x});
}

TEST_CASE("gradcheck: embedding, index_select, masked_fill", "[ch04][gradcheck]") {
  Tensor table = rnd({5, 3}, 20);
  Tensor ids = Tensor::from_vector({0, 2, 2, 4, 1, 0}, {2, 3});
  check([ids](auto& v) { return embedding(v[0], ids); }, {table});
  // With padding_idx the pad row is read but receives no gradient (so finite differences
  // would disagree there by design): every other row must match the unpadded gradient.
  Generator gen(3);
  Tensor r = Tensor::uniform({2, 3, 3}, gen, -1.f, 1.f);
  sum(mul(embedding(table, ids), r)).backward();
  const std::vector<float> full = table.grad().to_vector();
  table.zero_grad();
  sum(mul(embedding(table, ids, 2), r)).backward();
  const std::vector<float> padded = table.grad().to_vector();
  table.zero_grad();
  for (int64_t i = 0; i < 15; ++i) {
    if (i / 3 == 2)
      REQUIRE(padded[i] == 0.f);
    else
      REQUIRE(padded[i] == full[i]);
  }
  REQUIRE(full[6] != 0.f);  // the pad row was used, so without padding_idx it has a gradient
  check([](auto& v) { return index_select(v[0], 1, {2, 0, 2}); }, {rnd({2, 3, 2}, 21)});
  Tensor mask = Tensor::from_vector({0, 1, 0, 0, 1, 1}, {2, 1, 3});
  check([mask](auto& v) { return masked_fill(v[0], mask, -5.f); }, {rnd({2, 4, 3}, 22)});
}

TEST_CASE("gradcheck: softmax and log_softmax on every axis", "[ch05][gradcheck]") {
  Tensor x = rnd({2, 3, 4}, 23, -2.f, 2.f);
  for (int64_t axis : {-1, 0, 1}) {
    check([=](auto& v) { return softmax(v[0], axis); }, {x});
    check([=](auto& v) { return log_softmax(v[0], axis); }, {x});
  }
}

TEST_CASE("gradcheck: cross_entropy with ignore_index and label smoothing", "[ch05][gradcheck]") {
  Tensor logits = rnd({5, 4}, 24, -2.f, 2.f);
  Tensor targets = Tensor::from_vector({0, 3, -100, 1, 2}, {5});
  for (float eps : {0.f, 0.1f})
    check([=](auto& v) { return cross_entropy(v[0], targets, -100, eps); }, {logits});
  Tensor pad_targets = Tensor::from_vector({0, 3, 0, 1, 2}, {5});
  check([=](auto& v) { return cross_entropy(v[0], pad_targets, 0, 0.2f); }, {logits});
}

TEST_CASE("gradcheck: layer_norm with and without affine parameters", "[ch10][gradcheck]") {
  Tensor x = rnd({2, 3, 6}, 25, -2.f, 2.f);
  Tensor w = rnd({6}, 26, 0.5f, 1.5f), b = rnd({6}, 27);
  check([](auto& v) { return layer_norm(v[0], v[1], v[2]); }, {x, w, b});
  check([](auto& v) { return layer_norm(v[0], Tensor(), Tensor()); }, {x});
}

TEST_CASE("gradcheck: dropout with a fixed seed", "[ch04][gradcheck]") {
  Tensor x = rnd({4, 5}, 28);
  check(
      [](auto& v) {
        Generator g(7);
        return dropout(v[0], 0.3f, true, g);
      },
      {x});
}

TEST_CASE("gradcheck: linear with and without bias, 2-D and 3-D input", "[ch04][gradcheck]") {
  check([](auto& v) { return linear(v[0], v[1], v[2]); },
        {rnd({4, 3}, 29), rnd({5, 3}, 30), rnd({5}, 31)});
  check([](auto& v) { return linear(v[0], v[1]); }, {rnd({2, 3, 3}, 32), rnd({2, 3}, 33)});
}

TEST_CASE("gradcheck: fused bias + ReLU / GELU", "[ch04][gradcheck]") {
  // Pre-activations kept at least 0.1 from ReLU's kink: x away from 0 and a small bias.
  Tensor x = away_from_zero({3, 4}, 34, 0.3f), b = rnd({4}, 35, -0.2f, 0.2f);
  check([](auto& v) { return bias_relu(v[0], v[1]); }, {x, b});
  check([](auto& v) { return bias_gelu(v[0], v[1]); }, {x, b});
}
