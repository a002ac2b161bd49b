// One thread or two? Timed on the run itself, not guessed (chapter 14, the ninth round).
//
// Whether a second core pays depends on the model's size, the CPU and the machine's other work:
// `make train`'s model took 15.7-27.7 s on two threads against 24.1-29.0 s on one on the Intel
// Xeon (chapter 12, "Threads"), and 6.4-7.1 s against 5.0-6.5 s on the AMD EPYC Zen 5. So a
// training loop given a ThreadChoice (LoopOptions::threads) runs its first steps in blocks,
// alternately on one and on n threads, the order of each pair of blocks drawn from the pair's
// number (steps seconds apart see the same machine, and neither count always goes first), and
// then keeps the count whose median step was shorter. The first step of each block is not
// counted: it finds its data in the caches the other count left. (Alternating every step,
// `make train` measured 4.2 ms a step on one thread and 3.4 on two, and chose two, while whole
// runs trained in 5.1-5.7 s on one and 5.9-6.2 s on two.) No number depends on the thread count
// (tests hold every op to that), so the choice changes the time and nothing else.
#pragma once

#include <cstdint>
#include <vector>

namespace qkv::nn {

class ThreadChoice {
 public:
  // Chooses between 1 and `threads` after `warmup` steps on `threads` (allocations, caches)
  // and `pairs` pairs of blocks of `block` steps, one block on each count. With retime_after
  // > 0 it times them again, the same way (without the warm-up), each time the steps since the
  // last choice took retime_after times as long as that timing did, and keeps the faster again:
  // the host can change what a second core is worth in the middle of a run (chapter 14, the
  // thirteenth round). At most 1 / (1 + retime_after) of the time after the first choice then
  // goes to timing (the first timing's warm-up steps are not counted as timing).
  ThreadChoice(int threads, int64_t pairs = 4, int64_t block = 6, int64_t warmup = 4,
               double retime_after = 0);

  int next_threads();         // the thread count for the next step (the caller sets it)
  void took(double seconds);  // the step that next_threads() was asked for took this long
  bool decided() const { return chosen_ > 0; }
  int chosen() const { return chosen_; }  // the latest choice; 0 while the first is being timed
  int first_choice() const { return first_choice_; }  // the first choice; 0 until it is made
  int threads() const { return threads_; }
  bool timing() const { return timing_; }  // the steps are being timed (first or again)
  // The medians, in seconds, of the timing that made the first choice and of the latest one;
  // 0 before any.
  double median_1() const { return first_[0]; }
  double median_n() const { return first_[1]; }
  double last_median_1() const { return last_[0]; }
  double last_median_n() const { return last_[1]; }
  int choices() const { return choices_; }               // timings completed, the first included
  int switches() const { return switches_; }             // choices that changed the count
  int64_t steps_on_one() const { return steps_on_[0]; }  // steps run on 1 thread
  int64_t steps_on_n() const { return steps_on_[1]; }    // and on `threads`

 private:
  static double median(std::vector<double> v);
  int threads_;
  int64_t pairs_, block_, warmup_;
  double retime_after_;
  bool timing_ = true;
  int64_t phase_step_ = 0;  // steps into the current timing
  double timing_seconds_ = 0, since_choice_ = 0;
  int current_ = 0, chosen_ = 0, first_choice_ = 0, choices_ = 0, switches_ = 0;
  int64_t steps_on_[2] = {0, 0};
  double first_[2] = {0, 0}, last_[2] = {0, 0};
  std::vector<double> one_, many_;
};

}  // namespace qkv::nn
