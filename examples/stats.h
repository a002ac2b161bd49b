// The median of a run's timings, shared by the benchmarks: robust to the few runs a busy host
// slows down, which a mean is not (chapter 14).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace qkv::app {

// The middle value (the upper of the two middle ones for an even count); v must not be empty.
inline double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace qkv::app
