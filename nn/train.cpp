#include "nn/train.h"

#include <omp.h>

#include <chrono>
#include <cmath>

namespace qkv::nn {

StepResult train_step(Optimizer& opt, const Tensor& loss, double clip) {
  StepResult r;
  r.loss = loss.item();
  r.finite = std::isfinite(r.loss);
  if (!r.finite) return r;  // no backward through a NaN: nothing to learn from it
  opt.zero_grad();
  loss.backward();
  r.grad_norm = clip > 0 ? clip_grad_norm(opt.params(), clip) : grad_norm(opt.params());
  r.finite = std::isfinite(r.grad_norm);
  if (r.finite) opt.step();
  return r;
}

StepResult fit(Optimizer& opt, int64_t last_step, const std::function<Tensor(int64_t)>& loss_at,
               const LoopOptions& options) {
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
    r = train_step(opt, loss_at(step), options.clip);
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

}  // namespace qkv::nn
