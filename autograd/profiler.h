// A per-op profiler (chapter 14): where does a training step's time go?
//
// Each op opens a ProfileScope with its name; backward() opens one per node it runs. Time
// is exclusive: an op that calls other ops (softmax on a middle axis calls transpose) is
// charged only for its own work. So are the multiply-adds its GEMM calls did (from
// kernels::gemm_macs_done), which turns an op's time into GFLOP/s. Off by default; when off
// a scope costs one branch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qkv {

struct ProfileEntry {
  std::string name;  // "matmul", "matmul (backward)"
  int64_t calls = 0;
  double seconds = 0;
  int64_t gemm_macs = 0;  // multiply-adds done by GEMM kernels inside this op (0: none)
};

void profiler_enable(bool on);
void profiler_reset();
std::vector<ProfileEntry> profiler_report();  // most time first

class ProfileScope {
 public:
  explicit ProfileScope(const char* name, bool backward = false);
  ~ProfileScope();
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  bool active_;
};

}  // namespace qkv
