#include <sstream>

#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "tests/catch.h"

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

TEST_CASE("a tensor is a handle: copies share the numbers", "[ch01][tensor]") {
  Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = a;  // the handle, not the data
  b.at({0, 0}) = 10.f;
  REQUIRE(a.at({0, 0}) == 10.f);
  REQUIRE(a.is_same(b));
  Tensor c = a.clone();  // a deep copy
  c.at({0, 0}) = -1.f;
  REQUIRE(a.at({0, 0}) == 10.f);
  REQUIRE(c.data() != a.data());
}

TEST_CASE("row-major layout: element [i, j, k] sits at (i·d1 + j)·d2 + k", "[ch01][tensor]") {
  Tensor t = Tensor::arange(24);
  Tensor r = reshape(t, {2, 3, 4});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        REQUIRE(r.at({i, j, k}) == static_cast<float>((i * 3 + j) * 4 + k));
  REQUIRE(r.size(0) == 2);
  REQUIRE(r.size(-1) == 4);
  REQUIRE(r.dim() == 3);
  REQUIRE_THROWS_WITH(r.size(3),
                      Catch::Contains("size: axis 3 is out of range for a tensor of rank 3"));
}

TEST_CASE("reshape is a view that shares storage; transpose is a copy", "[ch01][tensor]") {
  Tensor a = Tensor::from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor b = reshape(a, {3, 2});
  REQUIRE(b.data() == a.data());
  b.at({2, 1}) = 50.f;  // storage[5]
  REQUIRE(a.at({1, 2}) == 50.f);
  a.at({0, 1}) = 7.f;  // storage[1]
  REQUIRE(b.at({0, 1}) == 7.f);
  REQUIRE(reshape(a, {-1}).shape() == Shape{6});
  REQUIRE(reshape(a, {1, -1, 1}).shape() == Shape{1, 6, 1});
  Tensor t = transpose(a, 0, 1);
  REQUIRE(t.shape() == Shape{3, 2});
  REQUIRE(t.data() != a.data());
  REQUIRE(t.at({2, 1}) == 50.f);
  t.at({0, 0}) = -1.f;
  REQUIRE(a.at({0, 0}) == 0.f);
  // The gradient of a reshape flows back to the original shape.
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2}, true);
  sum(reshape(x, {4}) * Tensor::from_vector({1, 2, 3, 4}, {4})).backward();
  REQUIRE(x.grad().shape() == Shape{2, 2});
  REQUIRE(x.grad().to_vector() == std::vector<float>{1, 2, 3, 4});
}

TEST_CASE("element access and factories check their arguments", "[ch01][tensor]") {
  Tensor a = Tensor::zeros({2, 3});
  REQUIRE_THROWS_WITH(a.at({2, 0}),
                      Catch::Contains("at: index 2 out of range for axis 0 of shape [2, 3]"));
  REQUIRE_THROWS_WITH(a.at({0}), Catch::Contains("at: 1 indices for a tensor of shape [2, 3]"));
  REQUIRE_THROWS_WITH(a.item(),
                      Catch::Contains("item: tensor of shape [2, 3] has 6 elements, not 1"));
  REQUIRE_THROWS_WITH(
      Tensor::from_vector({1, 2, 3}, {2, 2}),
      Catch::Contains("from_vector: 3 values do not fill shape [2, 2] (4 elements)"));
  REQUIRE_THROWS_WITH(Tensor::zeros({2, -1}),
                      Catch::Contains("negative dimension in shape [2, -1]"));
  Tensor undefined;
  REQUIRE_FALSE(undefined.defined());
  REQUIRE_THROWS_WITH(undefined.shape(), Catch::Contains("undefined tensor"));
  // Empty tensors are allowed.
  Tensor e = Tensor::zeros({0, 3});
  REQUIRE(e.numel() == 0);
  REQUIRE(shape_str(e.shape()) == "[0, 3]");
  REQUIRE(shape_str({}) == "[]");
  REQUIRE(numel_of({}) == 1);
}

TEST_CASE("seeded random tensors are reproducible", "[ch01][tensor]") {
  Generator g1(5), g2(5), g3(6);
  const auto a = Tensor::randn({100}, g1).to_vector();
  REQUIRE(a == Tensor::randn({100}, g2).to_vector());
  REQUIRE(a != Tensor::randn({100}, g3).to_vector());
  for (float v : Tensor::uniform({1000}, g1, -2.f, 3.f).to_vector()) {
    REQUIRE(v >= -2.f);
    REQUIRE(v < 3.f);
  }
}

TEST_CASE("to_string prints values, shape and autograd state", "[ch01][tensor]") {
  REQUIRE(to_string(Tensor::from_vector({1, 2.5f, -3}, {3})) ==
          "tensor([1.0000, 2.5000, -3.0000], shape=[3])");
  REQUIRE(to_string(Tensor::from_vector({1, 2, 3, 4}, {2, 2}, true)) ==
          "tensor([[1.0000, 2.0000],\n"
          "        [3.0000, 4.0000]], shape=[2, 2], requires_grad=true)");
  REQUIRE(to_string(Tensor::scalar(3.14159f), 2) == "tensor(3.14, shape=[])");
  Tensor x = Tensor::from_vector({1, 2}, {2}, true);
  REQUIRE(to_string(x * 2.f) == "tensor([2.0000, 4.0000], shape=[2], grad_fn=mul_scalar)");
  REQUIRE(to_string(Tensor()) == "tensor(undefined)");
  REQUIRE(to_string(reshape(Tensor::arange(8), {2, 2, 2}), 0) ==
          "tensor([[[0, 1],\n"
          "         [2, 3]],\n"
          "        [[4, 5],\n"
          "         [6, 7]]], shape=[2, 2, 2])");
  std::ostringstream os;
  os << Tensor::from_vector({0.5f}, {1});
  REQUIRE(os.str() == "tensor([0.5000], shape=[1])");
  // Long tensors are elided in the middle.
  const std::string big = to_string(Tensor::arange(2000), 0);
  REQUIRE(big == "tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=[2000])");
}
