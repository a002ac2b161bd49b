// nn/schedule: the warm-up schedules train_translator uses and chapter 12 tabulates.
#include <cmath>

#include "nn/optim.h"
#include "nn/schedule.h"
#include "tests/catch.h"

using namespace qkv::nn;

TEST_CASE("warm-up + cosine: linear to the peak, half at the midpoint, 0 at the last step",
          "[ch12][schedule]") {
  const double peak = 3e-3;
  const int64_t warmup = 250, total = 1250;
  CHECK(warmup_cosine_lr(1, peak, warmup, total) == Approx(peak / 250));
  CHECK(warmup_cosine_lr(125, peak, warmup, total) == Approx(peak / 2));
  CHECK(warmup_cosine_lr(warmup, peak, warmup, total) == Approx(peak));
  CHECK(warmup_cosine_lr(750, peak, warmup, total) == Approx(peak / 2));  // half-way down
  CHECK(warmup_cosine_lr(total, peak, warmup, total) == Approx(0).margin(1e-12));
  CHECK(warmup_cosine_lr(total + 100, peak, warmup, total) == Approx(0).margin(1e-12));
  for (int64_t s = warmup + 1; s <= total; ++s)  // never rises after the peak
    REQUIRE(warmup_cosine_lr(s, peak, warmup, total) <=
            warmup_cosine_lr(s - 1, peak, warmup, total));
}

TEST_CASE("warm-up + 1/sqrt(step): the paper's schedule rescaled to peak at the given rate",
          "[ch12][schedule]") {
  const double peak = 2e-3;
  const int64_t warmup = 100, d_model = 64;
  CHECK(warmup_inverse_sqrt_lr(warmup, peak, warmup, d_model) == Approx(peak));
  CHECK(warmup_inverse_sqrt_lr(warmup / 4, peak, warmup, d_model) == Approx(peak / 4));
  CHECK(warmup_inverse_sqrt_lr(4 * warmup, peak, warmup, d_model) == Approx(peak / 2));
  // peak · min(s / w, √(w / s)) is noam_lr with factor peak · √(d_model · w)
  const float factor = static_cast<float>(peak * std::sqrt(64.0 * 100.0));
  for (int64_t s : {1, 50, 100, 101, 777})
    CHECK(warmup_inverse_sqrt_lr(s, peak, warmup, d_model) == noam_lr(s, d_model, warmup, factor));
  CHECK(warmup_inverse_sqrt_lr(7, peak, 0, d_model) == Approx(peak));  // no warm-up: constant
}
