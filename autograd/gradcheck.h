// gradcheck: compare autograd's gradients with central finite differences (chapter 02).
//
// The function's output is projected to a scalar with fixed random weights R,
// L = Σ f(x)·R, so every output element takes part. Autograd gives dL/dx; each element of
// x is then nudged by ±eps and dL/dx ≈ (L(x+eps) − L(x−eps)) / 2eps, with L summed in
// double so float rounding of the sum does not swamp the difference. An element passes
// when |analytic − numeric| ≤ atol + rtol·|numeric|; the report names the worst one.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace qkv {

struct GradcheckOptions {
  double eps = 1e-2;  // float32 inputs: smaller steps drown in rounding error
  double atol = 1e-3;
  double rtol = 1e-2;
  uint64_t seed = 1234;  // for the projection weights R
};

struct GradcheckResult {
  bool ok = true;
  int input = -1;      // which input holds the worst element
  int64_t index = -1;  // its flat index
  double analytic = 0, numeric = 0;
  double worst_ratio = 0;  // |a − n| / (atol + rtol·|n|): ≤ 1 passes
  double max_abs_error = 0;
  std::string message;  // "input 0 [2, 3] element 4: analytic 0.5 numeric 0.49 …"
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Inputs that require grad are checked; the others are held fixed. The inputs' existing
// .grad values are left as they were.
GradcheckResult gradcheck(const TensorFn& f, std::vector<Tensor> inputs,
                          const GradcheckOptions& options = {});

}  // namespace qkv
