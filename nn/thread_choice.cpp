#include "nn/thread_choice.h"

#include <algorithm>
#include <cstdint>

namespace qkv::nn {

ThreadChoice::ThreadChoice(int threads, int64_t pairs, int64_t block, int64_t warmup)
    : threads_(std::max(1, threads)),
      pairs_(std::max<int64_t>(1, pairs)),
      block_(std::max<int64_t>(2, block)),
      warmup_(std::max<int64_t>(0, warmup)) {
  if (threads_ == 1) chosen_ = 1;  // nothing to choose
}

int ThreadChoice::next_threads() {
  if (chosen_ > 0) return current_ = chosen_;
  if (steps_ < warmup_) return current_ = threads_;
  // Block b = (steps_ - warmup_) / block_ belongs to pair b / 2: one block on each count, which
  // first drawn from the pair's number (a fixed hash: the same order every run).
  const int64_t b = (steps_ - warmup_) / block_;
  const uint64_t pair = static_cast<uint64_t>(b / 2);
  const bool one_first = (((pair + 1) * 0x9E3779B97F4A7C15ull) >> 63) != 0;
  return current_ = ((b % 2 == 0) == one_first) ? 1 : threads_;
}

void ThreadChoice::took(double seconds) {
  if (chosen_ > 0) return;
  const int64_t i = steps_++ - warmup_;
  if (i < 0 || i % block_ == 0) return;  // a warm-up step, or the first of its block
  (current_ == 1 ? one_ : many_).push_back(seconds);
  if (i + 1 == 2 * block_ * pairs_) chosen_ = median(one_) <= median(many_) ? 1 : threads_;
}

double ThreadChoice::median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace qkv::nn
