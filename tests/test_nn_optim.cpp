// Optimiser steps against updates computed by hand, the schedule, clipping (chapter 12).
#include <omp.h>

#include <cmath>
#include <vector>

#include "autograd/kernels/optim.h"
#include "autograd/ops.h"
#include "nn/optim.h"
#include "tests/catch.h"

using namespace qkv;
using namespace qkv::nn;

namespace {
// Loss L = Σ c·p for a fixed c, so the gradient is c at every step.
void backward_linear_loss(const Tensor& p, const std::vector<float>& c) {
  sum(mul(p, Tensor::from_vector(c, p.shape()))).backward();
}
}  // namespace

TEST_CASE("SGD with momentum: two steps by hand", "[ch12][optim]") {
  Tensor p = Tensor::from_vector({1.f, -2.f}, {2}, true);
  SGD opt({p}, 0.1f, 0.9f);
  // step 1: b = g = (0.5, -1); p = (1 − 0.05, −2 + 0.1)
  backward_linear_loss(p, {0.5f, -1.f});
  opt.step();
  REQUIRE(p.data()[0] == Approx(0.95f));
  REQUIRE(p.data()[1] == Approx(-1.9f));
  // step 2: b = 0.9·b + g = (0.95, −1.9); p = (0.95 − 0.095, −1.9 + 0.19)
  opt.zero_grad();
  backward_linear_loss(p, {0.5f, -1.f});
  opt.step();
  REQUIRE(p.data()[0] == Approx(0.855f));
  REQUIRE(p.data()[1] == Approx(-1.71f));
}

TEST_CASE("Adam and AdamW: two steps by hand", "[ch12][optim]") {
  const float lr = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f;
  for (bool decoupled : {false, true}) {
    Tensor p = Tensor::from_vector({1.f}, {1}, true);
    Adam opt({p}, lr, b1, b2, eps, wd, decoupled);
    double pv = 1.0, m = 0, v = 0;
    for (int t = 1; t <= 2; ++t) {
      opt.zero_grad();
      backward_linear_loss(p, {2.f});
      opt.step();
      double g = 2.0;
      if (!decoupled) g += wd * pv;  // L2: the decay joins the gradient
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const double mhat = m / (1 - std::pow(b1, t)), vhat = v / (1 - std::pow(b2, t));
      if (decoupled) pv -= lr * wd * pv;  // AdamW: decay applied to the weight directly
      pv -= lr * mhat / (std::sqrt(vhat) + eps);
      REQUIRE(p.data()[0] == Approx(pv).epsilon(1e-6));
    }
    // On step 1, Adam's update is ±lr whatever the gradient's size: m̂/√v̂ = g/|g|.
  }
  Tensor q = Tensor::from_vector({1.f}, {1}, true);
  Adam first({q}, 0.1f);
  backward_linear_loss(q, {1000.f});
  first.step();
  REQUIRE(q.data()[0] == Approx(0.9f).epsilon(1e-6));
}

TEST_CASE("the warm-up schedule rises linearly, peaks at warmup, decays as 1/sqrt(step)",
          "[ch12][optim]") {
  const int64_t d = 512, w = 4000;
  REQUIRE(noam_lr(1, d, w) == Approx(std::pow(512.0, -0.5) * std::pow(4000.0, -1.5)));
  REQUIRE(noam_lr(2000, d, w) == Approx(2000 * std::pow(512.0, -0.5) * std::pow(4000.0, -1.5)));
  const float peak = noam_lr(w, d, w);
  REQUIRE(peak == Approx(std::pow(512.0, -0.5) * std::pow(4000.0, -0.5)));
  REQUIRE(noam_lr(w - 1, d, w) < peak);
  REQUIRE(noam_lr(w + 1, d, w) < peak);
  REQUIRE(noam_lr(4 * w, d, w) == Approx(peak / 2));
}

TEST_CASE("clip_grad_norm scales to the max norm and reports a NaN norm untouched",
          "[ch12][optim]") {
  Tensor a = Tensor::from_vector({3.f}, {1}, true), b = Tensor::from_vector({0.f, 0.f}, {2}, true);
  add(sum(mul(a, 3.f)), sum(mul(b, Tensor::from_vector({4.f, 0.f}, {2}))))
      .backward();  // grads 3, (4, 0)
  REQUIRE(clip_grad_norm({a, b}, 1.0) == Approx(5.0));
  REQUIRE(a.grad().data()[0] == Approx(0.6f).epsilon(1e-5));
  REQUIRE(b.grad().data()[0] == Approx(0.8f).epsilon(1e-5));
  REQUIRE(clip_grad_norm({a, b}, 10.0) == Approx(1.0).epsilon(1e-5));  // below the max: unchanged
  REQUIRE(a.grad().data()[0] == Approx(0.6f).epsilon(1e-5));
  a.grad().data()[0] = std::nanf("");
  CHECK(std::isnan(grad_norm({a, b})));
  CHECK(std::isnan(clip_grad_norm({a, b}, 1.0)));
  CHECK(b.grad().data()[0] == Approx(0.8f).epsilon(1e-5));  // nothing scaled
}

TEST_CASE("Adam's one-region update of many arrays equals the update of each, on 1, 2, 3 threads",
          "[ch12][optim]") {
  // Sizes that cut across the threads' shares anywhere, one big enough to open the region.
  const std::vector<int64_t> sizes = {5, 4096, 17, 40000, 1, 333};
  qkv::kernels::AdamHyper h{0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, false, 0.1f, 0.001f};
  auto run = [&](int threads, bool all) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<std::vector<float>> arrays;  // p, g, m, v of each size, in turn
    for (int64_t n : sizes)
      for (int k = 0; k < 4; ++k) {
        std::vector<float> a(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
          const float x = std::sin(0.37f * static_cast<float>(i + k + n));
          a[i] = k == 3 ? x * x : x;  // v, the second moment, is never negative
        }
        arrays.push_back(a);
      }
    std::vector<qkv::kernels::AdamSlot> slots;
    for (size_t j = 0; j < sizes.size(); ++j)
      slots.push_back({arrays[4 * j].data(), arrays[4 * j + 1].data(), arrays[4 * j + 2].data(),
                       arrays[4 * j + 3].data(), sizes[j]});
    if (all)
      qkv::kernels::adam_update_all(slots, h);
    else
      for (const auto& s : slots) qkv::kernels::adam_update_range(s, 0, s.n, h);
    omp_set_num_threads(saved);
    return arrays;
  };
  for (bool decoupled : {false, true}) {  // Adam (L2) and AdamW
    h.decoupled = decoupled;
    const auto each = run(1, false);
    for (int threads : {1, 2, 3}) {
      INFO("decoupled " << decoupled << ", threads " << threads);
      REQUIRE(run(threads, true) == each);  // every p, m and v, bit for bit
    }
  }
}
