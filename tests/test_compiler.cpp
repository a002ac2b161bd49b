// A guard against a compiler bug that would make other tests test the wrong thing.
//
// g++ 12.2 with -march=native on AVX-512 machines compiled the list below, inside a loop, to
// eight 1s: its SLP vectoriser broadcast the first value to the whole vector. Tests build
// padding and causal masks from such lists, so a wrong mask would silently pass as another
// test. The Makefile turns that pass off for g++; this test fails if the bug is back.
#include <catch2/catch.hpp>

#include <vector>

#include "autograd/tensor.h"

using namespace qkv;

namespace {
__attribute__((noinline)) std::vector<float> values_of(const Tensor& t) { return t.to_vector(); }
}  // namespace

TEST_CASE("constant float lists survive the compiler (g++ 12 SLP bug guard)", "[compiler]") {
  for (int round = 0; round < 2; ++round) {
    Tensor keep = Tensor::from_vector({1, 1, 1, 1, 1, 1, 0, 0}, {2, 4});
    REQUIRE(values_of(keep) == std::vector<float>{1, 1, 1, 1, 1, 1, 0, 0});
    Tensor half = Tensor::from_vector({1, 1, 1, 1, 0, 0, 0, 0}, {8});
    REQUIRE(values_of(half) == std::vector<float>{1, 1, 1, 1, 0, 0, 0, 0});
  }
}
