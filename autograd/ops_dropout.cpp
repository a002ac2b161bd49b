// Dropout (chapter 04): the mask and its thread-count-independent generators are in
// kernels/dropout.h (shared with the fused attention op).
#include <memory>
#include <vector>

#include "autograd/engine.h"
#include "autograd/kernels/dropout.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

Tensor dropout(const Tensor& a, float p, bool training, Generator& gen) {
  ProfileScope prof("dropout");
  if (!(p >= 0.f && p < 1.f)) op_error("dropout", "p must be in [0, 1), got " + std::to_string(p));
  if (!training || p == 0.f) return a;
  // The mask is kept until backward as one byte per element, not a float (chapter 14's
  // memory budget): 1 = kept, scaled by 1/(1−p).
  auto keep = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(a.numel()));
  Tensor out = Tensor::empty(a.shape());
  kernels::dropout_mask(keep->data(), a.numel(), p, gen.next_u64(), a.data(), out.data());
  const float scale = 1.f / (1.f - p);
  // y = x·m  ⇒  dx = dy·m   (ch04)
  record(out, "dropout", {a}, [a, keep, scale](const Tensor& g) {
    const GradOut da = grad_out(a);  // written if new
    kernels::dropout_backward(da.data, g.data(), keep->data(), a.numel(), scale, da.add);
  });
  return out;
}

}  // namespace qkv
