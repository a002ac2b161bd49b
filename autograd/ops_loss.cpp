// Cross-entropy fused with log-softmax (chapter 05).
#include <cmath>

#include "autograd/engine.h"
#include "autograd/kernels/cross_entropy.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                     float label_smoothing) {
  ProfileScope prof("cross_entropy");
  if (logits.dim() != 2)
    op_error("cross_entropy", "logits must be [N, C], got " + shape_str(logits.shape()));
  const int64_t rows = logits.size(0), classes = logits.size(1);
  if (targets.shape() != Shape{rows})
    op_error("cross_entropy", "targets " + shape_str(targets.shape()) + " do not match logits " +
                                  shape_str(logits.shape()) + " (expected [" +
                                  std::to_string(rows) + "])");
  if (!(label_smoothing >= 0.f && label_smoothing < 1.f))
    op_error("cross_entropy",
             "label_smoothing must be in [0, 1), got " + std::to_string(label_smoothing));
  auto ids = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(rows));
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float v = targets.data()[r];
    const int64_t t = static_cast<int64_t>(v);
    if (t != ignore_index && (static_cast<float>(t) != v || t < 0 || t >= classes))
      op_error("cross_entropy", "target " + std::to_string(v) + " at row " + std::to_string(r) +
                                    " is not a class id in [0, " + std::to_string(classes) + ")");
    (*ids)[r] = t;
    if (t != ignore_index) ++counted;
  }
  std::vector<float> row_loss(static_cast<size_t>(rows));
  Tensor lse = Tensor::empty({rows});
  kernels::cross_entropy_forward(row_loss.data(), lse.data(), logits.data(), ids->data(), rows,
                                 classes, ignore_index, label_smoothing);
  // The mean over counted rows, summed in row order (deterministic). With every row
  // ignored there is nothing to learn from: the loss is 0 and so is its gradient.
  double total = 0;
  for (float l : row_loss) total += l;
  const float denom = counted > 0 ? static_cast<float>(counted) : 1.f;
  Tensor out = Tensor::scalar(static_cast<float>(total / denom));
  // L = mean_r (lse_r − Σ_c q_rc·x_rc)  ⇒  dx_rc = dL · (softmax(x_r)_c − q_rc) / count   (ch05)
  record(out, "cross_entropy", {logits},
         [logits, lse, ids, rows, classes, ignore_index, label_smoothing, denom](const Tensor& g) {
           const GradOut dx = grad_out(logits);  // written if new
           kernels::cross_entropy_backward(dx.data, logits.data(), lse.data(), ids->data(), rows,
                                           classes, ignore_index, label_smoothing,
                                           g.data()[0] / denom, dx.add);
         });
  return out;
}

}  // namespace qkv
