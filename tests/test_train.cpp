// nn/train: the training step (loss, gradient norm, a non-finite value reported, nothing
// updated) and the loop every training program uses; nn/thread_choice: its thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "nn/layers.h"
#include "nn/optim.h"
#include "nn/thread_choice.h"
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

// nn/thread_choice.h: one thread or n, chosen by timing the run's first steps (chapter 14).
TEST_CASE(
    "ThreadChoice: warm-up on n threads, blocks in turn, each block's first step not "
    "counted, the faster count kept",
    "[ch14][train]") {
  // One thread takes 1 ms a step, except the first step of each of its blocks, 100 ms (the caches
  // the other count left); two threads take 2 ms. Counted, those first steps would make one
  // thread's median 100 ms and the choice two threads.
  ThreadChoice c(2, /*pairs=*/3, /*block=*/2, /*warmup=*/2);
  std::vector<int> counts;
  for (int64_t step = 0; !c.decided(); ++step) {
    REQUIRE(step < 100);
    const int n = c.next_threads();
    counts.push_back(n);
    const bool first_of_block = step >= 2 && (step - 2) % 2 == 0;
    c.took(n == 1 ? (first_of_block ? 0.1 : 0.001) : 0.002);
  }
  REQUIRE(counts.size() == 2 + 2 * 2 * 3);
  CHECK(c.chosen() == 1);
  CHECK(c.median_1() == 0.001);
  CHECK(c.median_n() == 0.002);
  CHECK(counts[0] == 2);  // the warm-up runs on n
  CHECK(counts[1] == 2);
  for (size_t b = 0; b < 6; ++b) CHECK(counts[2 + 2 * b + 1] == counts[2 + 2 * b]);  // blocks
  for (size_t pair = 0; pair < 3; ++pair)  // each pair: one block on each count
    CHECK(counts[2 + 4 * pair] + counts[2 + 4 * pair + 2] == 3);
  CHECK(c.next_threads() == 1);  // kept from then on
  c.took(5.0);
  CHECK(c.chosen() == 1);

  // Faster on two threads: two are kept. Over 32 pairs both orders occur.
  ThreadChoice d(2, /*pairs=*/32, /*block=*/2, /*warmup=*/0);
  std::vector<int> firsts;
  for (int64_t step = 0; !d.decided(); ++step) {
    const int n = d.next_threads();
    if (step % 4 == 0) firsts.push_back(n);
    d.took(n == 1 ? 0.003 : 0.001);
  }
  CHECK(d.chosen() == 2);
  CHECK(std::count(firsts.begin(), firsts.end(), 1) > 0);
  CHECK(std::count(firsts.begin(), firsts.end(), 2) > 0);
  // One thread available: nothing to choose, nothing timed.
  ThreadChoice e(1);
  CHECK(e.decided());
  CHECK(e.next_threads() == 1);
}

TEST_CASE(
    "ThreadChoice with retime_after: timed again after retime_after times the timing, no "
    "warm-up, the faster count kept again",
    "[ch14][train]") {
  // First one thread is faster (1 ms against 2), later two are (3 ms against 1): the host moved
  // our cores (chapter 14, the thirteenth round).
  ThreadChoice c(2, /*pairs=*/2, /*block=*/2, /*warmup=*/1, /*retime_after=*/3);
  bool later = false;
  auto step_time = [&](int n) {
    return later ? (n == 1 ? 0.003 : 0.001) : (n == 1 ? 0.001 : 0.002);
  };
  int64_t steps = 0;
  double timing = 0;
  for (; !c.decided(); ++steps) {
    REQUIRE(steps < 100);
    const double t = step_time(c.next_threads());
    if (steps >= 1) timing += t;  // the warm-up step is not timing
    c.took(t);
  }
  CHECK(steps == 1 + 2 * 2 * 2);
  CHECK(c.chosen() == 1);
  CHECK(c.choices() == 1);
  CHECK_FALSE(c.timing());
  // On the chosen count until those steps took 3 times as long as the timing: then timed again.
  double since = 0;
  while (!c.timing()) {
    REQUIRE(c.next_threads() == 1);
    c.took(0.001);
    since += 0.001;
    REQUIRE(since < 1.0);
  }
  CHECK(since >= 3 * timing);
  CHECK(since < 3 * timing + 0.001 + 1e-12);
  CHECK(c.chosen() == 1);  // still the choice while timing
  later = true;
  std::vector<int> counts;
  while (c.timing()) {
    counts.push_back(c.next_threads());
    c.took(step_time(counts.back()));
  }
  CHECK(counts.size() == 2 * 2 * 2);  // no warm-up this time
  CHECK(std::count(counts.begin(), counts.end(), 1) == 4);
  CHECK(c.chosen() == 2);
  CHECK(c.choices() == 2);
  CHECK(c.switches() == 1);
  CHECK(c.median_1() == 0.001);  // the first timing's medians stay
  CHECK(c.median_n() == 0.002);
  CHECK(c.last_median_1() == 0.003);
  CHECK(c.last_median_n() == 0.001);
  CHECK(c.next_threads() == 2);
  CHECK(c.steps_on_one() + c.steps_on_n() == steps +
                                                 static_cast<int64_t>(std::lround(since / 0.001)) +
                                                 static_cast<int64_t>(counts.size()));

  // Without retime_after, the first choice stays, however long the run.
  ThreadChoice d(2, /*pairs=*/1, /*block=*/2, /*warmup=*/0);
  while (!d.decided()) d.took(d.next_threads() == 1 ? 0.001 : 0.002);
  int other = 0;  // steps not on the chosen count
  for (int i = 0; i < 1000; ++i) {
    other += d.next_threads() != 1;
    d.took(1.0);
  }
  CHECK(other == 0);
  CHECK_FALSE(d.timing());
  CHECK(d.choices() == 1);
}

TEST_CASE("fit with a ThreadChoice: the same numbers as without, the chosen count left set",
          "[ch14][train]") {
  // A Linear on 512 rows: its products and sums are big enough to split between threads.
  auto run = [](bool choose) {
    Generator gen(7);
    Linear layer(64, 64, gen);
    const Tensor x = Tensor::randn({512, 64}, gen);
    Adam opt(layer.parameters(), 1e-2f);
    ThreadChoice threads(2, /*pairs=*/2, /*block=*/2, /*warmup=*/1);
    LoopOptions o;
    if (choose) o.threads = &threads;
    std::vector<float> losses;
    o.on_step = [&](const StepResult& r) { losses.push_back(r.loss); };
    fit(
        opt, 12,
        [&](int64_t) {
          const Tensor y = layer.forward(x);
          return sum(mul(y, y));
        },
        o);
    if (choose) {
      CHECK(threads.decided());  // after 1 + 2·2·2 = 9 of the 12 steps
      CHECK(omp_get_max_threads() == threads.chosen());
    }
    std::vector<float> out = losses;
    for (const Tensor& p : layer.parameters())
      for (float v : p.to_vector()) out.push_back(v);
    return out;
  };
  const int before = omp_get_max_threads();
  const std::vector<float> plain = run(false), chosen = run(true);
  omp_set_num_threads(before);
  CHECK(plain == chosen);  // bit for bit: losses, then every parameter

  // A loop too short to choose (the choice needs 9 steps here) ends with every thread on, even
  // when its last step ran on one.
  Tensor p = Tensor::from_vector({1.f, 2.f}, {2}, true);
  SGD opt({p}, 0.1f);
  for (int64_t steps = 2; steps <= 5; ++steps) {
    ThreadChoice short_choice(3, /*pairs=*/2, /*block=*/2, /*warmup=*/1);
    LoopOptions o;
    o.threads = &short_choice;
    std::vector<int> counts;
    fit(
        opt, steps,
        [&](int64_t) {
          counts.push_back(omp_get_max_threads());
          return linear_loss(p, {1.f, 1.f});
        },
        o);
    CHECK_FALSE(short_choice.decided());
    CHECK(std::count(counts.begin(), counts.end(), 1) > 0);  // some step ran on one thread
    CHECK(omp_get_max_threads() == 3);
  }
  // A loop that ends while the steps are timed again ends on the count chosen last, even when
  // its last step ran on the other. The choice is driven to that point with made-up times (one
  // thread faster), so the real step times of fit() cannot change which case is tested.
  ThreadChoice again(3, /*pairs=*/2, /*block=*/2, /*warmup=*/0, /*retime_after=*/1);
  while (!again.decided()) again.took(again.next_threads() == 1 ? 0.001 : 0.002);
  REQUIRE(again.chosen() == 1);
  while (!again.timing()) again.took(again.next_threads() == 1 ? 0.001 : 0.002);
  while (again.next_threads() != 3) again.took(0.001);  // up to a step on the other count
  LoopOptions o;
  o.threads = &again;
  std::vector<int> counts;
  fit(
      opt, 1,
      [&](int64_t) {
        counts.push_back(omp_get_max_threads());
        return linear_loss(p, {1.f, 1.f});
      },
      o);
  REQUIRE(counts.size() == 1);
  CHECK(counts[0] == 3);  // the loop's one step ran on the other count
  CHECK(again.timing());  // and left the timing unfinished
  CHECK(omp_get_max_threads() == 1);
  omp_set_num_threads(before);
}
