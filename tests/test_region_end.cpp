// The main thread's wait at the end of a parallel region (kernels/parallel.h, chapter 14).
#include <omp.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "autograd/kernels/parallel.h"
#include "tests/catch.h"

using qkv::kernels::g_join_backoff;
using qkv::kernels::g_join_skip;
using qkv::kernels::RegionEnd;

namespace {

// One region of 2 threads; thread 1 waits `worker_delay` before it is done. Returns whether
// thread 1 had called done() when thread 0's done() returned.
bool region(std::chrono::microseconds worker_delay) {
  RegionEnd end;
  std::atomic<bool> worker_done{false};
  bool seen = false;
#pragma omp parallel num_threads(2)
  {
    const int t = omp_get_thread_num();
    if (t == 1) {
      std::this_thread::sleep_for(worker_delay);
      worker_done.store(true);
    }
    end.done(t);
    if (t == 0) seen = worker_done.load();
  }
  return seen;
}

}  // namespace

TEST_CASE("the main thread waits for the others at a region's end, within a bound, and backs off",
          "[ch14][parallel]") {
  g_join_skip = 0;
  g_join_backoff = 1;
  // A worker that takes far longer than the bound: thread 0 stops waiting, and the next
  // regions (1, then 2, then 4 after each further timeout) do not wait at all.
  REQUIRE_FALSE(region(std::chrono::milliseconds(50)));
  REQUIRE(g_join_skip == 1);
  REQUIRE(g_join_backoff == 2);
  REQUIRE_FALSE(region(std::chrono::milliseconds(50)));  // skipped: no wait, one fewer to skip
  REQUIRE(g_join_skip == 0);
  REQUIRE_FALSE(region(std::chrono::milliseconds(50)));  // waits, times out again
  REQUIRE(g_join_skip == 2);
  REQUIRE(g_join_backoff == 4);
  for (int i = 0; i < 5; ++i) region(std::chrono::milliseconds(20));
  REQUIRE(g_join_backoff <= 16);  // the back-off stops growing at 16 regions
  // A worker that is done at once: thread 0 returns only after it, or, if the host kept the
  // worker from running within the bound, with the next regions set to skip.
  g_join_skip = 0;
  g_join_backoff = 1;
  int waited = 0, timed_out = 0;
  for (int i = 0; i < 50; ++i) {
    g_join_skip = 0;
    if (region(std::chrono::microseconds(0))) {
      ++waited;
    } else {
      ++timed_out;
      REQUIRE(g_join_skip > 0);
    }
  }
  REQUIRE(waited + timed_out == 50);
  REQUIRE(waited > 0);
  g_join_skip = 0;
  g_join_backoff = 1;
}

TEST_CASE("a region's end on one thread returns at once", "[ch14][parallel]") {
  RegionEnd end;
  g_join_skip = 0;
#pragma omp parallel num_threads(1)
  end.done(omp_get_thread_num());
  REQUIRE(g_join_skip == 0);
}
