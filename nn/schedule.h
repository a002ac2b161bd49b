// Learning-rate schedules (chapter 12): a linear warm-up to the peak, then a decay. These are
// the functions train_translator uses and chapter 12's table prints. Steps count from 1.
#pragma once

#include <cstdint>

namespace qkv::nn {

// Warm-up then half a cosine down to 0 at the last step (train_translator's default):
//   lr(s) = peak · s / warmup                                        for s ≤ warmup
//   lr(s) = peak · ½ (1 + cos(π · (s − warmup) / (total − warmup)))  after, 0 from `total` on
float warmup_cosine_lr(int64_t step, double peak, int64_t warmup, int64_t total);

// Warm-up then the paper's 1/√step decay, scaled so that it peaks at `peak` when s = warmup:
//   lr(s) = peak · min(s / warmup, √(warmup / s))
// It is noam_lr (nn/optim.h) with factor = peak · √(d_model · warmup). Without a warm-up
// (warmup ≤ 0) the rate is `peak` throughout.
float warmup_inverse_sqrt_lr(int64_t step, double peak, int64_t warmup, int64_t d_model);

}  // namespace qkv::nn
