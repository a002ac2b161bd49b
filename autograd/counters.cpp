#include "autograd/counters.h"

#include <atomic>

namespace qkv {

namespace {
std::atomic<int64_t> g_macs{0};
}

void add_macs(int64_t n) { g_macs += n; }
int64_t macs() { return g_macs.load(); }
void reset_macs() { g_macs = 0; }

}  // namespace qkv
