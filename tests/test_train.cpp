// nn/train: the training step (loss, gradient norm, a non-finite value reported, nothing
// updated) and the loop every training program uses.
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "nn/train.h"
#include "tests/catch.h"

using namespace qkv;
using namespace qkv::nn;

namespace {
// loss = Σ c·p for p = (1, 2): the gradient is c, whatever p is.
Tensor linear_loss(const Tensor& p, std::vector<float> c) {
  return sum(mul(p, Tensor::from_vector(c, p.shape())));
}
}  // namespace

TEST_CASE("train_step: the loss and gradient norm before the update, then one SGD step",
          "[ch12][train]") {
  Tensor p = Tensor::from_vector({1.f, 2.f}, {2}, true);
  SGD opt({p}, 0.1f);
  StepResult r = train_step(opt, linear_loss(p, {3.f, 4.f}));
  CHECK(r.finite);
  CHECK(r.loss == Approx(11.f));
  CHECK(r.grad_norm == Approx(5.0));
  CHECK(p.to_vector() == std::vector<float>{1.f - 0.3f, 2.f - 0.4f});
  // With clipping at 1 the gradient (3, 4) becomes (0.6, 0.8); the norm reported is 5.
  r = train_step(opt, linear_loss(p, {3.f, 4.f}), 1.0);
  CHECK(r.grad_norm == Approx(5.0));
  CHECK(p.to_vector()[0] == Approx(0.7f - 0.06f));
  CHECK(p.to_vector()[1] == Approx(1.6f - 0.08f));
}

TEST_CASE("train_step: a NaN loss or an infinite gradient is a value, and nothing moves",
          "[ch12][train]") {
  Tensor p = Tensor::from_vector({0.f, 1.f}, {2}, true);
  SGD opt({p}, 0.1f);
  StepResult r = train_step(opt, mul(sum(p), std::nanf("")));
  CHECK_FALSE(r.finite);
  CHECK(std::isnan(r.loss));
  CHECK(p.to_vector() == std::vector<float>{0.f, 1.f});
  CHECK(opt.steps() == 0);
  // √0 = 0 is a finite loss, but its gradient 1/(2√0) is infinite.
  r = train_step(opt, sum(sqrt(p)), 1.0);
  CHECK_FALSE(r.finite);
  CHECK(r.loss == Approx(1.f));
  CHECK(std::isinf(r.grad_norm));
  CHECK(p.to_vector() == std::vector<float>{0.f, 1.f});
  CHECK(opt.steps() == 0);
}

TEST_CASE("fit: sets each step's rate, numbers the steps, stops at the first non-finite one",
          "[ch12][train]") {
  Tensor p = Tensor::from_vector({1.f, 2.f}, {2}, true);
  SGD opt({p}, 0.f);
  std::vector<int64_t> seen;
  std::vector<float> rates;
  LoopOptions o;
  o.first_step = 3;  // as when resuming after two steps
  o.lr = [](int64_t step) { return 0.5f * static_cast<float>(step); };  // exact in float
  o.on_step = [&](const StepResult& r) {
    seen.push_back(r.step);
    rates.push_back(opt.lr);
  };
  StepResult last = fit(
      opt, 5,
      [&](int64_t) {
        return linear_loss(p, {1.f, 0.f});
      },
      o);
  CHECK(seen == std::vector<int64_t>{3, 4, 5});
  CHECK(rates == std::vector<float>{1.5f, 2.f, 2.5f});
  CHECK(last.step == 5);
  CHECK(p.to_vector()[0] == 1.f - 6.f);  // Σ lr · 1 over steps 3 … 5
  // A loss that turns NaN at step 2 of 4: step 1 is taken, step 2 is reported, 3 and 4 never run.
  seen.clear();
  o.first_step = 1;
  int calls = 0;
  last = fit(
      opt, 4,
      [&](int64_t step) {
        ++calls;
        return step == 2 ? mul(sum(p), std::nanf("")) : linear_loss(p, {1.f, 0.f});
      },
      o);
  CHECK_FALSE(last.finite);
  CHECK(last.step == 2);
  CHECK(seen == std::vector<int64_t>{1});
  CHECK(calls == 2);
}
