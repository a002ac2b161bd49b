#include <catch2/catch.hpp>

#include "autograd/tensor.h"

using namespace qkv;

TEST_CASE("factories fill the shape they are given", "[ch01][tensor]") {
  Tensor z = Tensor::zeros({2, 3});
  REQUIRE(z.shape() == Shape{2, 3});
  REQUIRE(z.numel() == 6);
  for (float v : z.to_vector()) REQUIRE(v == 0.f);
  Tensor f = Tensor::full({4}, 2.5f);
  for (float v : f.to_vector()) REQUIRE(v == 2.5f);
  Tensor a = Tensor::arange(5);
  REQUIRE(a.to_vector() == std::vector<float>{0, 1, 2, 3, 4});
  REQUIRE(Tensor::scalar(3.f).item() == 3.f);
  REQUIRE(Tensor::scalar(3.f).dim() == 0);
}
