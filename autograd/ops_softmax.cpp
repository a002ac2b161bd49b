// softmax and log_softmax (chapter 05): one fused op each, with its own backward, rather
// than a chain of exp/sum/div whose intermediate values could overflow.
#include "autograd/engine.h"
#include "autograd/kernels/softmax.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

namespace {
// The kernels work on the last axis; any other axis is moved there and back.
template <class Op>
Tensor along_axis(const Tensor& a, int64_t axis, const char* name, Op op) {
  const int64_t ax = normalize_axis(axis, a.dim(), name);
  if (ax == a.dim() - 1) return op(a);
  return transpose(op(transpose(a, ax, -1)), ax, -1);
}
}  // namespace

Tensor softmax(const Tensor& a, int64_t axis) {
  ProfileScope prof("softmax");
  if (a.dim() == 0)
    op_error("softmax", "needs at least one dimension, got " + shape_str(a.shape()));
  return along_axis(a, axis, "softmax", [](const Tensor& x) {
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor out = Tensor::empty(x.shape());
    kernels::softmax_rows(out.data(), x.data(), rows, n);
    // y = softmax(x)  ⇒  dx = y ⊙ (dy − ⟨dy, y⟩)   (ch05)
    Tensor y = out.detach();
    record(out, "softmax", {x}, [x, y, rows, n](const Tensor& g) {
      kernels::softmax_rows_backward(x.grad_buffer().data(), y.data(), g.data(), rows, n);
    });
    return out;
  });
}

Tensor log_softmax(const Tensor& a, int64_t axis) {
  ProfileScope prof("log_softmax");
  if (a.dim() == 0)
    op_error("log_softmax", "needs at least one dimension, got " + shape_str(a.shape()));
  return along_axis(a, axis, "log_softmax", [](const Tensor& x) {
    const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
    Tensor out = Tensor::empty(x.shape());
    kernels::log_softmax_rows(out.data(), x.data(), rows, n);
    // y = x − logΣeˣ  ⇒  dx = dy − softmax(x)·Σdy   (ch05)
    Tensor y = out.detach();
    record(out, "log_softmax", {x}, [x, y, rows, n](const Tensor& g) {
      kernels::log_softmax_rows_backward(x.grad_buffer().data(), y.data(), g.data(), rows, n);
    });
    return out;
  });
}

}  // namespace qkv
