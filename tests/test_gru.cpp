// Chapter 06: the GRU cell (PyTorch's equations) and the GRU unrolled over padded batches.
#include <cmath>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "nn/gru.h"
#include "tests/catch.h"

using namespace qkv;

namespace {
Tensor rnd(const Shape& s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Generator g(seed);
  return Tensor::uniform(s, g, lo, hi, true);
}
void check(const TensorFn& f, std::vector<Tensor> in) {
  GradcheckResult r = gradcheck(f, std::move(in));
  INFO(r.message);
  REQUIRE(r.ok);
}
// [B, T] keep mask from row lengths, by loops: GCC 12.2 -O2 -march=native (AVX-512)
// miscompiles some float literal lists such as {1, 1, 1, 1, 0, 0, 0, 0} (SLP vectoriser).
Tensor lengths_mask(const std::vector<int64_t>& lengths, int64_t T) {
  Tensor keep = Tensor::zeros({static_cast<int64_t>(lengths.size()), T});
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = 0; t < lengths[b]; ++t) keep.at({static_cast<int64_t>(b), t}) = 1.f;
  return keep;
}
double sig(double x) { return 1 / (1 + std::exp(-x)); }

// torch.nn.GRUCell's equations, one row, by plain loops in double.
std::vector<double> reference_cell(const nn::GRUCell& c, const float* x, const float* h) {
  const int64_t D = c.input_size, H = c.hidden_size;
  auto gate = [&](int64_t g, int64_t j, bool from_x) {
    const float* W = from_x ? c.weight_ih.data() : c.weight_hh.data();
    const float* b = from_x ? c.bias_ih.data() : c.bias_hh.data();
    const int64_t width = from_x ? D : H;
    const float* in = from_x ? x : h;
    double acc = b[g * H + j];
    for (int64_t i = 0; i < width; ++i) acc += W[(g * H + j) * width + i] * in[i];
    return acc;
  };
  std::vector<double> out(H);
  for (int64_t j = 0; j < H; ++j) {
    const double r = sig(gate(0, j, true) + gate(0, j, false));
    const double z = sig(gate(1, j, true) + gate(1, j, false));
    const double n = std::tanh(gate(2, j, true) + r * gate(2, j, false));
    out[j] = (1 - z) * n + z * h[j];
  }
  return out;
}
}  // namespace

TEST_CASE("GRUCell follows torch.nn.GRUCell's equations", "[ch06][gru]") {
  Generator gen(1);
  nn::GRUCell cell(5, 4, gen);
  CHECK(cell.weight_ih.shape() == Shape{12, 5});
  CHECK(cell.weight_hh.shape() == Shape{12, 4});
  CHECK(cell.num_parameters() == 12 * 5 + 12 * 4 + 12 + 12);
  Tensor x = rnd({3, 5}, 2, -2, 2), h = rnd({3, 4}, 3);
  Tensor out = cell.forward(x, h);
  REQUIRE(out.shape() == Shape{3, 4});
  double worst = 0;
  for (int64_t b = 0; b < 3; ++b) {
    auto want = reference_cell(cell, x.data() + b * 5, h.data() + b * 4);
    for (int64_t j = 0; j < 4; ++j) worst = std::max(worst, std::fabs(want[j] - out.at({b, j})));
  }
  CHECK(worst < 1e-6);
  CHECK_THROWS_AS(cell.forward(h, h), std::invalid_argument);
}

TEST_CASE("gradcheck: GRUCell, inputs and all four parameters", "[ch06][gru][gradcheck]") {
  Generator gen(4);
  nn::GRUCell cell(3, 4, gen);
  std::vector<Tensor> in = {rnd({2, 3}, 5), rnd({2, 4}, 6)};
  for (auto& p : cell.parameters()) in.push_back(p);
  check([&cell](auto& v) { return cell.forward(v[0], v[1]); }, in);
}

TEST_CASE("GRU: unrolled cell, padding keeps the state", "[ch06][gru]") {
  Generator gen(7);
  nn::GRU gru(3, 4, gen);
  Tensor x = rnd({2, 5, 3}, 8), h0 = rnd({2, 4}, 9);
  // Row 0 has 5 real tokens, row 1 only 2.
  Tensor keep = lengths_mask({5, 2}, 5);
  nn::GRUResult r = gru.forward(x, h0, keep);
  REQUIRE(r.outputs.shape() == Shape{2, 5, 4});
  REQUIRE(r.last.shape() == Shape{2, 4});
  // Step by step with the cell: the same numbers.
  Tensor h = h0;
  for (int64_t t = 0; t < 5; ++t) {
    h = gru.cell->forward(reshape(slice(x, 1, t, t + 1), {2, 3}), h);
    for (int64_t j = 0; j < 4; ++j)
      CHECK(r.outputs.at({0, t, j}) == Approx(h.at({0, j})).margin(1e-6));
  }
  // Row 1: its last state is the state after its 2nd token, whatever the padding holds.
  nn::GRUResult alone = gru.forward(slice(slice(x, 0, 1, 2), 1, 0, 2), slice(h0, 0, 1, 2));
  Tensor garbage = x.clone();
  for (int64_t t = 2; t < 5; ++t)
    for (int64_t c = 0; c < 3; ++c) garbage.at({1, t, c}) = 100.f * (c + 1);
  nn::GRUResult padded = gru.forward(garbage, h0, keep);
  for (int64_t j = 0; j < 4; ++j) {
    CHECK(r.last.at({1, j}) == Approx(alone.last.at({0, j})).margin(1e-6));
    CHECK(padded.last.at({1, j}) == r.last.at({1, j}));
    for (int64_t t = 2; t < 5; ++t) CHECK(r.outputs.at({1, t, j}) == r.outputs.at({1, 1, j}));
  }
  // No h0: zeros.
  nn::GRUResult z = gru.forward(x, Tensor::zeros({2, 4}));
  CHECK(gru.forward(x).last.to_vector() == z.last.to_vector());
  CHECK_THROWS_AS(gru.forward(x, h0, Tensor::ones({2, 4})), std::invalid_argument);
}

TEST_CASE("gradcheck: GRU over a padded batch, through outputs and last state",
          "[ch06][gru][gradcheck]") {
  Generator gen(10);
  nn::GRU gru(3, 4, gen);
  Tensor keep = lengths_mask({4, 1}, 4);
  std::vector<Tensor> in = {rnd({2, 4, 3}, 11), rnd({2, 4}, 12)};
  for (auto& p : gru.parameters()) in.push_back(p);
  check([&gru, keep](auto& v) { return gru.forward(v[0], v[1], keep).outputs; }, in);
  check([&gru, keep](auto& v) { return gru.forward(v[0], v[1], keep).last; }, in);
  // The padded inputs of row 1 (steps 1..3) get exactly zero gradient.
  Tensor x = rnd({2, 4, 3}, 13);
  sum(gru.forward(x, Tensor(), keep).outputs).backward();
  for (int64_t t = 1; t < 4; ++t)
    for (int64_t c = 0; c < 3; ++c) CHECK(x.grad().at({1, t, c}) == 0.f);
}
