// Dropout (chapter 04): the mask is drawn serially from the caller's Generator, so the same
// seed gives the same mask whatever the thread count.
#include "autograd/engine.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"

namespace qkv {

Tensor dropout(const Tensor& a, float p, bool training, Generator& gen) {
  if (!(p >= 0.f && p < 1.f)) op_error("dropout", "p must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0.f) return a;
  // Inverted dropout: survivors are scaled by 1/(1−p) now, so eval needs no rescaling.
  Tensor mask = Tensor::empty(a.shape());
  const float keep_scale = 1.f / (1.f - p);
  float* m = mask.data();
  for (int64_t i = 0, n = mask.numel(); i < n; ++i) m[i] = gen.uniform() < p ? 0.f : keep_scale;
  Tensor out = Tensor::empty(a.shape());
  kernels::map2(out.data(), a.data(), mask.data(), a.numel(), [](float x, float m) { return x * m; });
  // y = x·m  ⇒  dx = dy·m   (ch04)
  record(out, "dropout", {a}, [a, mask](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), mask.data(), a.numel(),
                         [](float dy, float m) { return dy * m; });
  });
  return out;
}

}  // namespace qkv
