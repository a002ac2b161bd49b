// Reference solutions, chapter 10 (docs/exercises.md#ch10). Try your own first.
#include <cmath>

#include "examples/exercises/exercises.h"

namespace qkv::exercises {

namespace {
// Two passes, mean first: E[x²] − E[x]² cancels catastrophically when |μ| ≫ σ.
void row_stats(const float* x, int64_t D, double& mean, double& rstd, float eps) {
  mean = 0;
  for (int64_t j = 0; j < D; ++j) mean += x[j];
  mean /= D;
  double var = 0;
  for (int64_t j = 0; j < D; ++j) var += (x[j] - mean) * (x[j] - mean);
  rstd = 1.0 / std::sqrt(var / D + eps);  // biased variance, eps inside the root (as torch)
}
}  // namespace

Tensor layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  const int64_t D = x.size(-1), rows = x.numel() / D;
  Tensor y = Tensor::empty(x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * D;
    double mean, rstd;
    row_stats(xr, D, mean, rstd, eps);
    for (int64_t j = 0; j < D; ++j)
      y.data()[r * D + j] =
          static_cast<float>((xr[j] - mean) * rstd * weight.data()[j] + bias.data()[j]);
  }
  return y;
}

// x̂ = (x − μ)·rstd, y = x̂ ⊙ w + b, g = dy ⊙ w  ⇒  dx = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂))
LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& weight, float eps,
                                   const Tensor& dy) {
  const int64_t D = x.size(-1), rows = x.numel() / D;
  Tensor dx = Tensor::empty(x.shape()), dw = Tensor::zeros({D}), db = Tensor::zeros({D});
  std::vector<double> xhat(static_cast<size_t>(D));
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x.data() + r * D, *gr = dy.data() + r * D;
    double mean, rstd, g_mean = 0, gx_mean = 0;
    row_stats(xr, D, mean, rstd, eps);
    for (int64_t j = 0; j < D; ++j) {
      xhat[j] = (xr[j] - mean) * rstd;
      const double g = gr[j] * weight.data()[j];
      g_mean += g / D;
      gx_mean += g * xhat[j] / D;
      dw.data()[j] += static_cast<float>(gr[j] * xhat[j]);
      db.data()[j] += gr[j];
    }
    for (int64_t j = 0; j < D; ++j)
      dx.data()[r * D + j] =
          static_cast<float>(rstd * (gr[j] * weight.data()[j] - g_mean - xhat[j] * gx_mean));
  }
  return {dx, dw, db};
}

}  // namespace qkv::exercises
