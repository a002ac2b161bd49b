// Dropout (chapter 04).
//
// The mask is random but must not depend on the thread count. One number is drawn from the
// caller's Generator; block b of the mask (4,096 elements) is then filled by its own
// Generator seeded from (that number, b). Blocks can be filled by any thread in any order
// and the mask is the same, and the caller's Generator advances by exactly one draw.
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
    Generator block_gen(base ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(b + 1)));
    const int64_t end = std::min(n, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < end; ++i) {
      m[i] = (block_gen.next_u64() >> 40) < threshold ? 0.f : keep_scale;
      y[i] = x[i] * m[i];
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
