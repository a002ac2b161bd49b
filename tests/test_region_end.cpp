// The main thread's wait at the end of a parallel region (kernels/parallel.h, chapter 14).
// No test here depends on timing: where the main thread must find the other thread still
// working, the other thread waits for the main thread's done() to return first.
#include <omp.h>

#include <atomic>

#include "autograd/kernels/parallel.h"
#include "tests/catch.h"

using qkv::kernels::g_join_backoff;
using qkv::kernels::JoinBackoff;
using qkv::kernels::RegionEnd;

TEST_CASE("after a spin runs out, the next 1, 2, 4, ... 16 regions do not spin",
          "[ch14][parallel]") {
  JoinBackoff b;
  REQUIRE(b.spin_next());
  b.ran_out();
  REQUIRE((b.skip() == 1 && b.backoff() == 2));
  REQUIRE_FALSE(b.spin_next());
  REQUIRE(b.spin_next());
  b.ran_out();
  REQUIRE((b.skip() == 2 && b.backoff() == 4));
  for (int expected : {4, 8, 16, 16, 16}) {
    while (!b.spin_next()) {
    }
    b.ran_out();
    REQUIRE(b.skip() == expected);
  }
  REQUIRE(b.backoff() == JoinBackoff::kMaxSkip);
  b.succeeded();  // a spin that succeeds starts the back-off over
  REQUIRE(b.backoff() == 1);
}

namespace {

enum class Order { worker_first, main_first };

// One region of two threads. worker_first: thread 0 calls done() only after thread 1 has;
// main_first: thread 1 calls done() only after thread 0's has returned, so thread 0 finds it
// still working. Returns false if the runtime gave fewer than two threads.
bool region(Order order) {
  RegionEnd end;
  std::atomic<bool> worker_done{false}, main_done{false};
  bool two = true;
#pragma omp parallel num_threads(2)
  {
    if (omp_get_num_threads() != 2) {
      two = false;
    } else if (omp_get_thread_num() == 1) {
      if (order == Order::main_first)
        while (!main_done.load()) {
        }
      end.done(1);
      worker_done.store(true);
    } else {
      if (order == Order::worker_first)
        while (!worker_done.load()) {
        }
      end.done(0);
      main_done.store(true);
    }
  }
  return two;
}

}  // namespace

TEST_CASE("the main thread spins for the other threads at a region's end, and backs off",
          "[ch14][parallel]") {
  g_join_backoff.reset();
  // The other thread is done already: nothing to wait for, the back-off is left as it is.
  for (int i = 0; i < 3; ++i) g_join_backoff.ran_out();  // skip 4, back-off 8
  if (!region(Order::worker_first)) {                    // Catch2 v2 has no SKIP
    WARN("not run: the OpenMP runtime gives a region one thread (OMP_THREAD_LIMIT?)");
    return;
  }
  REQUIRE((g_join_backoff.skip() == 4 && g_join_backoff.backoff() == 8));
  // Still working, and regions left to skip: no spin, one fewer to skip.
  REQUIRE(region(Order::main_first));
  REQUIRE((g_join_backoff.skip() == 3 && g_join_backoff.backoff() == 8));
  // Still working and nothing to skip: the spin runs out (the other thread waits for it).
  g_join_backoff.reset();
  REQUIRE(region(Order::main_first));
  REQUIRE((g_join_backoff.skip() == 1 && g_join_backoff.backoff() == 2));
  // A region on one thread (its if clause false) returns at once, the back-off untouched.
  {
    RegionEnd end;
#pragma omp parallel num_threads(2) if (false)
    end.done(omp_get_thread_num());
  }
  REQUIRE((g_join_backoff.skip() == 1 && g_join_backoff.backoff() == 2));
  g_join_backoff.reset();
}
