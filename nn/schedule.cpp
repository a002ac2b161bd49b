#include "nn/schedule.h"

#include <algorithm>
#include <cmath>

#include "nn/optim.h"

namespace qkv::nn {

float warmup_cosine_lr(int64_t step, double peak, int64_t warmup, int64_t total) {
  if (step <= warmup)
    return static_cast<float>(peak * static_cast<double>(step) / static_cast<double>(warmup));
  const double progress = static_cast<double>(step - warmup) /
                          static_cast<double>(std::max<int64_t>(1, total - warmup));
  return static_cast<float>(peak * 0.5 *
                            (1 + std::cos(3.141592653589793 * std::min(1.0, progress))));
}

float warmup_inverse_sqrt_lr(int64_t step, double peak, int64_t warmup, int64_t d_model) {
  if (warmup <= 0) return static_cast<float>(peak);
  // noam_lr peaks at step = warmup with factor · (d_model · warmup)^−½.
  const float factor = static_cast<float>(
      peak * std::sqrt(static_cast<double>(d_model) * static_cast<double>(warmup)));
  return noam_lr(step, d_model, warmup, factor);
}

}  // namespace qkv::nn
