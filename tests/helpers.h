// Small helpers shared by the test files.
#pragma once

#include <omp.h>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/gradcheck.h"
#include "nn/module.h"
#include "tests/catch.h"

namespace qkv::test {

// Restores the OpenMP thread count when a test ends, even when it fails.
struct ThreadCountGuard {
  int saved = omp_get_max_threads();
  ~ThreadCountGuard() { omp_set_num_threads(saved); }
};

// Whether a region asked for two threads gets them (OMP_THREAD_LIMIT=1 or a dynamic runtime
// can give one): a test about how two threads share work skips itself, with a warning, if not.
inline bool two_threads_available() {
  int got = 0;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    got = omp_get_num_threads();
  }
  return got == 2;
}

// Uniform values in [lo, hi), requiring grad, from a fixed seed.
inline Tensor rnd(const Shape& s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Generator g(seed);
  return Tensor::uniform(s, g, lo, hi, true);
}

inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  float m = 0.f;
  const float* pa = a.data();
  const float* pb = b.data();
  for (int64_t i = 0, n = a.numel(); i < n; ++i) m = std::fmax(m, std::fabs(pa[i] - pb[i]));
  return m;
}

// Gradcheck f with respect to `inputs` and every parameter of module m.
inline void check_module(const nn::Module& m,
                         const std::function<Tensor(const std::vector<Tensor>&)>& f,
                         std::vector<Tensor> inputs, GradcheckOptions options = {}) {
  for (auto& p : m.parameters()) inputs.push_back(p);
  GradcheckResult r = gradcheck(f, inputs, options);
  INFO(r.message);
  REQUIRE(r.ok);
}

}  // namespace qkv::test
