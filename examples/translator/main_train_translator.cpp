// build/train_translator: trains the toy English→Chinese Transformer (chapters 12–13).
//
//   build/train_translator                      # the shipped corpus, the default model
//   build/train_translator --task copy --steps 300 --d-model 32 --checkpoint /tmp/copy.ckpt
//   build/train_translator --resume translator.ckpt --steps 4000
//
// The last line it prints is always the JSON
//   {"exact_match": …, "bleu": …, "train_seconds": …, "checkpoint": "…"}
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "data/batch.h"
#include "data/corpus.h"
#include "data/synthetic.h"
#include "data/tokenizer.h"
#include "examples/cli.h"
#include "examples/translator/checkpoint.h"
#include "examples/translator/pipeline.h"
#include "examples/translator/svg.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "nn/train.h"

using namespace qkv;
using app::UsageError;

namespace {

// Every training setting, with the defaults `make train` uses.
struct Settings {
  std::string corpus = "data/corpora/en_zh_train.tsv";
  std::string test = "data/corpora/en_zh_test.tsv";
  std::string task;  // "", "copy" or "reverse"
  int64_t task_pairs = 4000, task_vocab = 10, task_max_len = 8;
  int64_t steps = 1200, epochs = 0;
  int64_t batch_size = 64, max_tokens = 0;
  double lr = 3e-3;  // the peak learning rate, reached at the end of the warm-up
  int64_t warmup = 250;
  std::string schedule = "cosine";  // noam: then ∝ 1/√step; cosine: then down to 0 by the last step
  double label_smoothing = 0.1, clip = 1.0;
  int64_t seed = 1;
};

std::map<std::string, std::string> to_map(const Settings& s) {
  auto f = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return std::string(buf);
  };
  return {{"corpus", s.corpus},
          {"test", s.test},
          {"task", s.task.empty() ? "-" : s.task},
          {"task_pairs", std::to_string(s.task_pairs)},
          {"task_vocab", std::to_string(s.task_vocab)},
          {"task_max_len", std::to_string(s.task_max_len)},
          {"steps", std::to_string(s.steps)},
          {"batch_size", std::to_string(s.batch_size)},
          {"max_tokens", std::to_string(s.max_tokens)},
          {"lr", f(s.lr)},
          {"warmup", std::to_string(s.warmup)},
          {"schedule", s.schedule},
          {"label_smoothing", f(s.label_smoothing)},
          {"clip", f(s.clip)},
          {"seed", std::to_string(s.seed)}};
}

// On --resume: every setting the user did not give on the command line comes from the
// checkpoint, so that the continued run is the same run.
void from_map(const std::map<std::string, std::string>& m, const app::ArgParser& args,
              Settings& s) {
  auto str = [&](const char* key, const char* flag, std::string& v) {
    if (!args.given(flag) && m.count(key)) v = m.at(key);
  };
  auto i64 = [&](const char* key, const char* flag, int64_t& v) {
    if (!args.given(flag) && m.count(key)) v = app::parse_int(key, m.at(key));
  };
  auto dbl = [&](const char* key, const char* flag, double& v) {
    if (!args.given(flag) && m.count(key)) v = app::parse_double(key, m.at(key));
  };
  str("corpus", "--corpus", s.corpus);
  str("test", "--test", s.test);
  str("task", "--task", s.task);
  if (s.task == "-") s.task.clear();
  i64("task_pairs", "--task-pairs", s.task_pairs);
  i64("task_vocab", "--task-vocab", s.task_vocab);
  i64("task_max_len", "--task-max-len", s.task_max_len);
  if (!args.given("--epochs")) i64("steps", "--steps", s.steps);
  i64("batch_size", "--batch-size", s.batch_size);
  i64("max_tokens", "--max-tokens", s.max_tokens);
  dbl("lr", "--lr", s.lr);
  i64("warmup", "--warmup", s.warmup);
  str("schedule", "--schedule", s.schedule);
  dbl("label_smoothing", "--label-smoothing", s.label_smoothing);
  dbl("clip", "--clip", s.clip);
  i64("seed", "--seed", s.seed);
}

// The learning rate of step `step` (counting from 1) under the run's schedule.
float learning_rate(const Settings& s, int64_t step, int64_t d_model, int64_t total) {
  return s.schedule == "cosine" ? nn::warmup_cosine_lr(step, s.lr, s.warmup, total)
                                : nn::warmup_inverse_sqrt_lr(step, s.lr, s.warmup, d_model);
}

struct Data {
  std::vector<data::SentencePair> train, test;
  std::string description;
};

Data load_data(const Settings& s, const app::ArgParser& args) {
  Data d;
  if (!s.task.empty()) {
    data::SyntheticOptions o;
    o.num_pairs = static_cast<int>(s.task_pairs);
    o.vocab_size = static_cast<int>(s.task_vocab);
    o.max_len = static_cast<int>(s.task_max_len);
    o.seed = static_cast<uint64_t>(s.seed);
    d.train = s.task == "copy" ? data::make_copy_task(o) : data::make_reverse_task(o);
    o.num_pairs = std::max(1, o.num_pairs / 10);
    o.seed = static_cast<uint64_t>(s.seed) + 1000003;
    d.test = s.task == "copy" ? data::make_copy_task(o) : data::make_reverse_task(o);
    d.description = "synthetic " + s.task + " task (" + std::to_string(s.task_vocab) +
                    " symbols, lengths 1–" + std::to_string(s.task_max_len) + ")";
    return d;
  }
  d.train = data::load_tsv(s.corpus).pairs;
  const bool test_given = args.given("--test") || s.test != "data/corpora/en_zh_test.tsv" ||
                          s.corpus == "data/corpora/en_zh_train.tsv";
  if (test_given && s.test != "-") {
    d.test = data::load_tsv(s.test).pairs;
    d.description = s.corpus + " (test: " + s.test + ")";
  } else {
    // A custom corpus without --test: hold out a tenth of it, by a hash of the source.
    auto split = data::split_by_source(d.train, 0.1, static_cast<uint64_t>(s.seed));
    d.train = std::move(split.train);
    d.test = std::move(split.test);
    d.description = s.corpus + " (a tenth held out for test)";
  }
  if (d.train.empty()) throw std::runtime_error(s.corpus + ": no sentence pairs to train on");
  return d;
}

void print_worst(const app::Evaluation& e, const std::vector<data::SentencePair>& test,
                 size_t count) {
  if (e.worst.empty()) {
    std::printf("every test pair was translated exactly\n");
    return;
  }
  std::printf("the %zu worst test translations (of %zu that differ from the reference):\n",
              std::min(count, e.worst.size()), e.worst.size());
  for (size_t k = 0; k < std::min(count, e.worst.size()); ++k) {
    const size_t i = e.worst[k];
    std::printf("  source     %s\n  reference  %s\n  model      %s\n", test[i].source.c_str(),
                data::detokenize(test[i].tgt_tokens).c_str(),
                data::detokenize(e.hypotheses[i]).c_str());
  }
}

int run(int argc, char** argv) {
  Settings s;
  std::string checkpoint = "translator.ckpt", resume, loss_svg, progress = "auto";
  int64_t d_model = 64, heads = 4, d_ff = 256, layers = 2, enc_layers = -1, dec_layers = -1,
          max_len = 64;
  // No dropout by default: the toy corpus comes from a grammar and does not overfit in
  // 1200 steps (docs/12-training.md), and without it training is a quarter faster.
  double dropout = 0.0;
  int64_t threads = 0, checkpoint_every = 0, log_every = 0, show_worst = 5;
  bool pre_norm = false, gelu = false, untied = false;

  app::ArgParser args(
      "train_translator",
      "Trains a Transformer translator on a TSV corpus (source<TAB>target per line), evaluates\n"
      "it on the test split and prints, last, one JSON line:\n"
      "  {\"exact_match\": …, \"bleu\": …, \"train_seconds\": …, \"checkpoint\": \"…\"}");
  args.option("--corpus", "TRAIN.tsv", "training pairs (default data/corpora/en_zh_train.tsv)",
              s.corpus);
  args.option("--test", "TEST.tsv",
              "test pairs (default data/corpora/en_zh_test.tsv; '-' = hold out 10%)", s.test);
  args.option("--task", "copy|reverse", "train on a synthetic task instead of a corpus", s.task);
  args.option("--task-pairs", "N", "synthetic training pairs (default 4000; test: a tenth)",
              s.task_pairs);
  args.option("--task-vocab", "N", "synthetic symbols (default 10)", s.task_vocab);
  args.option("--task-max-len", "N", "longest synthetic sequence (default 8)", s.task_max_len);
  args.option("--checkpoint", "OUT", "where to write the checkpoint (default translator.ckpt)",
              checkpoint);
  args.option("--steps", "N",
              "optimizer steps in all (default 1200; with --resume: the total to reach)", s.steps);
  args.option("--epochs", "N", "train for N passes over the corpus instead of --steps", s.epochs);
  args.option("--d-model", "N", "model width (default 64)", d_model);
  args.option("--heads", "N", "attention heads (default 4)", heads);
  args.option("--d-ff", "N", "feed-forward hidden width (default 256)", d_ff);
  args.option("--layers", "N", "encoder and decoder layers (default 2)", layers);
  args.option("--enc-layers", "N", "encoder layers (default: --layers)", enc_layers);
  args.option("--dec-layers", "N", "decoder layers (default: --layers)", dec_layers);
  args.option("--dropout", "P", "dropout probability (default 0; 0.1 for real data)", dropout);
  args.option("--max-len", "N", "longest sequence the model handles (default 64)", max_len);
  args.flag("--pre-norm", "pre-norm Add&Norm instead of the paper's post-norm", pre_norm);
  args.flag("--gelu", "GELU in the feed-forward layers instead of ReLU", gelu);
  args.flag("--untied", "a separate output projection (default: tied to the target embedding)",
            untied);
  args.option("--batch-size", "N", "sentence pairs per batch (default 64)", s.batch_size);
  args.option("--max-tokens", "N",
              "token budget per batch instead of --batch-size (padding included)", s.max_tokens);
  args.option("--lr", "LR", "peak learning rate, reached after the warm-up (default 3e-3)", s.lr);
  args.option("--warmup", "N", "warm-up steps (default 250)", s.warmup);
  args.option("--schedule", "noam|cosine",
              "decay after the warm-up: 1/sqrt(step) or cosine to 0 (default cosine)", s.schedule);
  args.option("--label-smoothing", "EPS", "label smoothing (default 0.1)", s.label_smoothing);
  args.option("--clip", "NORM",
              "gradient clipping: the largest global gradient norm (default 1; 0 = off)", s.clip);
  args.option("--seed", "N", "seed for initialisation, shuffling and dropout (default 1)", s.seed);
  args.option("--threads", "N", "OpenMP threads (default: OMP_NUM_THREADS or every core)", threads);
  args.option("--checkpoint-every", "N",
              "also write the checkpoint every N steps (default: only at the end)",
              checkpoint_every);
  args.option(
      "--resume", "PATH",
      "continue training from a checkpoint (model, Adam state, data position, dropout generators)",
      resume);
  args.option("--loss-svg", "PATH", "draw the loss curve (and the learning rate) into an SVG file",
              loss_svg);
  args.option("--progress", "auto|live|lines",
              "live: one line redrawn with \\r; lines: a line every --log-every steps; auto: live "
              "on a terminal",
              progress);
  args.option("--log-every", "N",
              "progress every N steps (default: ~40 lines, or live on a terminal)", log_every);
  args.option("--show-worst", "N", "print the N worst test translations (default 5)", show_worst);
  if (!args.parse(argc, argv)) return 0;

  std::unique_ptr<app::Checkpoint> ckpt;
  if (!resume.empty()) {
    ckpt = std::make_unique<app::Checkpoint>(app::load_checkpoint(resume));
    try {
      from_map(ckpt->state.settings, args, s);
    } catch (const UsageError& e) {  // a bad number in the file, not on the command line
      throw std::runtime_error(resume + ": training setting " + e.what() +
                               " (a corrupt checkpoint)");
    }
  }
  // Validate every number before doing any work.
  auto positive = [](const char* flag, int64_t v) {
    if (v <= 0) throw UsageError(std::string(flag) + " must be positive, got " + std::to_string(v));
  };
  if (!s.task.empty() && s.task != "copy" && s.task != "reverse")
    throw UsageError("--task must be copy or reverse, got '" + s.task + "'");
  if (s.schedule != "noam" && s.schedule != "cosine")
    throw UsageError("--schedule must be noam or cosine, got '" + s.schedule + "'");
  positive("--steps", s.steps);
  positive("--d-model", d_model);
  positive("--heads", heads);
  positive("--d-ff", d_ff);
  positive("--max-len", max_len);
  positive("--task-pairs", s.task_pairs);
  positive("--task-vocab", s.task_vocab);
  positive("--task-max-len", s.task_max_len);
  if (layers < 1) throw UsageError("--layers must be at least 1");
  if (enc_layers < 0) enc_layers = layers;
  if (dec_layers < 0) dec_layers = layers;
  if (enc_layers < 1 || dec_layers < 1)
    throw UsageError("--enc-layers and --dec-layers must be at least 1");
  if (d_model % heads != 0)
    throw UsageError("--d-model (" + std::to_string(d_model) + ") must be a multiple of --heads (" +
                     std::to_string(heads) + ")");
  if (dropout < 0 || dropout >= 1) throw UsageError("--dropout must be in [0, 1)");
  if (s.label_smoothing < 0 || s.label_smoothing >= 1)
    throw UsageError("--label-smoothing must be in [0, 1)");
  if (s.lr <= 0) throw UsageError("--lr must be positive");
  if (s.warmup < 0) throw UsageError("--warmup must not be negative");
  if (s.clip < 0) throw UsageError("--clip must not be negative");
  if (s.batch_size <= 0 && s.max_tokens <= 0) throw UsageError("--batch-size must be positive");
  if (s.max_tokens < 0) throw UsageError("--max-tokens must not be negative");
  if (s.epochs < 0) throw UsageError("--epochs must not be negative");
  if (threads < 0 || checkpoint_every < 0 || log_every < 0 || show_worst < 0)
    throw UsageError(
        "--threads, --checkpoint-every, --log-every and --show-worst must not be negative");
  if (args.given("--steps") && args.given("--epochs"))
    throw UsageError("give --steps or --epochs, not both");
  if (progress != "auto" && progress != "live" && progress != "lines")
    throw UsageError("--progress must be auto, live or lines, got '" + progress + "'");
  // Resuming without --checkpoint continues in the same file.
  if (!resume.empty() && !args.given("--checkpoint")) checkpoint = resume;

  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("OpenMP: %d threads (%d processors available), OMP_WAIT_POLICY=%s\n",
              omp_get_max_threads(), omp_get_num_procs(), wait_policy ? wait_policy : "(unset)");

  // --- data -----------------------------------------------------------------------------
  Data d = load_data(s, args);
  data::Vocab src_vocab, tgt_vocab;
  if (ckpt) {
    src_vocab = ckpt->src_vocab;
    tgt_vocab = ckpt->tgt_vocab;
  } else {
    src_vocab = data::Vocab::build(data::source_tokens(d.train));
    tgt_vocab = data::Vocab::build(data::target_tokens(d.train));
  }
  const auto train_enc = data::encode_pairs(d.train, src_vocab, tgt_vocab);
  std::printf(
      "data: %s: %zu training pairs, %zu test pairs; vocabularies %d source, %d target tokens\n",
      d.description.c_str(), d.train.size(), d.test.size(), src_vocab.size(), tgt_vocab.size());
  size_t longest = 0;
  for (const auto& p : train_enc) longest = std::max({longest, p.src.size(), p.tgt.size() + 1});
  for (const auto& p : d.test)
    longest = std::max({longest, p.src_tokens.size(), p.tgt_tokens.size() + 1});

  // --- model ----------------------------------------------------------------------------
  nn::Seq2SeqConfig config;
  if (ckpt) {
    config = ckpt->config;
    for (const char* flag :
         {"--d-model", "--heads", "--d-ff", "--layers", "--enc-layers", "--dec-layers", "--dropout",
          "--max-len", "--pre-norm", "--gelu", "--untied"})
      if (args.given(flag))
        std::fprintf(stderr, "note: %s is ignored with --resume (the checkpoint's model is used)\n",
                     flag);
  } else {
    config.src_vocab = src_vocab.size();
    config.tgt_vocab = tgt_vocab.size();
    config.d_model = d_model;
    config.heads = heads;
    config.d_ff = d_ff;
    config.encoder_layers = enc_layers;
    config.decoder_layers = dec_layers;
    config.max_len = std::max<int64_t>(max_len, static_cast<int64_t>(longest) + 2);
    config.dropout = static_cast<float>(dropout);
    config.norm_first = pre_norm;
    config.activation = gelu ? nn::Activation::GELU : nn::Activation::ReLU;
    config.tie_output = !untied;
    config.pad_id = data::Vocab::kPad;
  }
  if (static_cast<int64_t>(longest) + 1 > config.max_len)
    throw std::runtime_error("a sentence has " + std::to_string(longest) +
                             " tokens, more than the model's max_len " +
                             std::to_string(config.max_len) + " allows (--max-len)");
  Generator gen(static_cast<uint64_t>(s.seed));
  nn::Seq2SeqTransformer model(config, gen);
  nn::Adam opt(model.parameters(), static_cast<float>(s.lr), 0.9f, 0.98f, 1e-9f);
  std::vector<float> losses, lrs;
  app::TrainState state;
  if (ckpt) {
    app::load_weights(*ckpt, model, resume);
    app::load_optimizer(*ckpt, model, opt, resume);
    if (!app::load_rng(*ckpt, model, resume) && config.dropout > 0)
      std::fprintf(
          stderr,
          "note: %s is a version 1 checkpoint, without the dropout generators' states: the "
          "resumed run draws other dropout masks than an uninterrupted run would\n",
          resume.c_str());
    state = ckpt->state;
    losses = ckpt->losses;
    for (int64_t i = 1; i <= static_cast<int64_t>(losses.size()); ++i)
      lrs.push_back(learning_rate(s, i, config.d_model, s.steps));
    std::printf("resuming from %s at step %lld (epoch %lld, batch %lld)\n", resume.c_str(),
                static_cast<long long>(state.step), static_cast<long long>(state.epoch),
                static_cast<long long>(state.batch_in_epoch));
  }
  state.settings = to_map(s);
  std::printf(
      "model: d_model %lld, %lld heads, d_ff %lld, %lld+%lld layers, dropout %.2g, %s, %lld "
      "parameters\n",
      static_cast<long long>(config.d_model), static_cast<long long>(config.heads),
      static_cast<long long>(config.d_ff), static_cast<long long>(config.encoder_layers),
      static_cast<long long>(config.decoder_layers), static_cast<double>(config.dropout),
      config.norm_first ? "pre-norm" : "post-norm", static_cast<long long>(model.num_parameters()));

  // --- the batch plan: a deterministic function of (seed, epoch) ----------------------
  data::BatchOptions bopt;
  bopt.batch_size = static_cast<size_t>(std::max<int64_t>(s.batch_size, 1));
  bopt.max_tokens = static_cast<size_t>(s.max_tokens);
  bopt.seed = static_cast<uint64_t>(s.seed);
  auto plan_for = [&](int64_t epoch) {
    return data::plan_batches(train_enc, bopt, static_cast<uint64_t>(epoch));
  };
  if (s.epochs > 0) {
    s.steps = 0;
    for (int64_t e = 0; e < s.epochs; ++e) s.steps += static_cast<int64_t>(plan_for(e).size());
    state.settings = to_map(s);
  }
  const int64_t total = s.steps;
  const int64_t batches_per_epoch = static_cast<int64_t>(plan_for(0).size());
  std::printf(
      "training: %lld steps (%.1f epochs of %lld batches), peak lr %.3g, warm-up %lld, %s "
      "schedule, "
      "label smoothing %.2g\n",
      static_cast<long long>(total),
      static_cast<double>(total) / static_cast<double>(batches_per_epoch),
      static_cast<long long>(batches_per_epoch), s.lr, static_cast<long long>(s.warmup),
      s.schedule.c_str(), s.label_smoothing);

  // --- the training loop --------------------------------------------------------------
  const bool live = progress == "live" || (progress == "auto" && isatty(STDOUT_FILENO));
  if (log_every == 0) log_every = std::max<int64_t>(1, (total - state.step) / 40);
  auto plan = plan_for(state.epoch);
  std::string last_saved;
  const auto t_start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  };
  int64_t tokens = 0, first_step = state.step;
  double window_loss = 0;
  int64_t window_n = 0;
  double last_draw = -1;
  auto save = [&] {
    app::save_checkpoint(checkpoint, config, src_vocab, tgt_vocab, model, &opt, state, losses);
    last_saved = checkpoint + " (step " + std::to_string(state.step) + ")";
  };
  app::BatchTensors b;
  auto loss_at = [&](int64_t) {
    if (state.batch_in_epoch >= static_cast<int64_t>(plan.size())) {
      ++state.epoch;
      state.batch_in_epoch = 0;
      plan = plan_for(state.epoch);
    }
    b = app::to_tensors(
        data::make_batch(train_enc, plan[static_cast<size_t>(state.batch_in_epoch)]));
    Tensor logits = model.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);
    return cross_entropy(reshape(logits, {-1, config.tgt_vocab}), b.tgt_out, data::Vocab::kPad,
                         static_cast<float>(s.label_smoothing));
  };
  nn::LoopOptions loop;
  loop.first_step = state.step + 1;
  loop.clip = s.clip;
  loop.lr = [&](int64_t step) { return learning_rate(s, step, config.d_model, total); };
  loop.on_step = [&](const nn::StepResult& r) {
    ++state.step;
    ++state.batch_in_epoch;
    losses.push_back(r.loss);
    lrs.push_back(opt.lr);
    tokens += b.tokens;
    window_loss += r.loss;
    ++window_n;
    if (checkpoint_every > 0 && state.step % checkpoint_every == 0 && state.step < total) save();

    // On a terminal: one line redrawn in place, at most ten times a second. Otherwise
    // (a log file, a pipe): a plain line every log_every steps.
    const double now = elapsed();
    const bool report =
        state.step == total || (live ? now - last_draw >= 0.1 : state.step % log_every == 0);
    if (report) {
      last_draw = now;
      const double rate = static_cast<double>(tokens) / std::max(now, 1e-9);
      const double eta = now / static_cast<double>(state.step - first_step) *
                         static_cast<double>(total - state.step);
      const int width = 12, filled = static_cast<int>(width * state.step / total);
      char line[256];
      std::snprintf(line, sizeof line,
                    "step %lld/%lld [%s%s] ep %.1f loss %.3f lr %.1e %.1fk tok/s ETA %s",
                    static_cast<long long>(state.step), static_cast<long long>(total),
                    std::string(static_cast<size_t>(filled), '#').c_str(),
                    std::string(static_cast<size_t>(width - filled), '.').c_str(),
                    static_cast<double>(state.epoch) + static_cast<double>(state.batch_in_epoch) /
                                                           static_cast<double>(plan.size()),
                    window_loss / static_cast<double>(window_n), static_cast<double>(opt.lr),
                    rate / 1000, app::format_duration(eta).c_str());
      // The loss shown is the mean since the last line (live: over at least 20 steps).
      if (live) {
        std::printf("\r%-79s", line);
        if (window_n >= 20) window_loss = 0, window_n = 0;
        if (state.step == total) std::printf("\n");
      } else {
        std::printf("%s\n", line);
        window_loss = 0;
        window_n = 0;
      }
      std::fflush(stdout);
    }
  };
  model.train();
  const nn::StepResult last = nn::fit(opt, total, loss_at, loop);
  if (!last.finite) {
    if (live) std::printf("\n");
    std::fflush(stdout);
    char what[160];
    std::snprintf(what, sizeof what, "the loss became %s at step %lld (lr %.3g); training stopped.",
                  std::isnan(last.loss)   ? "NaN"
                  : std::isinf(last.loss) ? "infinite"
                                          : "finite but its gradient NaN or infinite",
                  static_cast<long long>(last.step), static_cast<double>(opt.lr));
    throw std::runtime_error(std::string(what) + " Try a lower --lr or a longer --warmup. " +
                             (last_saved.empty()
                                  ? std::string("No checkpoint was written in this run.")
                                  : "The last good checkpoint is " + last_saved + "."));
  }
  const double train_seconds = elapsed();
  std::printf("trained %lld steps in %s (%.1fk tokens/s)\n",
              static_cast<long long>(total - first_step),
              app::format_duration(train_seconds).c_str(),
              static_cast<double>(tokens) / std::max(train_seconds, 1e-9) / 1000);
  save();
  std::printf("checkpoint: %s\n", checkpoint.c_str());
  if (!loss_svg.empty()) {
    char title[160];
    std::snprintf(
        title, sizeof title, "training loss (label smoothing %.2g), d_model %lld, %lld steps",
        s.label_smoothing, static_cast<long long>(config.d_model), static_cast<long long>(total));
    std::ofstream out(loss_svg);
    out << app::loss_curve_svg(losses, lrs, title);
    if (!out) throw std::runtime_error("cannot write " + loss_svg);
    std::printf("loss curve: %s\n", loss_svg.c_str());
  }

  // --- evaluation on the test split -----------------------------------------------------
  const auto t_eval = std::chrono::steady_clock::now();
  app::Evaluation e = app::evaluate(model, d.test, src_vocab, tgt_vocab, app::TranslateOptions{});
  const double eval_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_eval).count();
  print_worst(e, d.test, static_cast<size_t>(show_worst));
  std::printf(
      "test: %zu pairs, exact match %.4f, BLEU %.4f (precisions %.3f/%.3f/%.3f/%.3f, brevity "
      "penalty %.3f), "
      "greedy decoding in %s\n",
      d.test.size(), e.exact_match, e.bleu.bleu, e.bleu.precisions[0], e.bleu.precisions[1],
      e.bleu.precisions[2], e.bleu.precisions[3], e.bleu.brevity_penalty,
      app::format_duration(eval_seconds).c_str());
  std::printf(
      "{\"exact_match\": %.4f, \"bleu\": %.4f, \"train_seconds\": %.1f, \"checkpoint\": \"%s\"}\n",
      e.exact_match, e.bleu.bleu, train_seconds, app::json_escape(checkpoint).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return app::run_app("train_translator", run, argc, argv); }
