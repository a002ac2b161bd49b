// bench_train: time one training step (forward, loss, backward, Adam, zero_grad) of a
// random-token seq2seq batch (chapter 14). The recipe mirrors ../shared/bench/torch_bench.py
// so the two can be compared side by side: embeddings·√d + sinusoidal positions, dropout 0.1,
// post-norm, ReLU, label smoothing 0.1 with the pad id ignored, Adam(1e-3, 0.9, 0.98, 1e-9),
// every 4th row padded at its end. Last line: {"step_ms_median": …, "tokens_per_s": …,
// "peak_rss_mb": …}.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "examples/cli.h"
#include "nn/optim.h"
#include "nn/transformer.h"

using namespace qkv;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  cli::Args args("bench_train", "Times training steps of a seq2seq Transformer on random tokens.");
  for (auto [name, def] : std::vector<std::pair<const char*, const char*>>{
           {"d-model", "64"}, {"heads", "4"}, {"d-ff", "256"}, {"layers", "2"}, {"batch", "64"},
           {"src-len", "10"}, {"tgt-len", "10"}, {"src-vocab", "100"}, {"tgt-vocab", "100"},
           {"steps", "20"}, {"warmup", "3"}, {"threads", "0"}, {"seed", "0"}})
    args.flag(name, "N", def, std::string(name) == "threads" ? "OpenMP threads (0: OMP_NUM_THREADS or all cores)" : "");
  args.flag("profile", "", "", "print the time per op (forward and backward), exclusive, over the timed steps");
  try {
    if (!args.parse(argc, argv)) return 0;
    if (!args.positional().empty()) throw std::invalid_argument("bench_train: unexpected argument '" + args.positional()[0] + "'");
    const int64_t D = args.integer("d-model", 1), H = args.integer("heads", 1), F = args.integer("d-ff", 1);
    const int64_t N = args.integer("layers", 1), B = args.integer("batch", 1);
    const int64_t S = args.integer("src-len", 2), T = args.integer("tgt-len", 2);
    const int64_t SV = args.integer("src-vocab", 4), TV = args.integer("tgt-vocab", 4);
    const int64_t steps = args.integer("steps", 1), warmup = args.integer("warmup", 0);
    const int64_t threads = args.integer("threads", 0);
    if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
    if (D % H != 0) throw std::invalid_argument("bench_train: --d-model " + std::to_string(D) + " is not divisible by --heads " + std::to_string(H));

    Generator gen(static_cast<uint64_t>(args.integer("seed")));
    nn::Seq2SeqConfig c;
    c.src_vocab = SV;
    c.tgt_vocab = TV;
    c.d_model = D;
    c.heads = H;
    c.d_ff = F;
    c.encoder_layers = c.decoder_layers = N;
    c.max_len = std::max(S, T) + 1;
    c.dropout = 0.1f;
    c.tie_output = false;  // nn.Linear to the vocabulary, as the reference
    nn::Seq2SeqTransformer model(c, gen);
    nn::Adam opt(model.parameters(), 1e-3f, 0.9f, 0.98f, 1e-9f);
    std::printf("bench_train: %d OpenMP threads, %lld parameters, batch %lld × (%lld + %lld) tokens\n",
                omp_get_max_threads(), static_cast<long long>(model.num_parameters()),
                static_cast<long long>(B), static_cast<long long>(S), static_cast<long long>(T));

    std::vector<double> total, fwd, bwd, upd;
    float last_loss = 0.f;
    for (int64_t step = 0; step < warmup + steps; ++step) {
      // Random tokens in [3, vocab); <bos> = 1 opens the target; every 4th row ends in padding.
      Tensor src = Tensor::empty({B, S}), src_keep = Tensor::ones({B, S});
      Tensor tin = Tensor::empty({B, T}), tgt_keep = Tensor::ones({B, T}), tout = Tensor::empty({B * T});
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = 0; t < S; ++t) src.data()[b * S + t] = static_cast<float>(3 + gen.randint(SV - 3));
        std::vector<float> y(T + 1);
        y[0] = 1;
        for (int64_t t = 1; t <= T; ++t) y[t] = static_cast<float>(3 + gen.randint(TV - 3));
        if (b % 4 == 0) {
          const int64_t ps = (b / 4) % (S - 1), pt = (b / 4) % (T - 1);
          for (int64_t t = S - ps; t < S; ++t) src.data()[b * S + t] = 0, src_keep.data()[b * S + t] = 0;
          for (int64_t t = T + 1 - pt; t <= T; ++t) y[t] = 0;
        }
        for (int64_t t = 0; t < T; ++t) {
          tin.data()[b * T + t] = y[t];
          tgt_keep.data()[b * T + t] = y[t] != 0 ? 1.f : 0.f;
          tout.data()[b * T + t] = y[t + 1];
        }
      }
      profiler_enable(args.has("profile") && step >= warmup);
      auto t0 = std::chrono::steady_clock::now();
      Tensor logits = model.forward(src, src_keep, tin, tgt_keep);
      Tensor loss = cross_entropy(reshape(logits, {B * T, TV}), tout, 0, 0.1f);
      auto t1 = std::chrono::steady_clock::now();
      loss.backward();
      auto t2 = std::chrono::steady_clock::now();
      opt.step();
      opt.zero_grad();
      auto t3 = std::chrono::steady_clock::now();
      last_loss = loss.item();
      if (step >= warmup) {
        auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
        total.push_back(ms(t0, t3));
        fwd.push_back(ms(t0, t1));
        bwd.push_back(ms(t1, t2));
        upd.push_back(ms(t2, t3));
      }
    }
    profiler_enable(false);
    const double med = median(total);
    if (args.has("profile")) {
      double sum_s = 0;
      for (const auto& e : profiler_report()) sum_s += e.seconds;
      std::printf("%-28s %8s %10s %7s\n", "op", "calls", "ms/step", "share");
      for (const auto& e : profiler_report())
        std::printf("%-28s %8lld %10.3f %6.1f%%\n", e.name.c_str(), static_cast<long long>(e.calls / steps),
                    1000.0 * e.seconds / static_cast<double>(steps), 100.0 * e.seconds / sum_s);
      std::printf("%-28s %8s %10.3f (ops; the rest of the step is batch setup, Adam and the engine)\n", "total", "",
                  1000.0 * sum_s / static_cast<double>(steps));
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    std::printf("forward %.3f ms, backward %.3f ms, adam+zero_grad %.3f ms (medians of %lld steps); final loss %.4f\n",
                median(fwd), median(bwd), median(upd), static_cast<long long>(steps), last_loss);
    std::printf("{\"step_ms_median\": %.3f, \"tokens_per_s\": %.1f, \"peak_rss_mb\": %.1f}\n", med,
                static_cast<double>(B * (S + T)) / (med / 1000.0), ru.ru_maxrss / 1024.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return 0;
}
