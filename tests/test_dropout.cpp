// Dropout: the mask depends on the seed only, never on the thread count (chapter 04).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "autograd/kernels/dropout.h"
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

// The kernel writes whole groups of 16 with vector instructions and the rest element by element
// (kernels/dropout.h). Drawn one element at a time, every element takes the second path: both
// must give the same mask and the same products, bit for bit (−0 included: x·0 keeps x's sign).
template <class Mask>
void check_mask_paths(float p) {
  const int64_t n = 5003;  // two blocks of the mask, and a last group of 16 cut short
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 9) - 4.f;
  std::vector<Mask> whole(n), single(n);
  std::vector<float> y_whole(n), y_single(n);
  kernels::dropout_mask<Mask>(whole.data(), n, p, 77, x.data(), y_whole.data());
  for (int64_t i = 0; i < n; ++i)
    kernels::dropout_mask_range<Mask>(single.data(), n, p, 77, x.data(), y_single.data(), i, i + 1);
  REQUIRE(whole == single);
  REQUIRE(std::memcmp(y_whole.data(), y_single.data(), n * sizeof(float)) == 0);
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) dropped += whole[i] == Mask(0);
  REQUIRE(dropped > 0);
  REQUIRE(dropped < n);
}

TEST_CASE("dropout's mask: whole vectors and single elements draw the same bits",
          "[ch04][dropout]") {
  for (float p : {0.1f, 0.5f, 0.9f}) {
    INFO("p " << p);
    check_mask_paths<uint8_t>(p);
    check_mask_paths<float>(p);
  }
}

// The mask against its definition, element by element: lane l of block b is a Generator
// (autograd/random.h's xoshiro256**) set to four draws of Generator(base ^
// 0x9E3779B97F4A7C15·(16b + l + 1)); element i of the block takes lane i % 16's draw number
// i / 16 and is dropped when its top 24 bits are below p·2²⁴. Whatever instructions the kernel
// uses, these are its bits.
TEST_CASE("dropout's mask: each block's 16 lanes are Generators, drawn one element at a time",
          "[ch04][dropout]") {
  const int64_t n = 2 * kernels::kDropoutBlock + 1000;
  const uint64_t base = 0x1234567890abcdefull;
  for (float p : {0.1f, 0.5f}) {
    INFO("p " << p);
    std::vector<uint8_t> mask(n);
    kernels::dropout_mask<uint8_t>(mask.data(), n, p, base);
    const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(p) * 16777216.0);
    int64_t wrong = 0;
    for (int64_t b = 0; b * kernels::kDropoutBlock < n; ++b)
      for (int64_t l = 0; l < 16; ++l) {
        Generator seeder(base ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(b * 16 + l + 1)));
        Generator::State state{};
        for (uint64_t& w : state.s) w = seeder.next_u64();
        Generator lane;
        lane.set_state(state);
        const int64_t end = std::min(n, (b + 1) * kernels::kDropoutBlock);
        for (int64_t i = b * kernels::kDropoutBlock + l; i < end; i += 16)
          wrong += mask[i] != ((lane.next_u64() >> 40) < threshold ? 0 : 1);
      }
    CHECK(wrong == 0);
  }
}
