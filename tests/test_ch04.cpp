// Chapter 04: Linear, activations, Embedding, Dropout and initialisation.
#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/layers.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using namespace qkv::test;

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

TEST_CASE("Linear: gradcheck through the module on a 3-D input", "[ch04][linear][gradcheck]") {
  Generator gen(2);
  nn::Linear lin(4, 3, gen);
  Tensor x = Tensor::randn({2, 3, 4}, gen, 0, 1, true);
  check_module(lin, [&](const std::vector<Tensor>& v) { return lin.forward(v[0]); }, {x});
}

TEST_CASE("Init: PyTorch and Xavier bounds and the variance they give", "[ch04][init]") {
  Generator gen(3);
  nn::Linear pt(256, 128, gen, true, nn::Init::PyTorch);
  nn::Linear xa(256, 128, gen, true, nn::Init::Xavier);
  const float bpt = 1.f / 16.f, bxa = std::sqrt(6.f / 384.f);
  float mpt = 0, mxa = 0;
  for (int64_t i = 0; i < pt.weight.numel(); ++i) {
    mpt = std::fmax(mpt, std::fabs(pt.weight.data()[i]));
    mxa = std::fmax(mxa, std::fabs(xa.weight.data()[i]));
  }
  CHECK(mpt <= bpt);
  CHECK(mpt > 0.95f * bpt);
  CHECK(mxa <= bxa);
  CHECK(mxa > 0.95f * bxa);
  for (int64_t i = 0; i < xa.bias.numel(); ++i) CHECK(xa.bias.data()[i] == 0.f);
  // Xavier on a square layer keeps unit variance: Var(y) = fan_in·Var(W) = fan_in·a²/3 = 1.
  nn::Linear sq(256, 256, gen, false, nn::Init::Xavier);
  Tensor x = Tensor::randn({512, 256}, gen);
  Tensor y = sq.forward(x);
  double s2 = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s2 += static_cast<double>(y.data()[i]) * y.data()[i];
  CHECK(s2 / y.numel() == Approx(1.0).epsilon(0.05));
}

TEST_CASE("ReLU and exact GELU: values and derivatives", "[ch04][activation]") {
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
