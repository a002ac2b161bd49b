// nn/init: PyTorch's default and Xavier's bounds, and the variance they give (chapter 04).
#include <cmath>

#include "nn/layers.h"
#include "tests/catch.h"

using namespace qkv;

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
