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
  // and `pairs` pairs of blocks of `block` steps, one block on each count.
  ThreadChoice(int threads, int64_t pairs = 4, int64_t block = 6, int64_t warmup = 4);

  int next_threads();         // the thread count for the next step (the caller sets it)
  void took(double seconds);  // the step that next_threads() was asked for took this long
  bool decided() const { return chosen_ > 0; }
  int chosen() const { return chosen_; }  // 0 while the steps are still being timed
  int threads() const { return threads_; }
  double median_1() const { return median(one_); }  // seconds; 0 before any step on 1 thread
  double median_n() const { return median(many_); }

 private:
  static double median(std::vector<double> v);
  int threads_;
  int64_t pairs_, block_, warmup_, steps_ = 0;
  int current_ = 0, chosen_ = 0;
  std::vector<double> one_, many_;
};

}  // namespace qkv::nn
