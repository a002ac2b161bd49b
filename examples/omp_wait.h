// How OpenMP's threads wait between parallel regions, chosen once when an app starts
// (chapter 14, "The ninth round").
//
// A training step opens 130 to 180 parallel regions. Between two of them the second thread
// has nothing to do, and how it waits decides what the next region's start costs:
//   - spinning (libgomp's default: about 300,000 pause instructions, milliseconds) starts the
//     next region at once on an idle machine, and on a busy one takes a core from the other
//     programs and then waits for it back (measured: 200 steps took 15 s passive, 204 s
//     spinning, on 2 cores shared with other jobs);
//   - sleeping (OMP_WAIT_POLICY=passive) costs every region a wake-up, 6 to 20 µs (the main
//     thread's futex call, then the other thread's start): at the tiny model 2 threads were
//     then no faster than 1.
// So the apps take the middle: passive, but libgomp first spins about 40 µs (GOMP_SPINCOUNT,
// counted in pause instructions, whose length this measures), long enough to cover the gap
// between the regions of one step, too short to matter once the step is over. And they spin
// only if the machine was idle when they started: if other programs keep a core busy, every
// spin is time taken from them, so then the apps wait passively, as before.
// libomp (clang's runtime) reads OMP_WAIT_POLICY=passive and ignores GOMP_SPINCOUNT.
// The runtime reads these variables before main() runs, so the apps re-execute themselves
// once with them set (choose_runtime_settings in runtime_settings.h). Set OMP_WAIT_POLICY or
// GOMP_SPINCOUNT yourself to choose.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

namespace qkv::app {

constexpr double kSpinSeconds = 40e-6;  // how long libgomp spins before it sleeps
constexpr double kBusyCpus = 0.5;       // other programs' load above which nobody spins

// The runnable tasks in /proc/loadavg ("0.52 0.58 0.59 3/467 12345" → 3): those running or
// waiting for a CPU at this instant, the reader among them. -1 if the text is not that.
inline int runnable_tasks(const std::string& loadavg) {
  std::istringstream in(loadavg);
  double l1, l5, l15;
  int running = -1, total = 0;
  char slash = 0;
  if (!(in >> l1 >> l5 >> l15 >> running >> slash >> total) || slash != '/' || running < 1)
    return -1;
  return running;
}

// How many CPUs other programs kept busy, on average over `seconds`: the runnable tasks other
// than this one, sampled every millisecond (the load averages are minutes long, and /proc/stat
// counts 10 ms ticks). Negative if /proc/loadavg cannot be read.
inline double busy_cpus(double seconds) {
  const int samples = std::max(1, static_cast<int>(seconds / 1e-3));
  int others = 0;
  for (int i = 0; i < samples; ++i) {
    FILE* f = std::fopen("/proc/loadavg", "r");
    if (!f) return -1;
    char buf[256] = {};
    const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
    std::fclose(f);
    const int running = ok ? runnable_tasks(buf) : -1;
    if (running < 1) return -1;
    others += running - 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return static_cast<double>(others) / samples;
}

// Whether other programs keep the machine busy: busy_cpus at or above kBusyCpus in each of up to
// `windows` windows of 20 ms, 30 ms apart. One window is not enough: a program starting or
// ending nearby (a shell's pipeline, the last run's exit) can fill one, and the app then lost
// its spin for the whole run (at the tiny model 2 threads were 1.02x as fast as 1 instead of
// 1.24 to 1.30; one start in six, chapter 14). A program that stays busy fills them all.
inline bool machine_busy(int windows = 3) {
  for (int w = 0; w < windows; ++w) {
    if (w > 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));
    const double busy = busy_cpus(0.02);
    if (busy < 0) return true;  // no /proc/loadavg: assume others may be busy, do not spin
    if (busy < kBusyCpus) return false;
  }
  return true;
}

// libgomp's spin count for `seconds`: it spins by a pause instruction per check, whose length
// differs between CPUs (19 ns measured on the AMD EPYC Zen 5 here).
inline int64_t spins_for(double seconds) {
  constexpr int kProbe = 2000;
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (volatile int i = 0; i < kProbe; i = i + 1) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double per_spin = best / kProbe;
  const double spins = per_spin > 0 ? seconds / per_spin : 1000;
  return static_cast<int64_t>(std::min(std::max(spins, 100.0), 20000.0));
}

// "OMP_WAIT_POLICY=passive, GOMP_SPINCOUNT=2105": what the program runs with, for its banner.
inline std::string omp_wait_setting() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spins = std::getenv("GOMP_SPINCOUNT");
  return std::string("OMP_WAIT_POLICY=") + (policy ? policy : "(unset)") +
         (spins ? std::string(", GOMP_SPINCOUNT=") + spins : "");
}

}  // namespace qkv::app
