#include "nn/train.h"

#include <omp.h>

#include <chrono>
#include <cmath>

namespace qkv::nn {

namespace {

// After the backward pass: the gradient norm (clipped to `clip` when > 0), then the update if
// the norm is finite.
StepResult finish_step(Optimizer& opt, StepResult r, double clip) {
  r.grad_norm = clip > 0 ? clip_grad_norm(opt.params(), clip) : grad_norm(opt.params());
  r.finite = std::isfinite(r.grad_norm);
  if (r.finite) opt.step();
  return r;
}

// fit's loop, with `step_at(step)` taking the step.
StepResult loop(Optimizer& opt, int64_t last_step,
                const std::function<StepResult(int64_t)>& step_at, const LoopOptions& options);

}  // namespace

StepResult train_step(Optimizer& opt, const Tensor& loss, double clip) {
  StepResult r;
  r.loss = loss.item();
  r.finite = std::isfinite(r.loss);
  if (!r.finite) return r;  // no backward through a NaN: nothing to learn from it
  opt.zero_grad();
  loss.backward();
  return finish_step(opt, r, clip);
}

StepResult train_step_in_shards(Optimizer& opt, const std::function<float()>& forward_backward,
                                double clip) {
  opt.zero_grad();
  StepResult r;
  r.loss = forward_backward();
  r.finite = std::isfinite(r.loss);
  if (!r.finite) return r;
  return finish_step(opt, r, clip);
}

StepResult fit(Optimizer& opt, int64_t last_step, const std::function<Tensor(int64_t)>& loss_at,
               const LoopOptions& options) {
  return loop(
      opt, last_step, [&](int64_t step) { return train_step(opt, loss_at(step), options.clip); },
      options);
}

StepResult fit_in_shards(Optimizer& opt, int64_t last_step,
                         const std::function<float(int64_t)>& forward_backward_at,
                         const LoopOptions& options) {
  return loop(
      opt, last_step,
      [&](int64_t step) {
        return train_step_in_shards(
            opt, [&] { return forward_backward_at(step); }, options.clip);
      },
      options);
}

namespace {

StepResult loop(Optimizer& opt, int64_t last_step,
                const std::function<StepResult(int64_t)>& step_at, const LoopOptions& options) {
  // A loop that ends while the steps are being timed leaves the count chosen last (every
  // thread before the first choice), not the count of its last timed step.
  struct RestoreChosenCount {
    ThreadChoice* choice;
    ~RestoreChosenCount() {
      if (choice && choice->timing())
        omp_set_num_threads(choice->decided() ? choice->chosen() : choice->threads());
    }
  } restore{options.threads};
  StepResult r;
  for (int64_t step = options.first_step; step <= last_step; ++step) {
    if (options.lr) opt.lr = options.lr(step);
    if (options.threads) omp_set_num_threads(options.threads->next_threads());
    const auto t0 = std::chrono::steady_clock::now();
    r = step_at(step);
    if (options.threads)
      options.threads->took(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    r.step = step;
    if (!r.finite) return r;
    if (options.on_step) options.on_step(r);
    if (options.stop && options.stop()) return r;
  }
  return r;
}

}  // namespace

}  // namespace qkv::nn
