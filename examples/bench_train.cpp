// bench_train: time one training step (forward, loss, backward, Adam, zero_grad) of a
// random-token seq2seq batch, or greedy decoding (chapter 14). The recipe mirrors
// examples/bench/torch_bench.py so the two can be compared side by side: embeddings·√d +
// sinusoidal positions, dropout 0.1, post-norm, ReLU, label smoothing 0.1 with the pad id
// ignored, Adam(1e-3, 0.9, 0.98, 1e-9), every 4th row padded at its end.
//
// --mode train (default), last line {"step_ms_median": …, "tokens_per_s": …, "peak_rss_mb": …};
// --profile adds the time per op (with --alternate-threads, each op's median on either count);
// --count the calls and GEMM work per op, which, unlike time, are the same on every run.
// --alternate-threads times one thread and --threads threads in
// alternating steps of one run; last line {"step_ms_median_1": …, "step_ms_median_n": …,
// "threads": N, "speedup": …}. --mode greedy decodes --sentences sources to --max-out tokens
// each, all in one batch and then one by one, like the reference (no early stop), with the
// key/value cache (--no-kv-cache: recomputing the prefix at every step, as the reference does);
// last line {"batched_ms_per_sentence": …, "one_by_one_ms_per_sentence": …, …}.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "examples/cli.h"
#include "examples/fma_probe.h"
#include "examples/plot/bar_chart.h"
#include "examples/plot/figure_file.h"
#include "examples/stats.h"
#include "nn/data_parallel.h"
#include "nn/decoding.h"
#include "nn/optim.h"
#include "nn/seq2seq_shards.h"
#include "nn/transformer.h"

using namespace qkv;

namespace {
using qkv::app::median;
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
double peak_rss_mb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

struct Sizes {
  int64_t B, S, T, SV, TV;
};

// Random tokens in [3, vocab); <bos> = 1 opens the target; every 4th row ends in padding (id 0).
using Batch = nn::Seq2SeqBatch;
Batch make_batch(const Sizes& z, Generator& gen) {
  const int64_t B = z.B, S = z.S, T = z.T;
  Batch b{Tensor::empty({B, S}), Tensor::ones({B, S}), Tensor::empty({B, T}), Tensor::ones({B, T}),
          Tensor::empty({B * T})};
  for (int64_t r = 0; r < B; ++r) {
    for (int64_t t = 0; t < S; ++t)
      b.src.data()[r * S + t] = static_cast<float>(3 + gen.randint(z.SV - 3));
    std::vector<float> y(T + 1);
    y[0] = 1;
    for (int64_t t = 1; t <= T; ++t) y[t] = static_cast<float>(3 + gen.randint(z.TV - 3));
    if (r % 4 == 0) {
      const int64_t ps = (r / 4) % (S - 1), pt = (r / 4) % (T - 1);
      for (int64_t t = S - ps; t < S; ++t)
        b.src.data()[r * S + t] = 0, b.src_keep.data()[r * S + t] = 0;
      for (int64_t t = T + 1 - pt; t <= T; ++t) y[t] = 0;
    }
    for (int64_t t = 0; t < T; ++t) {
      b.tgt_in.data()[r * T + t] = y[t];
      b.tgt_keep.data()[r * T + t] = y[t] != 0 ? 1.f : 0.f;
      b.tgt_out.data()[r * T + t] = y[t + 1];
    }
  }
  return b;
}

// Deterministic: how many times each op runs per step and how much GEMM work it does.
void print_count(int64_t steps) {
  std::vector<ProfileEntry> rows = profiler_report();
  std::stable_sort(rows.begin(), rows.end(), [](const ProfileEntry& a, const ProfileEntry& b) {
    return a.gemm_macs != b.gemm_macs ? a.gemm_macs > b.gemm_macs : a.name < b.name;
  });
  const double mflop = 2e-6 / static_cast<double>(steps);  // 2 FLOPs per multiply-add
  int64_t fwd_macs = 0, all_macs = 0;
  std::printf("%-32s %8s %14s\n", "op", "calls", "GEMM MFLOP");
  for (const auto& e : rows) {
    std::printf("%-32s %8lld", e.name.c_str(), static_cast<long long>(e.calls / steps));
    if (e.gemm_macs > 0) std::printf(" %14.2f", mflop * static_cast<double>(e.gemm_macs));
    std::printf("\n");
    all_macs += e.gemm_macs;
    if (e.name.find("(backward)") == std::string::npos) fwd_macs += e.gemm_macs;
  }
  std::printf("%-32s %8s %14.2f (forward %.2f, backward %.2f)\n", "total", "",
              mflop * static_cast<double>(all_macs), mflop * static_cast<double>(fwd_macs),
              mflop * static_cast<double>(all_macs - fwd_macs));
}

// Measured: exclusive time per op, and the GFLOP/s of the ops whose work is GEMMs.
void print_profile(int64_t steps) {
  const double n = static_cast<double>(steps);
  double sum_s = 0, gemm_s = 0;
  int64_t gemm_macs = 0;
  for (const auto& e : profiler_report()) {
    sum_s += e.seconds;
    if (e.gemm_macs > 0) {
      gemm_s += e.seconds;
      gemm_macs += e.gemm_macs;
    }
  }
  std::printf("%-32s %8s %10s %7s %10s\n", "op", "calls", "ms/step", "share", "GFLOP/s");
  for (const auto& e : profiler_report()) {
    std::printf("%-32s %8lld %10.3f %6.1f%%", e.name.c_str(),
                static_cast<long long>(e.calls / steps), 1000.0 * e.seconds / n,
                100.0 * e.seconds / sum_s);
    if (e.gemm_macs > 0)
      std::printf(" %10.1f", 2e-9 * static_cast<double>(e.gemm_macs) / e.seconds);
    std::printf("\n");
  }
  std::printf("%-32s %8s %10.3f (ops; the rest of the step is Adam, zero_grad and the engine)\n",
              "total", "", 1000.0 * sum_s / n);
  std::printf(
      "ops with GEMMs: %.3f ms/step (%.0f%% of the ops' time) for %.1f MFLOP: %.1f GFLOP/s\n",
      1000.0 * gemm_s / n, 100.0 * gemm_s / sum_s, 2e-6 * static_cast<double>(gemm_macs) / n,
      2e-9 * static_cast<double>(gemm_macs) / gemm_s);
}

// With --alternate-threads: each op's median time per step on one thread and on n, and their
// ratio (chapter 14: which ops two threads speed up, measured in steps milliseconds apart).
void print_alternating_profile(std::map<std::string, std::vector<double>> (&op_ms)[2], int n) {
  struct Row {
    std::string name;
    double one, many;
  };
  std::vector<Row> rows;
  double sum[2] = {0, 0};
  for (const auto& [name, ms] : op_ms[0]) {
    auto& other = op_ms[1][name];
    Row r{name, median(ms), other.empty() ? 0.0 : median(other)};
    sum[0] += r.one;
    sum[1] += r.many;
    rows.push_back(r);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.one > b.one; });
  std::printf("%-32s %12s %12s %8s\n", "op", "1 thread ms",
              (std::to_string(n) + " threads ms").c_str(), "ratio");
  for (const auto& r : rows)
    std::printf("%-32s %12.3f %12.3f %7.2fx\n", r.name.c_str(), r.one, r.many,
                r.many > 0 ? r.one / r.many : 0.0);
  std::printf("%-32s %12.3f %12.3f %7.2fx (sums of the medians, ms per step)\n", "total", sum[0],
              sum[1], sum[1] > 0 ? sum[0] / sum[1] : 0.0);
}

// The profile as a bar chart (chapter 14's figure): a timing, so it names the CPU and the run.
void write_profile_svg(const std::string& path, int64_t steps, const std::string& run) {
  const double n = static_cast<double>(steps);
  double sum_s = 0;
  for (const auto& e : profiler_report()) sum_s += e.seconds;
  std::vector<plot::Bar> bars;
  double rest = 0;
  int rest_ops = 0;
  for (const auto& e : profiler_report()) {
    if (bars.size() >= 16) {
      rest += e.seconds;
      ++rest_ops;
      continue;
    }
    char text[96];
    if (e.gemm_macs > 0)
      std::snprintf(text, sizeof text, "%.2f ms, %.1f%%, %.0f GFLOP/s", 1000.0 * e.seconds / n,
                    100.0 * e.seconds / sum_s, 2e-9 * static_cast<double>(e.gemm_macs) / e.seconds);
    else
      std::snprintf(text, sizeof text, "%.2f ms, %.1f%%", 1000.0 * e.seconds / n,
                    100.0 * e.seconds / sum_s);
    bars.push_back({e.name, 1000.0 * e.seconds / n, text, e.gemm_macs > 0 ? "#4292c6" : "#fd8d3c"});
  }
  if (rest_ops > 0) {
    char label[48], text[48];
    std::snprintf(label, sizeof label, "%d other ops", rest_ops);
    std::snprintf(text, sizeof text, "%.2f ms, %.1f%%", 1000.0 * rest / n, 100.0 * rest / sum_s);
    bars.push_back({label, 1000.0 * rest / n, text, "#bdbdbd"});
  }
  // On a shared machine other jobs stretch every op's time: the load average says how busy it was.
  std::string load = "?";
  std::ifstream("/proc/loadavg") >> load;
  const std::string notes[] = {
      "one machine's run: " + plot::cpu_name() + ", " + run + ", load average " + load,
      "blue: ops whose work is GEMMs (with the GFLOP/s they reached); orange: memory-bound ops; "
      "exclusive time per op"};
  const size_t slash = path.find_last_of('/');
  plot::write_figure(
      slash == std::string::npos ? "." : path.substr(0, slash),
      path.substr(slash == std::string::npos ? 0 : slash + 1),
      plot::bar_chart_svg(bars, "milliseconds per training step",
                          "where a training step's time goes, op by op", {notes[0], notes[1]}));
}

// With alternate = N (>= 2), the steps run on one thread and on N threads in turn: each pair
// of steps has one of each, in an order drawn from the pair's number. Two separate runs, one
// per thread count, are minutes apart on a shared machine, and whatever else the host is doing
// changes between them (chapter 14 saw the same binary's step move by half); steps a few
// milliseconds apart share the machine's state, so their ratio measures the threads.
bool one_thread_step(int64_t step) {
  const uint64_t pair_bit = (static_cast<uint64_t>(step / 2 + 1) * 0x9E3779B97F4A7C15ull) >> 63;
  return (static_cast<uint64_t>(step % 2) ^ pair_bit) != 0;
}

// With --probe-cores, before each timed step of an alternating run: how much of a second core
// the machine gives (two_core_ratio_now, ~3 ms of the FMA loop), and how far apart the two cores
// are (round_trip_us, a cache line there and back, ~0.1 ms). A pair of steps counts as having
// had two cores when the probes before both of its steps reached kTwoCores, and as having had
// them near each other when both round trips were below kNearCores: this host showed two
// states, 0.15 to 0.17 µs and 0.55 to 0.58 µs (chapter 14, the thirteenth round).
constexpr double kTwoCores = 1.8;
constexpr double kNearCores = 0.35;  // µs

// The median 2T/1T over the pairs `keep` selects: {1 thread ms, 2 threads ms, pairs}.
struct PairMedians {
  double one = 0, two = 0;
  size_t pairs = 0;
};
template <class Keep>
PairMedians pair_medians(const std::vector<double>& t1, const std::vector<double>& t2, Keep keep) {
  std::vector<double> a, b;
  for (size_t p = 0; p < t1.size(); ++p)
    if (keep(p)) a.push_back(t1[p]), b.push_back(t2[p]);
  if (a.empty()) return {};
  return {median(a), median(b), a.size()};
}

// The alternating run's 2T/1T again, over the pairs whose probes saw two cores, then split by
// how near the cores were: prints it, and returns the JSON keys it adds to the last line.
std::string report_two_core_pairs(const std::vector<double>& t1, const std::vector<double>& t2,
                                  const std::vector<double>& probe,
                                  const std::vector<double>& trip) {
  auto two_cores = [&](size_t p) { return std::min(probe[2 * p], probe[2 * p + 1]) >= kTwoCores; };
  auto near = [&](size_t p) { return std::max(trip[2 * p], trip[2 * p + 1]) < kNearCores; };
  auto far = [&](size_t p) { return std::min(trip[2 * p], trip[2 * p + 1]) >= kNearCores; };
  auto num = [](double v) {  // three decimals, as the rest of the JSON line
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", v);
    return std::string(b);
  };
  const PairMedians good = pair_medians(t1, t2, two_cores);
  const auto [lo, hi] = std::minmax_element(probe.begin(), probe.end());
  const double machine = median(probe);
  std::printf(
      "machine: FMA loop 2T/1T before each step, median %.2f (%.2f to %.2f); %zu of %zu pairs "
      "had two cores (both probes >= %.1f)\n",
      machine, *lo, *hi, good.pairs, t1.size(), kTwoCores);
  std::string keys = ", \"fma_two_core_ratio\": " + num(machine) +
                     ", \"pairs_two_cores\": " + std::to_string(good.pairs);
  if (good.pairs > 0) {
    std::printf("  over those pairs: 1 thread %.3f ms, 2 threads %.3f ms, %.2fx\n", good.one,
                good.two, good.one / good.two);
    keys += ", \"speedup_two_cores\": " + num(good.one / good.two);
  }
  const auto [tlo, thi] = std::minmax_element(trip.begin(), trip.end());
  std::printf(
      "  a cache line between the cores and back, before each step: median %.2f µs (%.2f "
      "to %.2f)\n",
      median(trip), *tlo, *thi);
  keys += ", \"round_trip_us\": " + num(median(trip));
  struct Side {
    const char *key, *words, *test;
    PairMedians m;
  };
  const Side sides[] = {{"near", "near", "<",
                         pair_medians(t1, t2, [&](size_t p) { return two_cores(p) && near(p); })},
                        {"far", "far from", ">=", pair_medians(t1, t2, [&](size_t p) {
                           return two_cores(p) && far(p);
                         })}};
  for (const auto& [name, words, test, m] : sides) {
    std::printf("  pairs with two cores %s each other (round trips %s %.2f µs): %zu", words, test,
                kNearCores, m.pairs);
    if (m.pairs > 0) {
      std::printf(", 1 thread %.3f ms, 2 threads %.3f ms, %.2fx", m.one, m.two, m.one / m.two);
      keys += std::string(", \"speedup_") + name + "\": " + num(m.one / m.two);
    }
    std::printf("\n");
    keys += std::string(", \"pairs_") + name + "\": " + std::to_string(m.pairs);
  }
  return keys;
}

int train(nn::Seq2SeqTransformer& model, const nn::Seq2SeqConfig& config, const Sizes& z,
          Generator& gen, int64_t steps, int64_t warmup, bool profile, bool count,
          const std::string& profile_svg = "", int alternate = 0, bool probe_cores = false,
          int shards = 1) {
  nn::Adam opt(model.parameters(), 1e-3f, 0.9f, 0.98f, 1e-9f);
  nn::DataParallel<nn::Seq2SeqTransformer> dp(model, shards, [&] {
    Generator unused(0);  // the replicas' starting values are replaced by the model's
    return std::make_shared<nn::Seq2SeqTransformer>(config, unused);
  });
  // Each timed step's phases, milliseconds: [0] on one thread when alternating, else every step;
  // [1] on N threads when alternating.
  struct Phases {
    std::vector<double> step, forward, backward, update;
  } by_threads[2];
  std::map<std::string, std::vector<double>> op_ms[2];  // alternating with --profile: per step
  std::vector<double> pair_ms[2], probe, trip;  // alternating: each pair's two steps; probes
  float last_loss = 0.f;
  for (int64_t step = 0; step < warmup + steps; ++step) {
    const bool one = alternate > 0 && one_thread_step(step < warmup ? step : step - warmup);
    if (alternate > 0) omp_set_num_threads(one ? 1 : alternate);
    const Batch b = make_batch(z, gen);
    if (probe_cores && step >= warmup) {
      probe.push_back(app::two_core_ratio_now());
      trip.push_back(app::round_trip_us());
    }
    profiler_enable((profile || count) && step >= warmup);
    const auto t0 = std::chrono::steady_clock::now();
    double f = 0;  // in shards, each shard's backward follows its own forward: one phase
    if (shards == 1) {
      Tensor logits = model.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);  // [B, T, TV]
      Tensor loss = cross_entropy(reshape(logits, {z.B * z.T, z.TV}), b.tgt_out, 0, 0.1f);
      f = ms_since(t0);
      loss.backward();
      last_loss = loss.item();
    } else {
      last_loss = nn::seq2seq_backward_in_shards(dp, b, 0, 0.1f);  // nn/seq2seq_shards.h
    }
    const double fb = ms_since(t0);
    opt.step();
    opt.zero_grad();
    const double all = ms_since(t0);
    if (step >= warmup) {
      if (alternate > 0 && profile) {  // this step's time per op, then start the next afresh
        for (const auto& e : profiler_report())
          op_ms[one ? 0 : 1][e.name].push_back(1000.0 * e.seconds);
        profiler_reset();
      }
      if (alternate > 0) pair_ms[one ? 0 : 1].push_back(all);  // step 2p and 2p+1: pair p
      Phases& ph = by_threads[alternate > 0 && !one ? 1 : 0];
      ph.step.push_back(all);
      ph.forward.push_back(f);
      ph.backward.push_back(fb - f);
      ph.update.push_back(all - fb);
    }
  }
  profiler_enable(false);
  if (count) {
    print_count(steps);
    return 0;
  }
  if (profile && alternate > 0) print_alternating_profile(op_ms, alternate);
  if (profile && alternate == 0) print_profile(steps);
  if (profile && !profile_svg.empty()) {
    char run[160];
    std::snprintf(run, sizeof run,
                  "%d OpenMP thread(s), %lld timed steps, batch %lld x (%lld + %lld) tokens",
                  omp_get_max_threads(), static_cast<long long>(steps), static_cast<long long>(z.B),
                  static_cast<long long>(z.S), static_cast<long long>(z.T));
    write_profile_svg(profile_svg, steps, run);
  }
  if (alternate > 0) {
    const Phases &one = by_threads[0], &n = by_threads[1];
    const double m1 = median(one.step), mn = median(n.step);
    std::printf(
        "alternating steps: 1 thread %.3f ms (median of %zu steps), %d threads %.3f ms (median "
        "of %zu); %d threads are %.2fx as fast; final loss %.4f\n",
        m1, one.step.size(), alternate, mn, n.step.size(), alternate, m1 / mn, last_loss);
    // Which phase two threads speed up least: Adam's update is a pass over all the weights and
    // their moments, bound by memory rather than arithmetic (chapter 14, the eleventh round).
    const std::pair<const char*, std::vector<double> Phases::*> phases[] = {
        {"forward", &Phases::forward},
        {shards > 1 ? "fwd+backward" : "backward", &Phases::backward},
        {"adam+zero_grad", &Phases::update}};
    for (const auto& [name, times] : phases) {
      if (shards > 1 && times == &Phases::forward) continue;  // one phase in shards
      const double a = median(one.*times), b = median(n.*times);
      std::printf("  %-15s 1 thread %8.3f ms, %d threads %8.3f ms, %.2fx\n", name, a, alternate, b,
                  a / b);
    }
    const size_t pairs = std::min(pair_ms[0].size(), pair_ms[1].size());
    pair_ms[0].resize(pairs);  // an odd step count's last step has no partner
    pair_ms[1].resize(pairs);
    const std::string keys =
        probe_cores ? report_two_core_pairs(pair_ms[0], pair_ms[1], probe, trip) : "";
    std::printf(
        "{\"step_ms_median_1\": %.3f, \"step_ms_median_n\": %.3f, \"threads\": %d, "
        "\"speedup\": %.3f, \"peak_rss_mb\": %.1f%s}\n",
        m1, mn, alternate, m1 / mn, peak_rss_mb(), keys.c_str());
    return 0;
  }
  const Phases& all = by_threads[0];
  const double med = median(all.step);
  if (shards > 1)
    std::printf("forward+backward in shards %.3f ms, ", median(all.backward));
  else
    std::printf("forward %.3f ms, backward %.3f ms, ", median(all.forward), median(all.backward));
  std::printf("adam+zero_grad %.3f ms (medians of %lld steps); final loss %.4f\n",
              median(all.update), static_cast<long long>(steps), last_loss);
  std::printf("{\"step_ms_median\": %.3f, \"tokens_per_s\": %.1f, \"peak_rss_mb\": %.1f}\n", med,
              static_cast<double>(z.B * (z.S + z.T)) / (med / 1000.0), peak_rss_mb());
  return 0;
}

// Greedy decoding of `sentences` random sources, batched and one by one; every row runs to
// max_out (the model is untrained, so no <eos> is waited for), the reference's work. With
// kv_cache each token runs the decoder on the newest position only; without, over the whole
// prefix, as the reference does. Untimed, the other way decodes the batch once more, and the
// last line says whether both gave the same tokens.
int greedy(nn::Seq2SeqTransformer& model, const Sizes& z, Generator& gen, int64_t sentences,
           int64_t max_out, int64_t repeats, bool kv_cache) {
  const Batch b = make_batch({sentences, z.S, z.T, z.SV, z.TV}, gen);
  std::vector<std::vector<int64_t>> src(static_cast<size_t>(sentences));
  for (int64_t r = 0; r < sentences; ++r)
    for (int64_t t = 0; t < z.S && b.src_keep.data()[r * z.S + t] != 0; ++t)
      src[static_cast<size_t>(r)].push_back(static_cast<int64_t>(b.src.data()[r * z.S + t]));
  nn::DecodeOptions opt;
  opt.max_len = max_out;
  opt.eos_id = -1;  // never stop early
  opt.kv_cache = kv_cache;
  std::printf("%-12s %14s %16s\n", "greedy", "total ms", "ms per sentence");
  std::vector<std::vector<int64_t>> outs[2];
  double per_sentence[2] = {0, 0};
  const char* labels[2] = {"batched", "one by one"};
  for (int way = 0; way < 2; ++way) {
    const int64_t bs = way == 0 ? sentences : 1;
    auto run = [&] {
      std::vector<std::vector<int64_t>> out;
      for (int64_t i = 0; i < sentences; i += bs) {
        std::vector<std::vector<int64_t>> part(src.begin() + i,
                                               src.begin() + std::min(i + bs, sentences));
        for (auto& h : nn::greedy_decode(model, part, opt)) out.push_back(h.tokens);
      }
      return out;
    };
    run();  // warm-up
    std::vector<double> ts;
    for (int64_t r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      outs[way] = run();
      ts.push_back(ms_since(t0));
    }
    per_sentence[way] = median(ts) / static_cast<double>(sentences);
    std::printf("%-12s %14.3f %16.4f\n", labels[way], median(ts), per_sentence[way]);
  }
  nn::DecodeOptions other = opt;
  other.kv_cache = !kv_cache;
  std::vector<std::vector<int64_t>> other_out;
  for (auto& h : nn::greedy_decode(model, src, other)) other_out.push_back(h.tokens);
  std::printf(
      "{\"batched_ms_per_sentence\": %.4f, \"one_by_one_ms_per_sentence\": %.4f, "
      "\"batched_equals_one_by_one\": %s, \"kv_cache\": %s, \"cache_equals_recompute\": %s, "
      "\"peak_rss_mb\": %.1f}\n",
      per_sentence[0], per_sentence[1], outs[0] == outs[1] ? "true" : "false",
      kv_cache ? "true" : "false", other_out == outs[0] ? "true" : "false", peak_rss_mb());
  return 0;
}

struct Flags {
  std::string mode = "train";
  int64_t D = 64, H = 4, F = 256, N = 2, threads = 0, seed = 0, steps = 20, warmup = 3,
          sentences = 64, max_out = 12, repeats = 5, shards = 1;
  Sizes z{64, 10, 10, 100, 100};
  bool profile = false, count = false, no_kv_cache = false, alternate_threads = false,
       probe_cores = false;
  std::string profile_svg;
};

void declare_flags(app::ArgParser& args, Flags& f) {
  args.option("--mode", "train|greedy", "what to time (default train)", f.mode);
  args.option("--d-model", "N", "model width (default 64)", f.D);
  args.option("--heads", "N", "attention heads (default 4)", f.H);
  args.option("--d-ff", "N", "feed-forward width (default 256)", f.F);
  args.option("--layers", "N", "encoder and decoder layers (default 2)", f.N);
  args.option("--batch", "N", "sentences per batch (default 64)", f.z.B);
  args.option("--src-len", "N", "source tokens per sentence (default 10)", f.z.S);
  args.option("--tgt-len", "N", "target tokens per sentence (default 10)", f.z.T);
  args.option("--src-vocab", "N", "source vocabulary (default 100)", f.z.SV);
  args.option("--tgt-vocab", "N", "target vocabulary (default 100)", f.z.TV);
  args.option("--steps", "N", "timed steps (default 20)", f.steps);
  args.option("--warmup", "N", "untimed steps first (default 3)", f.warmup);
  args.option("--threads", "N", "OpenMP threads (0: OMP_NUM_THREADS or all cores)", f.threads);
  args.option("--seed", "N", "seed of the weights and tokens (default 0)", f.seed);
  args.option("--sentences", "N", "greedy: sources decoded (default 64)", f.sentences);
  args.option("--max-out", "N", "greedy: tokens decoded per source (default 12)", f.max_out);
  args.option("--repeats", "N", "greedy: timed repeats (default 5)", f.repeats);
  args.flag("--no-kv-cache",
            "greedy: recompute the whole prefix at every step instead of using the key/value cache",
            f.no_kv_cache);
  args.flag("--profile",
            "print the time per op (forward and backward), exclusive, over the timed steps; with "
            "--alternate-threads, each op's median step on 1 and on N threads",
            f.profile);
  args.flag("--count",
            "print the calls and GEMM work per op and step, no timing (the same on every run)",
            f.count);
  args.option("--profile-svg", "PATH", "with --profile: draw the time per op as a bar chart",
              f.profile_svg);
  args.option("--shards", "N",
              "train: cut each batch into N shards of whole sentences, each run forward and "
              "backward on one thread through its own replica of the model, the gradients added "
              "in shard order (nn/data_parallel.h); default 1: every op split among the threads",
              f.shards);
  args.flag("--alternate-threads",
            "time 1 thread and --threads threads (0: all cores) in alternating steps of one run, "
            "half the steps each, and print both medians and their ratio",
            f.alternate_threads);
  args.flag("--probe-cores",
            "with --alternate-threads on 2 threads: before each step, ~3 ms of an FMA loop on 1 "
            "and 2 threads (how much of a second core the machine gives) and a cache line's "
            "round trip between the cores (how far apart they are); also print the ratio over "
            "the pairs of steps that had two cores, and over those with the cores near and far",
            f.probe_cores);
}

void validate(const Flags& f) {
  if (f.mode != "train" && f.mode != "greedy")
    throw app::UsageError("--mode must be train or greedy, got '" + f.mode + "'");
  auto at_least = [](const char* flag, int64_t v, int64_t min) {
    if (v < min)
      throw app::UsageError(std::string(flag) + " must be at least " + std::to_string(min) +
                            ", got " + std::to_string(v));
  };
  for (auto [flag, v] : {std::pair<const char*, int64_t>{"--d-model", f.D},
                         {"--heads", f.H},
                         {"--d-ff", f.F},
                         {"--layers", f.N},
                         {"--batch", f.z.B},
                         {"--steps", f.steps},
                         {"--sentences", f.sentences},
                         {"--max-out", f.max_out},
                         {"--repeats", f.repeats},
                         {"--shards", f.shards}})
    at_least(flag, v, 1);
  at_least("--src-len", f.z.S, 2);
  at_least("--tgt-len", f.z.T, 2);
  at_least("--src-vocab", f.z.SV, 4);
  at_least("--tgt-vocab", f.z.TV, 4);
  at_least("--warmup", f.warmup, 0);
  at_least("--threads", f.threads, 0);
  if (f.alternate_threads) {
    if (f.mode != "train") throw app::UsageError("--alternate-threads times training steps only");
    if (f.count || !f.profile_svg.empty())
      throw app::UsageError("--alternate-threads does not combine with --count or --profile-svg");
    at_least("--steps", f.steps, 2);
  }
  if (f.shards > f.z.B)
    throw app::UsageError("--shards " + std::to_string(f.shards) + " is more than --batch " +
                          std::to_string(f.z.B) + ": every shard needs a sentence");
  if (f.shards > 1 && f.count)  // only thread 0's shards are counted (autograd/profiler.cpp)
    throw app::UsageError("--count counts one batch's ops: use it without --shards");
  if (f.probe_cores && !f.alternate_threads)
    throw app::UsageError("--probe-cores goes with --alternate-threads");
  if (f.D % f.H != 0)
    throw app::UsageError("--d-model " + std::to_string(f.D) + " is not divisible by --heads " +
                          std::to_string(f.H));
}

int run(int argc, char** argv) {
  Flags f;
  app::ArgParser args(
      "bench_train",
      "Times training steps (or greedy decoding) of a seq2seq Transformer on random tokens.");
  declare_flags(args, f);
  if (!args.parse(argc, argv)) return 0;
  validate(f);
  if (f.threads > 0) omp_set_num_threads(static_cast<int>(f.threads));
  const int alternate = f.alternate_threads ? omp_get_max_threads() : 0;
  if (f.alternate_threads && alternate < 2)
    throw app::UsageError("--alternate-threads needs 2 or more threads, got " +
                          std::to_string(alternate) + " (--threads, or OMP_NUM_THREADS)");
  if (f.probe_cores && alternate != 2)  // the probe measures two cores, the pairs must use two
    throw app::UsageError("--probe-cores needs --alternate-threads on 2 threads, got " +
                          std::to_string(omp_get_max_threads()) + " (--threads 2)");
  const std::string& mode = f.mode;
  const int64_t D = f.D, H = f.H, F = f.F, N = f.N, seed = f.seed, steps = f.steps,
                warmup = f.warmup, sentences = f.sentences, max_out = f.max_out,
                repeats = f.repeats;
  const Sizes& z = f.z;
  const bool profile = f.profile, count = f.count;
  Generator gen(static_cast<uint64_t>(seed));
  nn::Seq2SeqConfig c;
  c.src_vocab = z.SV;
  c.tgt_vocab = z.TV;
  c.d_model = D;
  c.heads = H;
  c.d_ff = F;
  c.encoder_layers = c.decoder_layers = N;
  c.max_len = std::max({z.S, z.T, max_out}) + 1;
  c.dropout = 0.1f;
  c.tie_output = false;  // nn.Linear to the vocabulary, as the reference
  nn::Seq2SeqTransformer model(c, gen);
  // Before any step: one heap for all threads if the model is large (nn/data_parallel.h).
  const bool one_heap = mode == "train" && nn::choose_heaps_for_shards(model.num_parameters(),
                                                                       static_cast<int>(f.shards));
  // How the threads wait and the heap's pages (runtime_settings.h) matter to the time only:
  // --count's output, the same on every run, leaves them out.
  const std::string pages = app::huge_pages_setting();
  const std::string waiting =
      count ? "" : " (" + app::omp_wait_setting() + (pages.empty() ? "" : ", " + pages) + ")";
  std::printf("bench_train: %d OpenMP threads%s, %lld parameters, ", omp_get_max_threads(),
              waiting.c_str(), static_cast<long long>(model.num_parameters()));
  if (mode == "greedy") {
    std::printf("greedy decoding of %lld sources of %lld tokens to %lld tokens, %s\n",
                static_cast<long long>(sentences), static_cast<long long>(z.S),
                static_cast<long long>(max_out),
                f.no_kv_cache ? "no key/value cache" : "key/value cache");
    return greedy(model, z, gen, sentences, max_out, repeats, !f.no_kv_cache);
  }
  std::printf("batch %lld × (%lld + %lld) tokens%s\n", static_cast<long long>(z.B),
              static_cast<long long>(z.S), static_cast<long long>(z.T),
              f.shards > 1 ? (" in " + std::to_string(f.shards) + " shards" +
                              (one_heap ? ", one heap for all threads" : ""))
                                 .c_str()
                           : "");
  return train(model, c, z, gen, steps, warmup, profile, count, f.profile_svg, alternate,
               f.probe_cores, static_cast<int>(f.shards));
}
}  // namespace

int main(int argc, char** argv) {
  return app::run_app("bench_train", run, argc, argv);  // runtime_settings.h
}
