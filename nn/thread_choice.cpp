#include "nn/thread_choice.h"

#include <algorithm>
#include <cstdint>

namespace qkv::nn {

ThreadChoice::ThreadChoice(int threads, int64_t pairs, int64_t block, int64_t warmup,
                           double retime_after)
    : threads_(std::max(1, threads)),
      pairs_(std::max<int64_t>(1, pairs)),
      block_(std::max<int64_t>(2, block)),
      warmup_(std::max<int64_t>(0, warmup)),
      retime_after_(std::max(0.0, retime_after)) {
  if (threads_ == 1) chosen_ = first_choice_ = 1, timing_ = false;  // nothing to choose
}

int ThreadChoice::next_threads() {
  if (!timing_) return current_ = chosen_;
  const int64_t warm = choices_ == 0 ? warmup_ : 0;  // a timing again needs no warm-up
  if (phase_step_ < warm) return current_ = threads_;
  // Block b = (phase_step_ - warm) / block_ belongs to pair b / 2: one block on each count,
  // which first drawn from the pair's number (a fixed hash: the same order every run).
  const int64_t b = (phase_step_ - warm) / block_;
  const uint64_t pair = static_cast<uint64_t>(b / 2);
  const bool one_first = (((pair + 1) * 0x9E3779B97F4A7C15ull) >> 63) != 0;
  return current_ = ((b % 2 == 0) == one_first) ? 1 : threads_;
}

void ThreadChoice::took(double seconds) {
  if (current_ > 0) ++steps_on_[current_ == 1 ? 0 : 1];
  if (!timing_) {
    since_choice_ += seconds;
    if (retime_after_ > 0 && since_choice_ >= retime_after_ * timing_seconds_) {
      timing_ = true;  // time both counts again from the next step
      phase_step_ = 0;
      timing_seconds_ = 0;
      one_.clear();
      many_.clear();
    }
    return;
  }
  const int64_t i = phase_step_++ - (choices_ == 0 ? warmup_ : 0);
  if (i < 0) return;  // a warm-up step
  timing_seconds_ += seconds;
  if (i % block_ == 0) return;  // the first step of its block: timed, not counted
  (current_ == 1 ? one_ : many_).push_back(seconds);
  if (i + 1 < 2 * block_ * pairs_) return;
  last_[0] = median(one_);
  last_[1] = median(many_);
  const int choice = last_[0] <= last_[1] ? 1 : threads_;
  if (choices_ == 0) first_[0] = last_[0], first_[1] = last_[1], first_choice_ = choice;
  if (choices_ > 0 && choice != chosen_) ++switches_;
  chosen_ = choice;
  ++choices_;
  timing_ = false;
  since_choice_ = 0;
}

double ThreadChoice::median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace qkv::nn
