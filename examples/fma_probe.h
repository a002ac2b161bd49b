// The machine's own FP32 FMA peak, and how much of a second core it gives right now (chapter 03
// measures the GEMM against it; chapter 14 the two-thread step). Shared by bench_kernels and
// bench_train.
#pragma once

#include <omp.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace qkv::app {

// kChains independent accumulators, each one vector register of the widest kind the CPU
// has (zmm, 16 floats, with AVX-512): an FMA takes 4 cycles and a core starts 2 per cycle,
// so at least 8 must be in flight; 12 leaves slack. Each lane computes x = x·m + a over and
// over; the values stay finite and the compiler cannot shorten the chain. Intrinsics here
// (with a portable fallback) so that the peak is the hardware's, whatever vector width the
// compiler would have chosen for a plain loop.
constexpr int kChains = 12;
#if defined(__AVX512F__)
constexpr int kLanes = 16;
inline float fma_loop(int64_t iters, float m, float a) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.01f * static_cast<float>(c));
  const __m512 vm = _mm512_set1_ps(m), va = _mm512_set1_ps(a);
  for (int64_t it = 0; it < iters; ++it)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], vm, va);
  alignas(64) float out[16];
  float s = 0.f;
  for (int c = 0; c < kChains; ++c) {
    _mm512_store_ps(out, acc[c]);
    for (float x : out) s += x;
  }
  return s;
}
#elif defined(__AVX__) && defined(__FMA__)
constexpr int kLanes = 8;
inline float fma_loop(int64_t iters, float m, float a) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(0.01f * static_cast<float>(c));
  const __m256 vm = _mm256_set1_ps(m), va = _mm256_set1_ps(a);
  for (int64_t it = 0; it < iters; ++it)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], vm, va);
  alignas(32) float out[8];
  float s = 0.f;
  for (int c = 0; c < kChains; ++c) {
    _mm256_store_ps(out, acc[c]);
    for (float x : out) s += x;
  }
  return s;
}
#else
constexpr int kLanes = 4;
inline float fma_loop(int64_t iters, float m, float a) {
  float acc[kChains][kLanes];
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) acc[c][l] = 0.01f * static_cast<float>(c + l);
  for (int64_t it = 0; it < iters; ++it)
    for (int c = 0; c < kChains; ++c) {
#pragma omp simd
      for (int l = 0; l < kLanes; ++l) acc[c][l] = std::fma(acc[c][l], m, a);
    }
  float s = 0.f;
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) s += acc[c][l];
  return s;
}
#endif

// FLOP/s of fma_loop on `threads` threads at once, best of `reps`, each run `iters` steps of
// the loop per thread (4M: ~10 ms at ~200 GFLOP/s).
inline double fma_peak(int threads, int reps, int64_t iters = 4'000'000) {
  volatile float m = 0.9999f, a = 1e-4f;
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    float sink = 0.f;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += fma_loop(iters, m, a);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!std::isfinite(sink)) std::printf("(non-finite FMA loop result)\n");
    best = std::max(best, 2.0 * kChains * kLanes * static_cast<double>(iters) * threads / s);
  }
  return best;
}

// The FMA loop's throughput (FLOP/s) on one thread and on two at this moment, each run for
// `iters` steps of the loop per thread (400k: ~1 ms). The two-thread figure is both loops' work
// over the time from their start, together once both threads have arrived, to the later end: a
// thread woken from sleep can take a few hundred microseconds to arrive, which timing the whole
// region would count against the machine. (Adding what each thread timed of its own loop, as a
// first version did, credits a machine that runs the two loops one after the other with two
// cores: under the sanitizers that gave 2.6.) The one-thread figure is the better of two runs,
// one before the pair and one after, so that a moment's slowdown of one run does not inflate
// the ratio.
struct OneAndTwo {
  double one, two;
};
inline OneAndTwo fma_one_and_two(int64_t iters = 400'000) {
  using Clock = std::chrono::steady_clock;
  const double one_before = fma_peak(1, 1, iters);
  volatile float m = 0.9999f, a = 1e-4f;
  std::atomic<int> arrived{0};
  Clock::time_point start, end[2];
  float sink = 0.f;
#pragma omp parallel num_threads(2) reduction(+ : sink)
  {
    const int t = omp_get_thread_num();
    // The last to arrive reads the clock before it lets the other go, so no loop starts before it.
    const Clock::time_point now = Clock::now();
    if (arrived.fetch_add(1) + 1 == omp_get_num_threads()) start = now;
    while (arrived.load() < omp_get_num_threads()) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
    sink += fma_loop(iters, m, a);
    end[t] = Clock::now();
  }
  if (!std::isfinite(sink)) std::printf("(non-finite FMA loop result)\n");
  const int threads = end[1] == Clock::time_point{} ? 1 : 2;  // a team of one: no second loop
  const double s = std::chrono::duration<double>(std::max(end[0], end[1]) - start).count();
  const double two = 2.0 * kChains * kLanes * static_cast<double>(iters) * threads / s;
  return {std::max(one_before, fma_peak(1, 1, iters)), two};
}

// How much of a second core the machine gives at this moment: 2 on a quiet machine; on a
// shared host, down to 1 where the host runs both of our cores on one of its own (seen for
// minutes at a time, chapter 14, the eleventh round).
inline double two_core_ratio_now(int64_t iters = 400'000) {
  const OneAndTwo r = fma_one_and_two(iters);
  return r.two / r.one;
}

// Microseconds for one cache line's round trip between the two threads' cores (thread 0 writes
// a flag, thread 1 writes it back), the median of `runs`. It says how far apart the host has
// put the two cores: on this project's AMD EPYC host it was 0.15 to 0.17 µs at some times and
// 0.55 to 0.58 µs at others, and with it the time to read another core's freshly written data
// (chapter 14, the thirteenth round). 0 on fewer than two threads.
inline double round_trip_us(int runs = 200) {
  using Clock = std::chrono::steady_clock;
  alignas(64) std::atomic<int> ping{0};
  alignas(64) std::atomic<int> pong{0};
  std::vector<double> us;
  int threads = 1;
#pragma omp parallel num_threads(2)
  {
    const int t = omp_get_thread_num();
#pragma omp single
    threads = omp_get_num_threads();
    for (int i = 1; threads == 2 && i <= runs + 10; ++i) {
      if (t == 0) {
        const auto t0 = Clock::now();
        ping.store(i, std::memory_order_release);
        while (pong.load(std::memory_order_acquire) != i) {
        }
        const auto t1 = Clock::now();
        if (i > 10) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      } else {
        while (ping.load(std::memory_order_acquire) != i) {
        }
        pong.store(i, std::memory_order_release);
      }
    }
  }
  if (us.empty()) return 0;
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

}  // namespace qkv::app
