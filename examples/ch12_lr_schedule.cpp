// Chapter 12: the warm-up schedule, as a table. train_translator's default: a linear
// warm-up to the peak learning rate, then the paper's 1/sqrt(step) decay, i.e.
//   lr(step) = peak · min(step / warmup, sqrt(warmup / step))
// which is nn::noam_lr(step, d_model, warmup, factor) with factor = peak · sqrt(d_model · warmup).
#include <cmath>
#include <cstdio>

#include "nn/optim.h"

int main() {
  const long d_model = 64, warmup = 300;
  const double peak = 2e-3;
  const float factor = static_cast<float>(peak * std::sqrt(static_cast<double>(d_model * warmup)));
  std::printf("d_model %ld, warm-up %ld steps, peak %.0e (factor %.4f)\n\n", d_model, warmup, peak, factor);
  std::printf("  step   learning rate   paper's factor 1 (no rescaling)\n");
  for (long step : {1L, 30L, 150L, 300L, 600L, 1200L, 2400L})
    std::printf("  %4ld   %.6f        %.6f\n", step, qkv::nn::noam_lr(step, d_model, warmup, factor),
                qkv::nn::noam_lr(step, d_model, warmup, 1.f));
  return 0;
}
