// bench_kernels: how fast is the GEMM, against what this machine can do (chapter 03).
//
// It first measures the machine's own FP32 FMA peak (a loop of independent 16-lane FMAs
// on 1 and 2 threads), then times the library's gemm at square sizes and at the
// Transformer's shapes, on 1 and 2 threads, best of several runs, each as GFLOP/s and as a
// fraction of the peak measured in this same run (so a busy or throttled machine lowers
// both), and of the peak measured in rounds alternating with each product's ("beside"). Then the
// steps of chapter 03 at 512³. The last line is JSON (512³, 2 threads), with the keys
//   gemm_512_gflops, peak_gflops, ratio, peak_beside_gflops, ratio_beside
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "autograd/aligned.h"
#include "autograd/kernels/gemm.h"
#include "autograd/random.h"
#include "examples/cli.h"
#include "examples/fma_probe.h"
#include "examples/gemm_stages.h"
#include "examples/stats.h"

namespace {

using qkv::app::fma_peak;
using qkv::app::kChains;
using qkv::app::kLanes;
using qkv::app::median;
using Buffer = std::vector<float, qkv::AlignedAllocator<float>>;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- Memory bandwidth --------------------------------------------------------------------
// GB/s of y = y + s·x over two arrays of 256 MB (2 floats read and 1 written per element, far
// more than any cache holds), on `threads` threads, best of `reps`. The element-wise passes of a
// training step, Adam, and the packing of operands that come from memory all run at this rate,
// whatever the FMA peak: if a second thread does not raise it, they gain nothing from a second
// core (chapter 14, "Two cores").
double memory_bandwidth(int threads, int reps) {
  const int64_t n = int64_t{64} << 20;
  std::vector<float, qkv::AlignedAllocator<float>> x(static_cast<size_t>(n)),
      y(static_cast<size_t>(n));
  double best = 0;
  for (int r = 0; r <= reps; ++r) {  // the first pass also faults the pages in: not counted
    const auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = y[i] + 1e-3f * x[i];
    const double s = seconds_since(t0);
    if (r > 0) best = std::max(best, 3.0 * 4 * n / s);
  }
  return best;
}

// ---- How much of a second core the machine gives ------------------------------------------
// The FMA loop on 1 and on 2 threads in 25 rounds (fma_one_and_two, ~10 ms a run), and the
// median over the rounds of the 2T/1T throughput: the measurement bench_train --probe-cores
// makes before each step, longer. On a quiet machine it is 2 (1.96 to 1.99 here); where the
// host hands one of the two cores to other work for part of the time, it is less, and a
// program's own 2T/1T cannot be more (compare.py prints it beside qkv's). Then how far apart
// the two cores are now: a cache line's round trip between them (round_trip_us).
void print_cores() {
  std::vector<double> one, two, ratio;
  for (int round = 0; round < 25; ++round) {
    const qkv::app::OneAndTwo r = qkv::app::fma_one_and_two(4'000'000);
    one.push_back(r.one);
    two.push_back(r.two);
    ratio.push_back(r.two / r.one);
  }
  std::printf(
      "{\"fma_1t_gflops\": %.1f, \"fma_2t_gflops\": %.1f, \"two_core_ratio\": %.3f, "
      "\"round_trip_us\": %.3f}\n",
      median(one) / 1e9, median(two) / 1e9, median(ratio), qkv::app::round_trip_us(2000));
}

// ---- Data handed from one core to the other ------------------------------------------------
// Microseconds to read `floats` floats that were just written, by the core that wrote them and
// by the other one (medians of 200 reads each). In a training step one op writes an activation
// by rows and the next often reads some of those rows on the other core: then each cache line
// is fetched from that core's cache instead of its own (chapter 14, "The tenth round": part of
// why two threads are not twice as fast as one).
struct Handoff {
  double self_us, other_us;
};
Handoff handoff_read(int64_t floats) {
  std::vector<float, qkv::AlignedAllocator<float>> buf(static_cast<size_t>(floats), 1.f);
  std::vector<double> us[2];
  float sink = 0;
#pragma omp parallel num_threads(2) reduction(+ : sink)
  {
    const int t = omp_get_thread_num();
    for (int it = 0; it < 400 + 2; ++it) {
      const int reader = it % 2;  // thread 0 writes every time; thread 0, then 1, reads
      if (t == 0)
        for (int64_t i = 0; i < floats; ++i) buf[i] = buf[i] * 0.5f + 1.f;
#pragma omp barrier
      if (t == reader) {
        const auto t0 = Clock::now();
        float acc[64] = {};  // 4 vectors of independent sums: the loads, not the adds, limit it
        for (int64_t i = 0; i + 64 <= floats; i += 64)
#pragma omp simd
          for (int j = 0; j < 64; ++j) acc[j] += buf[i + j];
        const double s = seconds_since(t0);
        for (float a : acc) sink += a;
        if (it >= 2) us[reader].push_back(s * 1e6);
      }
#pragma omp barrier
    }
  }
  if (!(sink > 0)) std::printf("(handoff sum %g)\n", sink);  // keeps the reads
  return {median(us[0]), median(us[1])};
}

// ---- What it costs the two threads to meet ---------------------------------------------
// Microseconds for an empty parallel region on 2 threads (OpenMP's start and end of a team,
// 20 µs apart, as an op's regions follow each other in a step), and for one cache line's round
// trip between the two cores (one thread writes a flag, the other writes it back), medians of
// 2,000. A step opens 120 to 180 regions (chapter 14, "The thirteenth round"): the first figure
// is paid that many times, and the second bounds what any start and end could cost.
struct Meeting {
  double region_us = 0, round_trip_us = 0;
};
Meeting meeting_costs() {
  constexpr int kRuns = 2000;
  Meeting m;
  std::vector<double> us;
  for (int it = 0; it < kRuns + 20; ++it) {
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(2)
    if (omp_get_thread_num() < 0) std::abort();  // a body that does nothing, not removed
    if (it >= 20) us.push_back(seconds_since(t0) * 1e6);
    const auto gap = Clock::now();
    while (seconds_since(gap) < 20e-6) {
    }
  }
  m.region_us = median(us);
  m.round_trip_us = qkv::app::round_trip_us(kRuns);
  return m;
}

// ---- Timing a GEMM ---------------------------------------------------------------------
// The best time of `run` over at least min_runs runs and, past those, until `seconds` are
// spent (at most 1000 runs).
double best_of_runs(const std::function<void()>& run, int min_runs, double seconds) {
  double best = 1e30, total = 0;
  for (int r = 0; r < 1000 && (r < min_runs || total < seconds); ++r) {
    const auto t0 = Clock::now();
    run();
    const double s = seconds_since(t0);
    best = std::min(best, s);
    total += s;
  }
  return best;
}

// Best time of at least min_reps runs (more, up to ~0.2 s, when a run is short).
double best_seconds(const std::function<void()>& run, int min_reps) {
  run();  // warm up: caches, page faults, packing buffers
  return best_of_runs(run, min_reps, 0.2);
}

// best_seconds, with the FMA loop run between the rounds of the product (max(8, min_reps)
// rounds, each a few milliseconds of the product): `peak` gets the loop's best FLOP/s on
// `threads` threads. Both bests come from the same seconds of the machine's life, so their
// ratio is the kernel's, not the moment's.
double best_seconds_beside_peak(const std::function<void()>& run, int threads, int min_reps,
                                double& peak) {
  run();  // warm up
  double best = 1e30;
  peak = 0;
  for (int r = 0; r < std::max(8, min_reps); ++r) {
    peak = std::max(peak, fma_peak(threads, 1));
    best = std::min(best, best_of_runs(run, 1, 4e-3));
  }
  return best;
}

Buffer random_buffer(int64_t n, uint32_t seed) {
  qkv::Generator rng(seed);
  Buffer v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

struct Options {
  int reps = 5;
  bool stages = true;
  bool cores = false;
};

// The options, or none after --help (printed).
bool parse(int argc, char** argv, Options& o) {
  int64_t reps = o.reps;
  bool no_stages = false;
  qkv::app::ArgParser args(
      "bench_kernels",
      "Measures this machine's FP32 FMA peak, then the GEMM (GFLOP/s and fraction of that\n"
      "peak) at square sizes and the Transformer's shapes on 1 and 2 threads, and the steps\n"
      "of chapter 03 (512^3; step 4 against the library at 1024^3). Other programs using the\n"
      "cores make every ratio unreliable; the bench says so when the 2-thread peak falls\n"
      "short, and the column \"beside\" divides by the peak measured in rounds alternating\n"
      "with each product's instead of the run's best. The last line is {\"gemm_512_gflops\": X,\n"
      "\"peak_gflops\": Y, \"ratio\": Z, \"peak_beside_gflops\": P, \"ratio_beside\": R} for\n"
      "512^3 on 2 threads against the 2-thread peak.");
  args.option("--reps", "N", "at least N timed runs per measurement, best kept (default 5)", reps);
  args.flag("--no-stages", "skip the chapter 03 steps (the naive loop takes a while)", no_stages);
  args.flag("--cores",
            "only how much of a second core the machine gives now: the FMA loop on 1 and on 2 "
            "threads in 25 rounds, the median 2T/1T, as one JSON line",
            o.cores);
  if (!args.parse(argc, argv)) return false;
  if (reps < 1 || reps > 1000)
    throw qkv::app::UsageError("--reps needs a whole number from 1 to 1000");
  o.reps = static_cast<int>(reps);
  o.stages = !no_stages;
  return true;
}

// One GEMM to time: C[M, N] = op(A)·op(B) (+ C when beta = 1).
struct Shape {
  const char* what;
  bool ta, tb;
  int64_t M, N, K;
  float beta;
};

struct Result {
  std::string label, dims;
  int threads;
  double seconds, flops;
  double peak_beside = 0;  // FLOP/s of the FMA loop run between this GEMM's rounds, best
};

// The GEMM at square sizes and at the Transformer's shapes, on 1 … max_threads threads;
// gflops_512 gets 512³ on max_threads, peak_512_beside the FMA peak measured beside it. Each
// product's rounds alternate with rounds of the FMA loop on as many threads: on a shared host
// the speed a core offers drifts over the seconds the table takes, and the peak beside tells a
// slow kernel from a slow moment (chapter 14, the sixth round).
std::vector<Result> time_shapes(const Options& opt, int max_threads, double& gflops_512,
                                double& peak_512_beside) {
  // The Transformer's products (d_model 64 or 512, d_ff 256 or 2048, 640 or 512 tokens per
  // batch), in the three layouts a Linear layer uses (W stored [out, in]): A·B (dX = dY·W),
  // A·Bᵀ (the forward, Y = X·Wᵀ) and Aᵀ·B (dW += dYᵀ·X: [out, tokens]·[tokens, in], the sum
  // running over the tokens), each group for one layer's shapes.
  const Shape shapes[] = {
      {"square", false, false, 64, 64, 64, 0.f},
      {"square", false, false, 128, 128, 128, 0.f},
      {"square", false, false, 256, 256, 256, 0.f},
      {"square", false, false, 512, 512, 512, 0.f},
      {"square", false, false, 1024, 1024, 1024, 0.f},
      {"Transformer A·B", false, false, 640, 256, 64, 0.f},
      {"  A·B^T", false, true, 640, 256, 64, 0.f},
      {"  A^T·B", true, false, 256, 64, 640, 1.f},
      {"Transformer A·B", false, false, 640, 64, 256, 0.f},
      {"  A·B^T", false, true, 640, 64, 256, 0.f},
      {"  A^T·B", true, false, 64, 256, 640, 1.f},
      {"Transformer A·B", false, false, 512, 2048, 512, 0.f},
      {"  A·B^T", false, true, 512, 2048, 512, 0.f},
      {"  A^T·B", true, false, 2048, 512, 512, 1.f},
      {"Transformer A·B", false, false, 512, 512, 2048, 0.f},
      {"  A·B^T", false, true, 512, 512, 2048, 0.f},
      {"  A^T·B", true, false, 512, 2048, 512, 1.f},
  };
  std::vector<Result> results;
  for (const Shape& s : shapes) {
    const Buffer A = random_buffer(s.M * s.K, 1), B = random_buffer(s.K * s.N, 2);
    Buffer C = random_buffer(s.M * s.N, 3);
    const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    char dims[64];
    std::snprintf(dims, sizeof dims, "%lld %lld %lld%s%s", static_cast<long long>(s.M),
                  static_cast<long long>(s.K), static_cast<long long>(s.N), s.ta ? " (A^T)" : "",
                  s.tb ? " (B^T)" : "");
    for (int t = 1; t <= max_threads; ++t) {
      omp_set_num_threads(t);
      double beside = 0;
      const double sec = best_seconds_beside_peak(
          [&] {
            qkv::kernels::gemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, s.beta,
                               C.data(), s.N);
          },
          t, opt.reps, beside);
      const double flops = 2.0 * s.M * s.N * s.K;
      results.push_back({s.what, dims, t, sec, flops, beside});
      if (s.M == 512 && s.K == 512 && s.N == 512 && t == max_threads) {
        gflops_512 = flops / sec / 1e9;
        peak_512_beside = beside;
      }
    }
  }

  return results;
}

std::vector<Result> time_batched(const Options& opt, int max_threads) {
  // Attention's batched products: 256 = batch × heads small matrices, split across the
  // batch: scores Q·Kᵀ [20, 16]·[16, 20] and context P·V [20, 20]·[20, 16].
  std::vector<Result> batched;
  for (const Shape& s : {Shape{"batched Q·K^T x256", false, true, 20, 20, 16, 0.f},
                         Shape{"batched P·V x256", false, false, 20, 16, 20, 0.f}}) {
    const int64_t batch = 256;
    const Buffer A = random_buffer(batch * s.M * s.K, 1), B = random_buffer(batch * s.K * s.N, 2);
    Buffer C(static_cast<size_t>(batch * s.M * s.N));
    const int64_t lda = s.K, ldb = s.tb ? s.K : s.N;
    char dims[64];
    std::snprintf(dims, sizeof dims, "%lld %lld %lld%s", static_cast<long long>(s.M),
                  static_cast<long long>(s.K), static_cast<long long>(s.N), s.tb ? " (B^T)" : "");
    for (int t = 1; t <= max_threads; ++t) {
      omp_set_num_threads(t);
      const double sec = best_seconds(
          [&] {
            qkv::kernels::gemm_batched(batch, false, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda,
                                       s.M * s.K, B.data(), ldb, s.K * s.N, 0.f, C.data(), s.N,
                                       s.M * s.N);
          },
          opt.reps);
      batched.push_back({s.what, dims, t, sec, 2.0 * batch * s.M * s.N * s.K});
    }
  }

  return batched;
}

std::vector<Result> time_stages(const Options& opt, int max_threads) {
  std::vector<Result> steps;
  // The chapter's steps at 512³ on one thread, then the library on all threads; and step 4
  // against the library at 1024³, where reading B unpacked (rows 4 KB apart) stops working.
  using Fn = void (*)(int64_t, int64_t, int64_t, const float*, const float*, float*);
  struct Stage {
    const char* name;
    Fn fn;
    int64_t n;
    int threads;
    int reps;
  };
  auto library = [](int64_t M, int64_t N, int64_t K, const float* a, const float* b, float* c) {
    qkv::kernels::gemm(false, false, M, N, K, 1.f, a, K, b, N, 0.f, c, N);
  };
  const Stage stages[] = {
      {"1 naive triple loop (i, j, k)", qkv::gemm_stages::naive, 512, 1, 1},
      {"2 loops reordered (i, k, j)", qkv::gemm_stages::reordered, 512, 1, opt.reps},
      {"3 + cache blocking", qkv::gemm_stages::blocked, 512, 1, opt.reps},
      {"4 + 8x32 register tile", qkv::gemm_stages::register_tiled, 512, 1, opt.reps},
      {"5 + packing, 6x64 tile (library)", library, 512, 1, opt.reps},
      {"6 + OpenMP (library)", library, 512, max_threads, opt.reps},
      {"4 register tile, no packing", qkv::gemm_stages::register_tiled, 1024, 1, opt.reps},
      {"5 packing (library)", library, 1024, 1, opt.reps},
  };
  for (const Stage& st : stages) {
    const int64_t n = st.n;
    const Buffer A = random_buffer(n * n, 1), B = random_buffer(n * n, 2);
    Buffer C(static_cast<size_t>(n * n));
    omp_set_num_threads(st.threads);
    const double sec = best_seconds([&] { st.fn(n, n, n, A.data(), B.data(), C.data()); }, st.reps);
    char dims[32];
    std::snprintf(dims, sizeof dims, "%lld^3", static_cast<long long>(n));
    steps.push_back({st.name, dims, st.threads, sec, 2.0 * n * n * n});
  }
  return steps;
}

void print_report(const Options& opt, int max_threads, const double* peak, const double* bandwidth,
                  const Handoff& handoff, const Meeting& meeting,
                  const std::vector<Result>& results, const std::vector<Result>& batched,
                  const std::vector<Result>& steps, double gflops_512_top, double peak_512_beside) {
  std::printf("bench_kernels: FP32, %d cores, best of >= %d runs, GFLOP/s = 2·M·N·K / time\n",
              omp_get_num_procs(), opt.reps);
  std::printf("FMA peak (%d chains of %d-lane FMAs per thread): 1 thread %.1f GFLOP/s", kChains,
              kLanes, peak[1] / 1e9);
  if (max_threads >= 2) std::printf(", 2 threads %.1f GFLOP/s", peak[2] / 1e9);
  if (max_threads >= 2 && peak[2] < 1.8 * peak[1])
    std::printf(
        "\nnote: 2 threads did not reach twice the 1-thread peak: another program is"
        " using the cores, so the timings below are unreliable");
  std::printf("\nmemory bandwidth (y = y + s·x over 2 × 256 MB): 1 thread %.1f GB/s",
              bandwidth[1] / 1e9);
  if (max_threads >= 2) std::printf(", 2 threads %.1f GB/s", bandwidth[2] / 1e9);
  if (handoff.self_us > 0)
    std::printf(
        "\nreading 320 KB just written (one [640, 128] activation of the small model): by the "
        "core that wrote it %.1f µs, by the other core %.1f µs (%.1fx)",
        handoff.self_us, handoff.other_us, handoff.other_us / handoff.self_us);
  if (meeting.region_us > 0)
    std::printf(
        "\nthe two threads meeting: an empty parallel region %.2f µs, a cache line to the other "
        "core and back %.2f µs",
        meeting.region_us, meeting.round_trip_us);
  const qkv::kernels::GemmBlocks blocks = qkv::kernels::gemm_blocks();
  std::printf("\ncache blocks from this machine's caches: MC %lld, KC %lld (fixed), NC %lld",
              static_cast<long long>(blocks.MC), static_cast<long long>(blocks.KC),
              static_cast<long long>(blocks.NC));
  std::printf("\n\n%-22s %-20s %7s %9s %9s %8s %8s\n", "gemm", "M K N", "threads", "time ms",
              "GFLOP/s", "of peak", "beside");
  for (const Result& r : results)
    std::printf("%-22s %-20s %7d %9.3f %9.1f %8.2f %8.2f\n", r.label.c_str(), r.dims.c_str(),
                r.threads, r.seconds * 1e3, r.flops / r.seconds / 1e9,
                r.flops / r.seconds / peak[r.threads], r.flops / r.seconds / r.peak_beside);
  for (const Result& r : batched)
    std::printf("%-22s %-20s %7d %9.3f %9.1f %8.2f %8s\n", r.label.c_str(), r.dims.c_str(),
                r.threads, r.seconds * 1e3, r.flops / r.seconds / 1e9,
                r.flops / r.seconds / peak[r.threads], "-");
  for (const Result& r : results)
    if (r.flops / r.seconds > r.peak_beside) {
      std::printf(
          "note: a \"beside\" above 1 means the cores' speed changed faster than the rounds "
          "alternate: those rows are unreliable\n");
      break;
    }
  if (!steps.empty()) {
    std::printf("\n%-34s %-8s %7s %9s %9s %8s\n", "chapter 03 steps", "size", "threads", "time ms",
                "GFLOP/s", "of peak");
    for (const Result& r : steps)
      std::printf("%-34s %-8s %7d %9.3f %9.1f %8.3f\n", r.label.c_str(), r.dims.c_str(), r.threads,
                  r.seconds * 1e3, r.flops / r.seconds / 1e9,
                  r.flops / r.seconds / peak[r.threads]);
  }
  std::printf(
      "\n{\"gemm_512_gflops\": %.1f, \"peak_gflops\": %.1f, \"ratio\": %.3f, "
      "\"peak_beside_gflops\": %.1f, \"ratio_beside\": %.3f}\n",
      gflops_512_top, peak[max_threads] / 1e9, gflops_512_top * 1e9 / peak[max_threads],
      peak_512_beside / 1e9, gflops_512_top * 1e9 / peak_512_beside);
}

int run(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, opt)) return 0;
  if (opt.cores) {
    print_cores();
    return 0;
  }
  const int max_threads = std::min(2, omp_get_num_procs());
  const int saved_threads = omp_get_max_threads();

  // The peak, measured before and again after the GEMMs; the best of the two is used, so a
  // moment when another program held a core does not make the GEMM look better than it is.
  double peak[3] = {0, 0, 0};
  auto measure_peak = [&] {
    for (int t = 1; t <= max_threads; ++t)
      peak[t] = std::max(peak[t], fma_peak(t, std::max(3, opt.reps)));
  };
  measure_peak();
  double gflops_512_top = 0, peak_512_beside = 0;
  const std::vector<Result> results =
      time_shapes(opt, max_threads, gflops_512_top, peak_512_beside);
  const std::vector<Result> batched = time_batched(opt, max_threads);
  const std::vector<Result> steps =
      opt.stages ? time_stages(opt, max_threads) : std::vector<Result>{};
  omp_set_num_threads(saved_threads);
  measure_peak();
  double bandwidth[3] = {0, 0, 0};
  for (int t = 1; t <= max_threads; ++t) bandwidth[t] = memory_bandwidth(t, 3);
  const Handoff handoff = max_threads >= 2 ? handoff_read(640 * 128) : Handoff{0, 0};
  const Meeting meeting = max_threads >= 2 ? meeting_costs() : Meeting{};
  print_report(opt, max_threads, peak, bandwidth, handoff, meeting, results, batched, steps,
               gflops_512_top, peak_512_beside);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return qkv::app::run_app("bench_kernels", run, argc, argv, /*runtime_settings=*/false);
}
