// The training step and the loop around it (chapter 12), used by train_translator, the
// chapter programs, the benchmark and the tests alike: one place that says what a step is.
//
//   opt.zero_grad(); loss.backward(); clip the gradient norm; opt.step()
//
// A step whose loss or gradient norm is NaN or infinite is not taken and is reported as a
// value (StepResult::finite == false), not as an exception: the caller knows what a diverged
// run means for it (train_translator names the last good checkpoint and stops).
#pragma once

#include <cstdint>
#include <functional>

#include "autograd/tensor.h"
#include "nn/optim.h"
#include "nn/thread_choice.h"

namespace qkv::nn {

struct StepResult {
  int64_t step = 0;      // which step (counting from 1), as the loop numbers them
  float loss = 0.f;      // the loss before the update
  double grad_norm = 0;  // the global gradient norm before clipping (0 when not computed)
  bool finite = true;    // false: the loss or the gradient was NaN/inf; nothing was updated
};

// One optimizer step on a scalar loss that came out of a forward pass. clip > 0 scales the
// gradients to that global norm at most (clip_grad_norm); the norm is measured either way.
StepResult train_step(Optimizer& opt, const Tensor& loss, double clip = 0);

// The same for a step whose forward and backward passes run together, as training in shards
// does (nn/data_parallel.h): after zero_grad, forward_backward() runs both and returns the
// loss. If the loss is NaN or infinite, it must not have differentiated (backward_in_shards
// checks every shard's loss first), and no step is taken.
StepResult train_step_in_shards(Optimizer& opt, const std::function<float()>& forward_backward,
                                double clip = 0);

struct LoopOptions {
  int64_t first_step = 1;                          // > 1 when resuming
  double clip = 0;                                 // see train_step
  std::function<float(int64_t step)> lr;           // empty: opt.lr is left as it is
  std::function<void(const StepResult&)> on_step;  // after every finite step
  std::function<bool()> stop;       // asked after on_step; true ends the loop there (a Ctrl-C)
  ThreadChoice* threads = nullptr;  // given: it sets the thread count of every step, and after
                                    // the loop the one it chose (all of them if it had not yet
                                    // chosen); see thread_choice.h
};

// Steps first_step … last_step: for each, opt.lr = lr(step), loss = loss_at(step), then
// train_step. Returns the last step's result; stops early at, and returns, a non-finite one,
// or the step after which stop() said true.
StepResult fit(Optimizer& opt, int64_t last_step, const std::function<Tensor(int64_t)>& loss_at,
               const LoopOptions& options = {});
// The same loop with train_step_in_shards: forward_backward_at(step) runs the step's forward
// and backward passes and returns its loss (seq2seq_backward_in_shards, for one).
StepResult fit_in_shards(Optimizer& opt, int64_t last_step,
                         const std::function<float(int64_t)>& forward_backward_at,
                         const LoopOptions& options = {});

}  // namespace qkv::nn
