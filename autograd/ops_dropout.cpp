// Dropout (chapter 04).
//
// The mask is random but must not depend on the thread count. One number is drawn from the
// caller's Generator; block b of the mask (4,096 elements) is then filled from generators
// seeded by (that number, b). Blocks can be filled by any thread in any order and the mask
// is the same, and the caller's Generator advances by exactly one draw.
//
// Inside a block, 16 xoshiro256** generators run side by side, element i taking lane i % 16:
// one generator is a serial chain of dependent operations, 16 independent ones are a loop
// the compiler turns into vector instructions (chapter 14).
#include "autograd/engine.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

Tensor dropout(const Tensor& a, float p, bool training, Generator& gen) {
  ProfileScope prof("dropout");
  if (!(p >= 0.f && p < 1.f)) op_error("dropout", "p must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0.f) return a;
  // Inverted dropout: survivors are scaled by 1/(1−p) now, so eval needs no rescaling.
  const float keep_scale = 1.f / (1.f - p);
  // Compare 24 random bits against p·2²⁴: the same test as uniform() < p, without floats.
  const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(p) * 16777216.0);
  const uint64_t base = gen.next_u64();
  const int64_t n = a.numel();
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  Tensor mask = Tensor::empty(a.shape());
  Tensor out = Tensor::empty(a.shape());
  float* m = mask.data();
  float* y = out.data();
  const float* x = a.data();
#pragma omp parallel for schedule(static) if (n >= kernels::kParallelMin)
  for (int64_t b = 0; b < blocks; ++b) {
    constexpr int kLanes = 16;
    uint64_t s0[kLanes], s1[kLanes], s2[kLanes], s3[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      Generator seeder(base ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(b * kLanes + l + 1)));
      s0[l] = seeder.next_u64();
      s1[l] = seeder.next_u64();
      s2[l] = seeder.next_u64();
      s3[l] = seeder.next_u64();
    }
    const int64_t begin = b * kBlock, end = std::min(n, begin + kBlock);
    for (int64_t i0 = begin; i0 < end; i0 += kLanes) {
      uint64_t bits[kLanes];
      for (int l = 0; l < kLanes; ++l) {  // one xoshiro256** step in every lane
        const uint64_t r = s1[l] * 5;
        bits[l] = ((r << 7) | (r >> 57)) * 9;
        const uint64_t t = s1[l] << 17;
        s2[l] ^= s0[l];
        s3[l] ^= s1[l];
        s1[l] ^= s2[l];
        s0[l] ^= s3[l];
        s2[l] ^= t;
        s3[l] = (s3[l] << 45) | (s3[l] >> 19);
      }
      const int64_t count = std::min<int64_t>(kLanes, end - i0);
      for (int64_t l = 0; l < count; ++l) {
        m[i0 + l] = (bits[l] >> 40) < threshold ? 0.f : keep_scale;
        y[i0 + l] = x[i0 + l] * m[i0 + l];
      }
    }
  }
  // y = x·m  ⇒  dx = dy·m   (ch04)
  record(out, "dropout", {a}, [a, mask](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), mask.data(), a.numel(),
                         [](float dy, float mv) { return dy * mv; });
  });
  return out;
}

}  // namespace qkv
