// Chapter 12: the warm-up schedules, as a table: the very functions train_translator calls
// (nn/schedule.h). A linear warm-up to the peak learning rate, then either the paper's
// 1/sqrt(step) decay,
//   noam:   lr(step) = peak · min(step / warmup, sqrt(warmup / step))
//           = nn::noam_lr(step, d_model, warmup, factor) with factor = peak · sqrt(d_model ·
//           warmup)
// or half a cosine down to 0 at the last step (train_translator's default),
//   cosine: lr(step) = peak · ½ (1 + cos(π · (step − warmup) / (total − warmup)))  after the
//   warm-up.
#include <cmath>
#include <cstdio>
#include <string>

#include "examples/cli.h"
#include "nn/optim.h"
#include "nn/schedule.h"

int run_chapter() {
  const long d_model = 64, warmup = 100, total = 1200;
  const double peak = 3e-3;
  const float factor = static_cast<float>(peak * std::sqrt(static_cast<double>(d_model * warmup)));
  std::printf("d_model %ld, warm-up %ld steps, peak %.0e, %ld steps in all\n\n", d_model, warmup,
              peak, total);
  std::printf("  step   noam (factor %.4f)   cosine     paper's noam, factor 1\n", factor);
  for (long step : {1L, 10L, 50L, 100L, 250L, 400L, 600L, 800L, 1000L, 1200L})
    std::printf("  %4ld   %.6f              %.6f   %.6f\n", step,
                qkv::nn::warmup_inverse_sqrt_lr(step, peak, warmup, d_model),
                qkv::nn::warmup_cosine_lr(step, peak, warmup, total),
                qkv::nn::noam_lr(step, d_model, warmup, 1.f));
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(argc, argv, "ch12_lr_schedule",
                                "Chapter 12: the warm-up schedules, as a table.", run_chapter);
}
