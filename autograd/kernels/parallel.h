// When is a loop worth splitting across threads? (chapter 14)
//
// Opening an OpenMP parallel region costs microseconds: waking the other threads and
// waiting for all of them at the end, far more when they sleep between regions
// (OMP_WAIT_POLICY=passive) or share the cores with other programs; an element-wise loop
// over 30,000 floats takes about as long. So every row-wise and element-wise kernel stays on
// one thread below kParallelMin elements of work; only the GEMM, whose work grows as M·N·K,
// decides for itself (gemm.cpp). Chapter 14 ("The fifth round") timed 2^13 to 2^20 step by step
// against 2^15 at the tiny and small models, two threads: 2^13 and 2^14 the same, 2^17 up to
// 10% slower at small, 2^20 14-29% slower.
//
// Where each row is computed decides where it lives: the block a thread writes in one op is the
// block it reads in the next from its own cache, if the next op gives it the same rows; otherwise
// it reads them from the other core's, 3.5 times as slow on the AMD EPYC Zen 5 (bench_kernels'
// first line). So every row-wise loop keeps thread 0 on the first rows and thread 1 on the last.
// The loops of simple per-element or per-row work (element-wise, softmax, bias and activation,
// dropout) split in equal static blocks. The GEMM, LayerNorm, attention's (batch, head) pairs and
// cross-entropy claim their items from both ends (below): on two threads the faster core then also
// takes more when the host runs one core 1.17 to 1.39 times as fast as the other (chapter 14, the
// sixth round, Intel Xeon); on more threads they split equally. Every row is still computed whole
// by one thread, so the results do not depend on who takes which.
// Attention, LayerNorm's forward and cross-entropy used schedule(guided) until chapter 14's twelfth
// round. Its first chunk goes to whichever thread asks first, which was thread 1, already spinning
// while thread 0 opened the region: the rows the GEMMs had written on core 0 were read on core 1.
// Claims from both ends made the step 1.8 to 2.4% faster at the tiny model, 4.0 to 4.6% at small,
// 1.3 to 1.4% at base (AMD EPYC Zen 5, every other step of one run).
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace qkv::kernels {

#ifndef QKV_PARALLEL_MIN
#define QKV_PARALLEL_MIN (1 << 15)
#endif
constexpr int64_t kParallelMin = QKV_PARALLEL_MIN;

// The end of a region's work (chapter 14, the seventh round). With OMP_WAIT_POLICY=passive a
// thread that waits sleeps, and the region's closing barrier then costs the main thread a
// wake-up (about 6 µs here) whenever another thread finishes after it, which is most of the
// time: the other thread started about 6 µs late, woken at the region's start. So the other
// threads report here as they finish, and the main thread, which has nothing else to do,
// spins until they have and so reaches the barrier last, where nobody needs to wake it.
// It spins for kJoinSpinSeconds at most: a thread the host has descheduled (other programs
// busy on the cores) is waited for asleep, as before, and after a spin that timed out the
// next regions do not spin at all, 1, 2, 4, … up to 16 of them, until one succeeds again.
// Every thread of the region calls done(its thread number) as its last step; the object lives
// in the function that opens the region. Nothing is computed differently, only waited for.
// (Timed step by step on two threads: tiny 1.015 to 1.033, small 0.999 to 1.016 as fast; with
// a third program busy on the cores 0.98 to 1.01. Without the back-off, 0.945 to 0.970 there,
// with caps of 20 and 8 µs.)
constexpr double kJoinSpinSeconds = 15e-6;

// The back-off, apart from the timing so that a test can drive it: whether the main thread of
// the next region spins, and what a spin that ran out or one that succeeded changes.
class JoinBackoff {
 public:
  static constexpr int kMaxSkip = 16;
  bool spin_next() {  // false: skip this region's spin (one fewer left to skip)
    const int skip = skip_.load(std::memory_order_relaxed);
    if (skip == 0) return true;
    skip_.store(skip - 1, std::memory_order_relaxed);
    return false;
  }
  void ran_out() {  // skip the next `backoff` regions, and twice as many after the next time
    const int backoff = backoff_.load(std::memory_order_relaxed);
    skip_.store(backoff, std::memory_order_relaxed);
    backoff_.store(backoff < kMaxSkip ? 2 * backoff : backoff, std::memory_order_relaxed);
  }
  void succeeded() { backoff_.store(1, std::memory_order_relaxed); }
  int skip() const { return skip_.load(std::memory_order_relaxed); }
  int backoff() const { return backoff_.load(std::memory_order_relaxed); }
  void reset() {
    skip_.store(0, std::memory_order_relaxed);
    backoff_.store(1, std::memory_order_relaxed);
  }

 private:
  // Atomics, though only thread 0 of a region touches them: a program may run regions from
  // more than one thread of its own.
  std::atomic<int> skip_{0}, backoff_{1};
};
inline JoinBackoff g_join_backoff;

class RegionEnd {
 public:
  void done(int thread) {
    if (thread != 0) {
      others_done_.fetch_add(1, std::memory_order_release);
      return;
    }
    const int others = omp_get_num_threads() - 1;
    if (others_done_.load(std::memory_order_acquire) >= others) return;
    if (!g_join_backoff.spin_next()) return;
    const double t0 = omp_get_wtime();
    while (others_done_.load(std::memory_order_acquire) < others) {
      if (omp_get_wtime() - t0 > kJoinSpinSeconds) return g_join_backoff.ran_out();
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
    g_join_backoff.succeeded();
  }

 private:
  std::atomic<int> others_done_{0};
};

// ---- Claims from both ends (chapter 14, the eighth and tenth rounds) ----
// Two threads share `n` items (row tiles of a product, groups of rows) by claiming them from
// opposite ends, a quarter of what is left at a time and at least `min_claim`: thread 0's items
// grow down from item 0, thread 1's up from item n, until the two edges meet. Each keeps to its
// own end, the rows it wrote in the op before if that op split its rows in halves; and the one
// that started late, or runs slower while the host is busy, does fewer. body(first, last) is
// called for each claim. The claims are one sequence of fetch_adds on `taken`, so those that
// start below n are disjoint and add up to exactly n. No data passes through `taken` (the
// items' outputs are disjoint; the region's closing barrier publishes them): relaxed order
// suffices. One counter per loop, made before the region and passed by both threads.
struct alignas(64) EndClaims {  // a cache line of its own: both threads write it
  std::atomic<int64_t> taken{0};
};
template <class Body>
void claim_from_ends(EndClaims& claims, int64_t n, int t, int64_t min_claim, Body&& body) {
  int64_t edge = t == 0 ? 0 : n;  // this thread's next item: top edge for 0, bottom for 1
  for (;;) {
    const int64_t left = n - claims.taken.load(std::memory_order_relaxed);
    const int64_t want = std::max(min_claim, left / 4);
    const int64_t first = claims.taken.fetch_add(want, std::memory_order_relaxed);
    if (first >= n) return;
    const int64_t got = std::min(want, n - first);
    const int64_t r0 = t == 0 ? edge : edge - got;
    edge = t == 0 ? r0 + got : r0;
    body(r0, r0 + got);
  }
}

// Loops shared from both ends by share_items so far, counted once per loop (by thread 0): the
// tests' proof that an op takes this path. Relaxed: a tally, never used to order memory; one
// uncontended add per loop, against the loop's microseconds of work.
inline std::atomic<int64_t> g_shared_from_ends{0};
inline int64_t loops_shared_from_ends() {
  return g_shared_from_ends.load(std::memory_order_relaxed);
}

// Items [0, n) shared by the threads of a region: claimed from both ends on two threads, in
// fixed equal shares otherwise. body(first, last) as above.
template <class Body>
void share_items(EndClaims& claims, int64_t n, int t, int threads, Body&& body) {
  if (threads == 2) {
    if (t == 0) g_shared_from_ends.fetch_add(1, std::memory_order_relaxed);
    return claim_from_ends(claims, n, t, 1, body);
  }
  const int64_t first = n * t / threads, last = n * (t + 1) / threads;
  if (first < last) body(first, last);
}

// A parallel region of its own (when `use_threads`) over items [0, n), shared as share_items
// shares them, with RegionEnd's wait at its end: the whole loop of a row-wise kernel that has
// nothing else to do in its region (attention's pairs, cross-entropy's rows, LayerNorm's
// forward, dropout_add_layer_norm's forward). body(first, last) as above.
template <class Body>
void parallel_for_items(int64_t n, bool use_threads, Body&& body) {
  EndClaims claims;
  RegionEnd end;
#pragma omp parallel if (use_threads)
  {
    const int t = omp_get_thread_num();
    share_items(claims, n, t, omp_get_num_threads(), body);
    end.done(t);
  }
}

}  // namespace qkv::kernels
