// Chapter 06: the fixed-context bottleneck, measured.
//
// Three models learn the same task, reversing a random sequence of symbols, with the same
// seed, batches, optimiser and number of steps:
//   1. GRU encoder-decoder, no attention: the decoder sees only the encoder's last state C
//   2. the same GRU encoder-decoder with additive (Bahdanau) attention
//   3. a small Transformer (nn::Seq2SeqTransformer)
// Each is then decoded greedily on held-out sequences of every length, and the token
// accuracy by length shows where the single context vector runs out of room.
//
//   build/ch06_rnn_vs_attention           the chapter's study (about a minute)
//   build/ch06_rnn_vs_attention --quick   a shorter run (about 8 s of CPU)
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "examples/cli.h"
#include "examples/plot/figure_file.h"
#include "examples/plot/line_chart.h"
#include "nn/decoding.h"
#include "nn/gru_seq2seq.h"
#include "nn/optim.h"
#include "nn/state.h"
#include "nn/train.h"
#include "nn/transformer.h"

using namespace qkv;

namespace {

// Token ids: 0 <pad>, 1 <bos>, 2 <eos>, then the symbols.
constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kFirstSymbol = 3;

struct Batch {
  Tensor src, src_keep;              // [B, S]
  Tensor tgt_in, tgt_keep, tgt_out;  // [B, T]: <bos> y…, 1 = real, y… <eos>
};

std::vector<int64_t> random_sequence(Generator& g, int64_t len, int64_t symbols) {
  std::vector<int64_t> s(len);
  for (auto& x : s) x = kFirstSymbol + static_cast<int64_t>(g.randint(symbols));
  return s;
}

// Source rows and their reversals, padded: target in = <bos> + reversed, out = reversed + <eos>.
Batch make_batch(const std::vector<std::vector<int64_t>>& rows) {
  const int64_t B = static_cast<int64_t>(rows.size());
  int64_t S = 1;
  for (auto& r : rows) S = std::max<int64_t>(S, static_cast<int64_t>(r.size()));
  const int64_t T = S + 1;
  Batch b{Tensor::zeros({B, S}), Tensor::zeros({B, S}), Tensor::zeros({B, T}),
          Tensor::zeros({B, T}), Tensor::zeros({B, T})};
  for (int64_t i = 0; i < B; ++i) {
    const int64_t n = static_cast<int64_t>(rows[i].size());
    for (int64_t t = 0; t < n; ++t) {
      b.src.data()[i * S + t] = static_cast<float>(rows[i][t]);
      b.src_keep.data()[i * S + t] = 1.f;
      const float rev = static_cast<float>(rows[i][n - 1 - t]);
      b.tgt_in.data()[i * T + t + 1] = rev;
      b.tgt_out.data()[i * T + t] = rev;
    }
    b.tgt_in.data()[i * T] = static_cast<float>(kBos);
    b.tgt_out.data()[i * T + n] = static_cast<float>(kEos);
    for (int64_t t = 0; t <= n; ++t) b.tgt_keep.data()[i * T + t] = 1.f;
  }
  return b;
}

struct Options {
  int64_t steps = 1500, batch = 64, symbols = 10, min_len = 4, max_len = 16, test_per_len = 100;
  float lr = 2e-3f;
  uint64_t seed = 1;
};

struct Model {
  std::string name;
  nn::Module* module;
  std::function<Tensor(const Batch&)> forward;  // → logits [B, T, V]
  std::function<std::vector<nn::Hypothesis>(const std::vector<std::vector<int64_t>>&)> decode;
};

void train(Model& m, const Options& o) {
  Generator data(o.seed);  // the same batches for every model
  nn::Adam opt(m.module->parameters(), o.lr);
  m.module->train();
  nn::LoopOptions loop;
  loop.clip = 1.0;
  // A short linear warm-up, the same for every model: the Transformer needs it.
  loop.lr = [&](int64_t step) { return o.lr * std::min(1.f, static_cast<float>(step) / 100.f); };
  nn::fit(
      opt, o.steps,
      [&](int64_t) {
        std::vector<std::vector<int64_t>> rows(o.batch);
        for (auto& r : rows)
          r = random_sequence(
              data, o.min_len + static_cast<int64_t>(data.randint(o.max_len - o.min_len + 1)),
              o.symbols);
        Batch b = make_batch(rows);
        Tensor logits = m.forward(b);  // [B, T, V]
        const int64_t V = logits.size(2);
        return cross_entropy(reshape(logits, {-1, V}), reshape(b.tgt_out, {-1}), kPad);
      },
      loop);
}

struct Score {
  int64_t correct = 0, tokens = 0, exact = 0, rows = 0;
  double token_acc() const { return tokens ? 100.0 * correct / tokens : 0; }
  double exact_rate() const { return rows ? 100.0 * exact / rows : 0; }
};

// Greedy decoding on held-out sequences of one length: position-wise token accuracy against
// the reversal (a missing or extra token counts as wrong) and exact match.
Score evaluate(Model& m, const std::vector<std::vector<int64_t>>& src) {
  Score s;
  std::vector<nn::Hypothesis> hyps = m.decode(src);
  for (size_t i = 0; i < src.size(); ++i) {
    std::vector<int64_t> want(src[i].rbegin(), src[i].rend());
    const auto& got = hyps[i].tokens;
    for (size_t t = 0; t < want.size(); ++t) s.correct += t < got.size() && got[t] == want[t];
    s.tokens += static_cast<int64_t>(want.size());
    s.exact += got == want;
    s.rows += 1;
  }
  return s;
}

// Trains one model, or loads it from load_dir; saves it to save_dir when given.
void train_or_load(Model& m, const Options& o, bool timing, const std::string& save_dir,
                   const std::string& load_dir) {
  std::printf("  %-26s %8lld parameters\n", m.name.c_str(), (long long)m.module->num_parameters());
  // Any Module saves and loads (nn/state.h); the file name is the model's, e.g. "gru.qkv".
  const std::string file = m.name == "Transformer"                         ? "transformer.qkv"
                           : m.name.find("attention") != std::string::npos ? "gru_attention.qkv"
                                                                           : "gru.qkv";
  if (!load_dir.empty()) {
    nn::load_module(load_dir + "/" + file, *m.module);
    std::printf("    loaded %s/%s\n", load_dir.c_str(), file.c_str());
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  train(m, o);
  const auto t1 = std::chrono::steady_clock::now();
  if (timing)
    std::printf("    trained in %.1f s\n", std::chrono::duration<double>(t1 - t0).count());
  if (!save_dir.empty()) {
    nn::save_module(save_dir + "/" + file, *m.module);
    std::printf("    saved %s/%s\n", save_dir.c_str(), file.c_str());
  }
}

// Held-out sequences from a different seed: never seen in training (up to chance repeats).
// With `svg`, also draws the token accuracy against length (chapter 06's figure).
void print_accuracy_table(std::vector<Model>& models, const Options& o, const std::string& svg) {
  Generator test_gen(o.seed + 1000003);
  std::printf(
      "\ngreedy decoding, %lld held-out sequences per length: token accuracy %% (exact match %%)\n",
      (long long)o.test_per_len);
  std::printf("length");
  for (Model& m : models) std::printf("  %26s", m.name.c_str());
  std::printf("\n");
  std::vector<Score> total(models.size());
  std::vector<plot::Series> curves(models.size());
  for (int64_t len = o.min_len; len <= o.max_len; ++len) {
    std::vector<std::vector<int64_t>> src(o.test_per_len);
    for (auto& r : src) r = random_sequence(test_gen, len, o.symbols);
    std::printf("%6lld", (long long)len);
    for (size_t k = 0; k < models.size(); ++k) {
      Score s = evaluate(models[k], src);
      total[k].correct += s.correct, total[k].tokens += s.tokens, total[k].exact += s.exact,
          total[k].rows += s.rows;
      std::printf("  %18.1f (%5.1f)", s.token_acc(), s.exact_rate());
      curves[k].x.push_back(static_cast<double>(len));
      curves[k].y.push_back(s.token_acc());
    }
    std::printf("\n");
  }
  std::printf("   all");
  for (const Score& s : total) std::printf("  %18.1f (%5.1f)", s.token_acc(), s.exact_rate());
  std::printf("\n");
  if (svg.empty()) return;
  // The numbers depend on the CPU (the kernels' vector paths round differently), so the
  // figure names the machine and the run.
  const char* colours[] = {"#d62728", "#1f77b4", "#2ca02c"};
  for (size_t k = 0; k < models.size(); ++k) {
    curves[k].name = models[k].name;
    curves[k].colour = colours[k % 3];
    curves[k].dots = true;
  }
  plot::LineChartStyle st;
  st.x_label = "sequence length (symbols to reverse)";
  st.y_label = "token accuracy %, greedy decoding";
  st.y_hi = 100;
  st.y_lo = 0;
  st.legend_low = true;
  char note[2][240];
  std::snprintf(note[0], sizeof note[0],
                "one run of build/ch06_rnn_vs_attention (%lld steps, seed %llu, %lld held-out "
                "sequences per length) on %s",
                (long long)o.steps, (unsigned long long)o.seed, (long long)o.test_per_len,
                plot::cpu_name().c_str());
  std::snprintf(note[1], sizeof note[1],
                "trained on lengths %lld-%lld; the numbers differ a little between CPUs and "
                "compilers, the shape of the curves does not",
                (long long)o.min_len, (long long)o.max_len);
  st.notes = {note[0], note[1]};
  const size_t slash = svg.find_last_of('/');
  plot::write_figure(
      slash == std::string::npos ? "." : svg.substr(0, slash),
      svg.substr(slash == std::string::npos ? 0 : slash + 1),
      plot::line_chart_svg(curves, st, "reversing sequences: accuracy against length"));
}

int run(int argc, char** argv) {
  Options o;
  bool quick = false, timing = false;
  int64_t steps = o.steps, seed = static_cast<int64_t>(o.seed);
  app::ArgParser args("ch06_rnn_vs_attention",
                      "Trains a GRU seq2seq without attention, with additive attention, and a "
                      "small\nTransformer to reverse random sequences; prints token accuracy by "
                      "length.");
  args.flag("--quick", "150 steps on lengths 4-8, 20 test sequences per length (about 8 s of CPU)",
            quick);
  args.option("--steps", "N", "training steps per model", steps);
  args.option("--seed", "N", "seed of the data and the weights", seed);
  args.flag("--time", "also print each model's training time (not deterministic)", timing);
  std::string save_dir, load_dir;
  args.option("--save", "DIR", "after training, save each model to DIR/<model>.qkv", save_dir);
  args.option("--load", "DIR", "load each model from DIR/<model>.qkv instead of training it",
              load_dir);
  std::string svg;
  args.option("--svg", "PATH", "draw token accuracy against length for the three models", svg);
  if (!args.parse(argc, argv)) return 0;
  if (quick) {
    o.steps = 150;
    o.max_len = 8;
    o.test_per_len = 20;
  }
  if (args.given("--steps")) o.steps = steps;
  if (steps <= 0 || seed <= 0) throw app::UsageError("--steps and --seed must be positive");
  o.seed = static_cast<uint64_t>(seed);
  const int64_t V = kFirstSymbol + o.symbols;
  // One thread: these models are tiny (64 wide), so each op is a few microseconds of work and
  // two OpenMP threads meeting at every op's barrier cost more than they save; on a busy
  // machine, many times more. The results are the same on any thread count.
  omp_set_num_threads(1);

  Generator init(o.seed + 100);
  nn::GRUSeq2SeqConfig gc;
  gc.src_vocab = gc.tgt_vocab = V;
  gc.embed_dim = 32;
  gc.hidden = 64;
  gc.attention = false;
  nn::GRUSeq2Seq plain(gc, init);
  gc.attention = true;
  nn::GRUSeq2Seq attentive(gc, init);
  nn::Seq2SeqConfig tc;
  tc.src_vocab = tc.tgt_vocab = V;
  tc.d_model = 64;
  tc.heads = 4;
  tc.d_ff = 128;
  tc.encoder_layers = tc.decoder_layers = 2;
  tc.max_len = 64;
  tc.dropout = 0.f;
  tc.norm_first = true;
  tc.pad_id = kPad;
  nn::Seq2SeqTransformer transformer(tc, init);

  nn::DecodeOptions dec;
  dec.bos_id = kBos;
  dec.eos_id = kEos;
  dec.pad_id = kPad;
  dec.max_len = o.max_len + 4;
  auto gru_model = [&](const char* name, nn::GRUSeq2Seq& m) {
    return Model{name, &m, [&m](const Batch& b) { return m.forward(b.src, b.src_keep, b.tgt_in); },
                 [&m, dec](const std::vector<std::vector<int64_t>>& s) {
                   return nn::greedy_decode(m, s, dec);
                 }};
  };
  std::vector<Model> models = {
      gru_model("GRU, fixed context C", plain), gru_model("GRU + additive attention", attentive),
      Model{"Transformer", &transformer,
            [&](const Batch& b) {
              return transformer.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);
            },
            [&](const std::vector<std::vector<int64_t>>& s) {
              return nn::greedy_decode(transformer, s, dec);
            }}};

  std::printf("task: reverse a random sequence of %lld symbols, lengths %lld-%lld\n",
              (long long)o.symbols, (long long)o.min_len, (long long)o.max_len);
  std::printf(
      "training: %lld steps of %lld sequences, Adam lr %g (100-step warm-up), clip 1, seed %llu\n",
      (long long)o.steps, (long long)o.batch, o.lr, (unsigned long long)o.seed);
  for (Model& m : models) train_or_load(m, o, timing, save_dir, load_dir);

  print_accuracy_table(models, o, svg);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return app::run_app("ch06_rnn_vs_attention", run, argc, argv, /*runtime_settings=*/false);
}
