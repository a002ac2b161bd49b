// kernels::exp_fast against std::exp (chapter 14): the accuracy its header states.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "autograd/kernels/exp.h"

namespace {
// Floats as integers in order, so the difference of two is their distance in ulps.
int64_t ordered(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : i;
}
float from_ordered(int64_t o) {
  const int32_t i = o < 0 ? static_cast<int32_t>((-o) | 0x80000000) : static_cast<int32_t>(o);
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
}  // namespace

TEST_CASE("exp_fast is within 2 ulp of std::exp where both are normal floats", "[ch14][exp]") {
  // Every 61st float of [−87.3, 88.3], about 36 million of them, tiny ones near 0 included.
  int64_t worst = 0;
  float worst_x = 0;
  for (int64_t o = ordered(-87.3f), end = ordered(88.3f); o <= end; o += 61) {
    const float x = from_ordered(o);
    const int64_t d = std::llabs(ordered(qkv::kernels::exp_fast(x)) - ordered(std::exp(x)));
    if (d > worst) worst = d, worst_x = x;
  }
  INFO("worst: " << worst << " ulp at x = " << worst_x);
  REQUIRE(worst <= 2);
}

TEST_CASE("exp_fast at the edges", "[ch14][exp]") {
  using qkv::kernels::exp_fast;
  const float inf = std::numeric_limits<float>::infinity();
  REQUIRE(exp_fast(0.f) == 1.f);
  REQUIRE(exp_fast(-inf) == 0.f);  // a masked score gets exactly no weight
  REQUIRE(exp_fast(-88.f) == 0.f);
  REQUIRE(exp_fast(-1e30f) == 0.f);
  REQUIRE(exp_fast(inf) == inf);
  REQUIRE(exp_fast(88.5f) == inf);
  REQUIRE(std::isnan(exp_fast(std::numeric_limits<float>::quiet_NaN())));
  REQUIRE(exp_fast(88.3f) == Approx(std::exp(88.3f)).epsilon(1e-6));
  REQUIRE(std::isnormal(exp_fast(-87.3f)));
}
