// Dropout: the mask depends on the seed only, never on the thread count (chapter 04).
#include <omp.h>

#include "autograd/ops.h"
#include "tests/catch.h"

using namespace qkv;

TEST_CASE("dropout: same mask on 1 and 2 threads, the right fraction dropped, survivors scaled",
          "[ch04][dropout]") {
  const int64_t n = 1 << 18;  // large enough that the blocks really are split across threads
  Tensor x = Tensor::ones({n});
  const int before = omp_get_max_threads();
  std::vector<float> masks[2];
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    Generator gen(42);
    masks[threads - 1] = dropout(x, 0.25f, true, gen).to_vector();
  }
  omp_set_num_threads(before);
  REQUIRE(masks[0] == masks[1]);
  int64_t dropped = 0;
  for (float v : masks[0]) {
    REQUIRE((v == 0.f || v == Approx(1.f / 0.75f)));
    dropped += v == 0.f;
  }
  // Binomial(n, 0.25): the standard deviation of the fraction is 0.00085; allow 5 of them.
  REQUIRE(static_cast<double>(dropped) / n == Approx(0.25).margin(0.0043));
  // The caller's generator advances by one draw per call, so two calls differ.
  Generator gen(42);
  REQUIRE(dropout(x, 0.25f, true, gen).to_vector() != dropout(x, 0.25f, true, gen).to_vector());
  // Eval mode and p = 0 are the identity (the same tensor, no copy).
  REQUIRE(dropout(x, 0.25f, false, gen).is_same(x));
  REQUIRE(dropout(x, 0.f, true, gen).is_same(x));
}
