// y = x·Wᵀ + b, the affine map of every Linear layer (chapter 04), as one op so that the
// GEMM reads W through its transpose flag instead of materialising Wᵀ.
#include <omp.h>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "autograd/kernels/gemm.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/reduce.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ProfileScope prof("linear");
  require_defined(x, "linear", "input");
  require_defined(weight, "linear", "weight");
  if (weight.dim() != 2)
    op_error("linear", "weight must be [out, in], got " + shape_str(weight.shape()));
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  if (x.dim() < 1 || x.size(-1) != in_f)
    op_error("linear", "input " + shape_str(x.shape()) + " does not end in in_features " +
                           std::to_string(in_f) + " of weight " + shape_str(weight.shape()));
  if (bias.defined() && bias.shape() != Shape{out_f})
    op_error("linear", "bias " + shape_str(bias.shape()) + " does not match weight " +
                           shape_str(weight.shape()) + " (expected [" + std::to_string(out_f) +
                           "])");
  const int64_t rows = x.numel() / in_f;
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor out = Tensor::empty(out_shape);
  // x: [rows, in], W: [out, in]  →  y: [rows, out] = x·Wᵀ, + b in the GEMM's epilogue
  kernels::gemm({false, true, rows, out_f, in_f, 1.f, x.data(), in_f, weight.data(), in_f, 0.f,
                 out.data(), out_f, bias.defined() ? bias.data() : nullptr});
  add_macs(rows * out_f * in_f);
  // y = x·Wᵀ + b  ⇒  dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy   (ch04)
  record(out, "linear", {x, weight, bias}, [x, weight, bias, rows](const Tensor& g) {
    linear_backward(g.data(), x, weight, bias, rows);
  });
  return out;
}

// dx and dW have the same number of multiply-adds (rows·in·out). Up to this many each, two
// threads take one product each, whole, instead of each taking a share of both (chapter 14,
// the eleventh round): a product this small, cut in two, pays for its cut (dx's claims, dW's
// split of the sum over k with its two barriers) about as much as it saves. Each product is
// then computed exactly as one thread computes it, so nothing changes but the time. Switched
// every other step of one two-thread run at the tiny model (seven runs, AMD EPYC Zen 5), where it
// takes the 64 × 64 projections and the output layer: `linear (backward)` 1 to 6 % faster, the step
// 1 to 2 %; also taking the feed-forward's 640 × 256 × 64 (10.5 M each) lost up to 7 % there.
constexpr int64_t kOneProductEachMacs = int64_t(1) << 22;

void linear_backward(const float* dy, const Tensor& x, const Tensor& weight, const Tensor& bias,
                     int64_t rows, const std::function<void(int t, int threads)>& before) {
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  // The gradient buffers are allocated here, before the region: never inside it. A new one is
  // written (beta = 0), one that holds an earlier consumer's share is added to (beta = 1).
  const GradOut gx = grad_out(x, {weight, bias}), gw = grad_out(weight, {x, bias});
  const GradOut gb = grad_out(bias, {x, weight});
  float *dx = gx.data, *dw = gw.data, *db = gb.data;
  const kernels::Gemm dx_gemm(false, false, rows, in_f, out_f, 1.f, dy, out_f, weight.data(), in_f,
                              gx.add ? 1.f : 0.f, dx, in_f);
  const kernels::Gemm dw_gemm(true, false, out_f, in_f, rows, 1.f, dy, out_f, x.data(), in_f,
                              gw.add ? 1.f : 0.f, dw, in_f);
  const int64_t macs = rows * in_f * out_f * ((dx ? 1 : 0) + (dw ? 1 : 0));
  const bool one_each = dx && dw && rows * in_f * out_f <= kOneProductEachMacs;
  kernels::gemm_prepare_parts();
  kernels::GemmClaims dx_claims;
  kernels::RegionEnd end;
#pragma omp parallel if (kernels::gemm_worth_threads(macs))
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    if (before) {
      before(t, threads);
#pragma omp barrier
    }
    if (one_each && threads == 2) {
      // dx to thread 1: woken when the region opens, it usually starts a few microseconds
      // later (with `before`, both start together after its barrier), and dx, with the same
      // multiply-adds as dW, measured the faster of the two (27.8 against 32.2 µs at tiny, AMD
      // EPYC Zen 5).
      if (t == 1)
        kernels::gemm_part(dx_gemm, 0, 1);
      else
        kernels::gemm_part(dw_gemm, 0, 1);
    } else {
      if (dx) kernels::gemm_part(dx_gemm, t, threads, &dx_claims);
      if (dw) kernels::gemm_part(dw_gemm, t, threads);
    }
    if (db) kernels::sum_rows_into_part(db, dy, rows, out_f, t, threads, gb.add);
    end.done(t);
  }
}

}  // namespace qkv
