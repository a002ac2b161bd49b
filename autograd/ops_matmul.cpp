// Matrix product with broadcast batch dimensions (chapter 02). All three products (the
// forward and both gradients) are one GEMM kernel called with different transpose flags.
#include "autograd/counters.h"
#include "autograd/engine.h"
#include "autograd/kernels/gemm.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

namespace {
std::string matmul_shapes(const Tensor& a, const Tensor& b) {
  return shape_str(a.shape()) + " @ " + shape_str(b.shape());
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  ProfileScope prof("matmul");
  require_defined(a, "matmul", "left operand");
  require_defined(b, "matmul", "right operand");
  if (a.dim() < 2 || b.dim() < 2)
    op_error("matmul", matmul_shapes(a, b) + ": both operands need at least 2 dimensions");
  const int64_t n = a.size(-2), k = a.size(-1), k2 = b.size(-2), m = b.size(-1);
  if (k != k2)
    op_error("matmul", matmul_shapes(a, b) + ": inner dimensions " + std::to_string(k) + " and " +
                           std::to_string(k2) + " differ");
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  const Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(batch_a, batch_b, "matmul");
  } catch (const std::invalid_argument&) {
    op_error("matmul", matmul_shapes(a, b) + ": batch dimensions do not broadcast");
  }
  Shape out_shape = batch;
  out_shape.push_back(n);
  out_shape.push_back(m);
  Tensor out = Tensor::empty(out_shape);
  const int64_t nb = numel_of(batch);

  // [.., n, k] @ [k, m] with b shared by the whole batch is one tall GEMM: [B·n, k] @ [k, m].
  const bool b_shared = numel_of(batch_b) == 1;
  const bool a_full = numel_of(batch_a) == nb;
  const bool b_full = numel_of(batch_b) == nb;
  const bool a_shared = numel_of(batch_a) == 1;
  if (b_shared && a_full) {
    kernels::gemm(false, false, nb * n, m, k, 1.f, a.data(), k, b.data(), m, 0.f, out.data(), m);
  } else if ((a_full || a_shared) && (b_full || b_shared)) {
    kernels::gemm_batched(nb, false, false, n, m, k, 1.f, a.data(), k, a_shared ? 0 : n * k,
                          b.data(), m, b_shared ? 0 : k * m, 0.f, out.data(), m, n * m);
  } else {
    op_error("matmul", matmul_shapes(a, b) +
                           ": partially broadcast batch dimensions are not supported; "
                           "expand one operand first");
  }
  add_macs(nb * n * m * k);

  // C = A·B  ⇒  dA = dC·Bᵀ, dB = Aᵀ·dC   (ch02; summed over a broadcast batch)
  record(out, "matmul", {a, b}, [a, b, n, k, m, nb, a_shared, b_shared](const Tensor& g) {
    if (needs_grad(a)) {
      float* da = a.grad_buffer().data();
      if (a_shared && nb > 1) {
        // A was reused by every batch (so B was not): dA = Σ_batch dC_i·B_iᵀ, in batch order.
        for (int64_t i = 0; i < nb; ++i)
          kernels::gemm(false, true, n, k, m, 1.f, g.data() + i * n * m, m, b.data() + i * k * m, m,
                        1.f, da, k);
      } else if (b_shared) {
        kernels::gemm(false, true, nb * n, k, m, 1.f, g.data(), m, b.data(), m, 1.f, da, k);
      } else {
        kernels::gemm_batched(nb, false, true, n, k, m, 1.f, g.data(), m, n * m, b.data(), m, k * m,
                              1.f, da, k, n * k);
      }
    }
    if (needs_grad(b)) {
      float* db = b.grad_buffer().data();
      if (b_shared) {
        // B was reused by every batch: dB = Aᵀ·dC over the stacked [B·n, k] rows of A (when
        // A is shared too, there is one batch).
        kernels::gemm(true, false, k, m, nb * n, 1.f, a.data(), k, g.data(), m, 1.f, db, m);
      } else {
        kernels::gemm_batched(nb, true, false, k, m, n, 1.f, a.data(), k, a_shared ? 0 : n * k,
                              g.data(), m, n * m, 1.f, db, m, k * m);
      }
    }
  });
  return out;
}

}  // namespace qkv
