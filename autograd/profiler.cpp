#include "autograd/profiler.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "autograd/kernels/gemm.h"

namespace qkv {

namespace {
using Clock = std::chrono::steady_clock;
bool g_enabled = false;
struct Frame {
  std::string key;
  Clock::time_point start;
  int64_t start_macs = 0;
  double child_seconds = 0;
  int64_t child_macs = 0;
};
// Ops are called from one thread (OpenMP parallelism lives inside the kernels), so a plain
// stack and map suffice. Training in shards (nn/data_parallel.h) calls ops from every thread
// of a region: then only thread 0's ops, its shards', are timed.
std::vector<Frame> g_stack;
std::map<std::string, ProfileEntry> g_table;
}  // namespace

void profiler_enable(bool on) { g_enabled = on; }
void profiler_reset() { g_table.clear(); }

std::vector<ProfileEntry> profiler_report() {
  std::vector<ProfileEntry> out;
  for (auto& [key, e] : g_table) out.push_back(e);
  std::stable_sort(out.begin(), out.end(), [](const ProfileEntry& a, const ProfileEntry& b) {
    return a.seconds > b.seconds;
  });
  return out;
}

ProfileScope::ProfileScope(const char* name, bool backward)
    : active_(g_enabled && omp_get_thread_num() == 0) {
  if (!active_) return;
  g_stack.push_back({backward ? std::string(name) + " (backward)" : std::string(name), Clock::now(),
                     kernels::gemm_macs_done_here(), 0, 0});
}

ProfileScope::~ProfileScope() {
  if (!active_) return;
  Frame f = std::move(g_stack.back());
  g_stack.pop_back();
  const double total = std::chrono::duration<double>(Clock::now() - f.start).count();
  const int64_t macs = kernels::gemm_macs_done_here() - f.start_macs;
  ProfileEntry& e = g_table[f.key];
  e.name = f.key;
  e.calls += 1;
  e.seconds += total - f.child_seconds;
  e.gemm_macs += macs - f.child_macs;
  if (!g_stack.empty()) {
    g_stack.back().child_seconds += total;
    g_stack.back().child_macs += macs;
  }
}

}  // namespace qkv
