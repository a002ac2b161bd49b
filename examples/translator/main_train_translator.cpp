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
#include <csignal>
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
#include "examples/plot/line_chart.h"
#include "examples/translator/checkpoint.h"
#include "examples/translator/interrupt.h"
#include "examples/translator/pipeline.h"
#include "examples/translator/train_flags.h"
#include "nn/data_parallel.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "nn/seq2seq_shards.h"
#include "nn/train.h"

using namespace qkv;
using app::Flags;
using app::ModelFlags;
using app::Settings;
using app::UsageError;

namespace {

// The learning rate of step `step` (counting from 1) under the run's schedule.
float learning_rate(const Settings& s, int64_t step, int64_t d_model, int64_t total) {
  return s.schedule == "cosine" ? nn::warmup_cosine_lr(step, s.lr, s.warmup, total)
                                : nn::warmup_inverse_sqrt_lr(step, s.lr, s.warmup, d_model);
}

struct Data {
  std::vector<data::SentencePair> train, test, phrases;
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
  data::CorpusOptions copt;
  copt.skip_bad_lines = s.skip_bad_lines;
  auto load = [&](const std::string& path) {
    data::Corpus c = data::load_tsv(path, copt);
    if (c.stats.skipped_bad > 0) {
      std::printf("%s: skipped %zu malformed lines (--skip-bad-lines), e.g.\n", path.c_str(),
                  c.stats.skipped_bad);
      for (const auto& m : c.stats.bad_examples) std::printf("  %s\n", m.c_str());
    }
    return std::move(c.pairs);
  };
  d.train = load(s.corpus);
  const bool test_given = args.given("--test") || s.test != "data/corpora/en_zh_test.tsv" ||
                          s.corpus == "data/corpora/en_zh_train.tsv";
  if (test_given && s.test != "-") {
    d.test = load(s.test);
    d.description = s.corpus + " (test: " + s.test + ")";
  } else {
    // A custom corpus without --test: hold out a tenth of it, by a hash of the source.
    auto split = data::split_by_source(d.train, 0.1, static_cast<uint64_t>(s.seed));
    d.train = std::move(split.train);
    d.test = std::move(split.test);
    d.description = s.corpus + " (a tenth held out for test)";
  }
  if (d.train.empty()) throw std::runtime_error(s.corpus + ": no sentence pairs to train on");
  const std::string phrases = !s.phrases.empty()                ? s.phrases
                              : s.corpus == app::kDefaultCorpus ? app::kDefaultPhrases
                                                                : "";
  if (!phrases.empty()) {
    d.phrases = load(phrases);
    d.train = data::oversample(std::move(d.train), d.phrases, static_cast<int>(s.phrase_copies));
    d.description += ", " + std::to_string(d.phrases.size()) + " phrases from " + phrases + " × " +
                     std::to_string(s.phrase_copies);
  }
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

// On --resume: the checkpoint, and every setting the command line did not give from it.
std::unique_ptr<app::Checkpoint> load_resume(Flags& f, const app::ArgParser& args) {
  if (f.r.resume.empty()) return nullptr;
  auto ckpt = std::make_unique<app::Checkpoint>(app::load_checkpoint(f.r.resume));
  try {
    from_map(ckpt->state.settings, args, f.s);
  } catch (const UsageError& e) {  // a bad number in the file, not on the command line
    throw std::runtime_error(f.r.resume + ": training setting " + e.what() +
                             " (a corrupt checkpoint)");
  }
  // Resuming without --checkpoint continues in the same file.
  if (!args.given("--checkpoint")) f.r.checkpoint = f.r.resume;
  return ckpt;
}

// Neither --threads nor OMP_NUM_THREADS given: train times its first steps on one thread and on
// all of them, and goes on with the faster (nn/thread_choice.h). Returns whether it will.
bool set_threads(int64_t threads) {
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
  const bool choose =
      threads == 0 && std::getenv("OMP_NUM_THREADS") == nullptr && omp_get_max_threads() > 1;
  std::printf("OpenMP: %s%d threads (%d processors available), %s\n", choose ? "1 or " : "",
              omp_get_max_threads(), omp_get_num_procs(), app::omp_wait_setting().c_str());
  return choose;
}

// The corpus as the model sees it: vocabularies (the checkpoint's when resuming), the
// training pairs as ids, and the longest sentence in tokens.
struct Corpus {
  Data d;
  data::Vocab src_vocab, tgt_vocab;
  std::vector<data::EncodedPair> train_enc;
  size_t longest = 0;
};

Corpus load_corpus(const Settings& s, const app::ArgParser& args, const app::Checkpoint* ckpt) {
  Corpus c;
  c.d = load_data(s, args);
  c.src_vocab = ckpt ? ckpt->src_vocab : data::Vocab::build(data::source_tokens(c.d.train));
  c.tgt_vocab = ckpt ? ckpt->tgt_vocab : data::Vocab::build(data::target_tokens(c.d.train));
  c.train_enc = data::encode_pairs(c.d.train, c.src_vocab, c.tgt_vocab);
  std::printf(
      "data: %s: %zu training pairs, %zu test pairs; vocabularies %d source, %d target tokens\n",
      c.d.description.c_str(), c.d.train.size(), c.d.test.size(), c.src_vocab.size(),
      c.tgt_vocab.size());
  for (const auto& p : c.train_enc)
    c.longest = std::max({c.longest, p.src.size(), p.tgt.size() + 1});
  for (const auto& p : c.d.test)
    c.longest = std::max({c.longest, p.src_tokens.size(), p.tgt_tokens.size() + 1});
  return c;
}

// The model's config: from the flags, or the checkpoint's (then model flags are ignored).
nn::Seq2SeqConfig model_config(const ModelFlags& m, const Corpus& c, const app::Checkpoint* ckpt,
                               const app::ArgParser& args) {
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
    config.src_vocab = c.src_vocab.size();
    config.tgt_vocab = c.tgt_vocab.size();
    config.d_model = m.d_model;
    config.heads = m.heads;
    config.d_ff = m.d_ff;
    config.encoder_layers = m.enc_layers;
    config.decoder_layers = m.dec_layers;
    config.max_len = std::max<int64_t>(m.max_len, static_cast<int64_t>(c.longest) + 2);
    config.dropout = static_cast<float>(m.dropout);
    config.norm_first = m.pre_norm;
    config.activation = m.gelu ? nn::Activation::GELU : nn::Activation::ReLU;
    config.tie_output = !m.untied;
    config.pad_id = data::Vocab::kPad;
  }
  if (static_cast<int64_t>(c.longest) + 1 > config.max_len)
    throw std::runtime_error("a sentence has " + std::to_string(c.longest) +
                             " tokens, more than the model's max_len " +
                             std::to_string(config.max_len) + " allows (--max-len)");
  return config;
}

// What training changes: the model, Adam, where the run stands and its loss history.
struct Run {
  Run(const nn::Seq2SeqConfig& config, Generator& gen, double lr)
      : config(config),
        model(config, gen),
        opt(model.named_parameters(), static_cast<float>(lr), 0.9f, 0.98f, 1e-9f) {}
  nn::Seq2SeqConfig config;
  nn::Seq2SeqTransformer model;
  nn::Adam opt;
  app::TrainState state;
  std::vector<float> losses, lrs;
  int interrupted = 0;  // the signal that stopped training (its checkpoint is written), or 0
};

std::unique_ptr<Run> build_run(const Flags& f, const Corpus& c, const app::Checkpoint* ckpt,
                               const app::ArgParser& args) {
  Generator gen(static_cast<uint64_t>(f.s.seed));
  auto run = std::make_unique<Run>(model_config(f.m, c, ckpt, args), gen, f.s.lr);
  if (ckpt) {
    const std::string& path = f.r.resume;
    app::load_weights(*ckpt, run->model, path);
    app::load_optimizer(*ckpt, run->opt, path);
    if (!app::load_rng(*ckpt, run->model, path) && run->config.dropout > 0)
      std::fprintf(
          stderr,
          "note: %s is a version 1 checkpoint, without the dropout generators' states: the "
          "resumed run draws other dropout masks than an uninterrupted run would\n",
          path.c_str());
    run->state = ckpt->state;
    run->losses = ckpt->losses;
    for (int64_t i = 1; i <= static_cast<int64_t>(run->losses.size()); ++i)
      run->lrs.push_back(learning_rate(f.s, i, run->config.d_model, f.s.steps));
    std::printf("resuming from %s at step %lld (epoch %lld, batch %lld)\n", path.c_str(),
                static_cast<long long>(run->state.step), static_cast<long long>(run->state.epoch),
                static_cast<long long>(run->state.batch_in_epoch));
  }
  run->state.settings = to_map(f.s);
  const nn::Seq2SeqConfig& k = run->config;
  std::printf(
      "model: d_model %lld, %lld heads, d_ff %lld, %lld+%lld layers, dropout %.2g, %s, %lld "
      "parameters\n",
      static_cast<long long>(k.d_model), static_cast<long long>(k.heads),
      static_cast<long long>(k.d_ff), static_cast<long long>(k.encoder_layers),
      static_cast<long long>(k.decoder_layers), static_cast<double>(k.dropout),
      k.norm_first ? "pre-norm" : "post-norm", static_cast<long long>(run->model.num_parameters()));
  return run;
}

// The batch plan, a deterministic function of (seed, epoch); with --epochs, the step count.
struct Plan {
  data::BatchOptions options;
  const std::vector<data::EncodedPair>* pairs = nullptr;
  std::vector<std::vector<size_t>> for_epoch(int64_t epoch) const {
    return data::plan_batches(*pairs, options, static_cast<uint64_t>(epoch));
  }
};

Plan plan_training(Settings& s, const Corpus& c, Run& run) {
  Plan plan;
  plan.pairs = &c.train_enc;
  plan.options.batch_size = static_cast<size_t>(std::max<int64_t>(s.batch_size, 1));
  plan.options.max_tokens = static_cast<size_t>(s.max_tokens);
  plan.options.seed = static_cast<uint64_t>(s.seed);
  if (s.epochs > 0) {
    s.steps = 0;
    for (int64_t e = 0; e < s.epochs; ++e)
      s.steps += static_cast<int64_t>(plan.for_epoch(e).size());
    run.state.settings = to_map(s);
  }
  const int64_t batches_per_epoch = static_cast<int64_t>(plan.for_epoch(0).size());
  std::printf(
      "training: %lld steps (%.1f epochs of %lld batches), peak lr %.3g, warm-up %lld, %s "
      "schedule, "
      "label smoothing %.2g, each batch in %lld shard%s\n",
      static_cast<long long>(s.steps),
      static_cast<double>(s.steps) / static_cast<double>(batches_per_epoch),
      static_cast<long long>(batches_per_epoch), s.lr, static_cast<long long>(s.warmup),
      s.schedule.c_str(), s.label_smoothing, static_cast<long long>(s.shards),
      s.shards == 1 ? "" : "s");
  return plan;
}

// The progress line: on a terminal one line redrawn in place, at most ten times a second;
// otherwise (a log file, a pipe) a plain line every log_every steps. The loss shown is the
// mean since the last line (live: over at least 20 steps).
class Progress {
 public:
  Progress(bool live, int64_t log_every, int64_t first_step, int64_t total)
      : live_(live), log_every_(log_every), first_step_(first_step), total_(total) {}
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  int64_t tokens() const { return tokens_; }
  bool live() const { return live_; }

  void step(const app::TrainState& st, float loss, float lr, int64_t tokens, double epochs) {
    tokens_ += tokens;
    window_loss_ += loss;
    ++window_n_;
    const double now = elapsed();
    if (st.step != total_ && (live_ ? now - last_draw_ < 0.1 : st.step % log_every_ != 0)) return;
    last_draw_ = now;
    const double rate = static_cast<double>(tokens_) / std::max(now, 1e-9);
    const double eta =
        now / static_cast<double>(st.step - first_step_) * static_cast<double>(total_ - st.step);
    const int width = 12, filled = static_cast<int>(width * st.step / total_);
    char line[256];
    std::snprintf(line, sizeof line,
                  "step %lld/%lld [%s%s] ep %.1f loss %.3f lr %.1e %.1fk tok/s ETA %s",
                  static_cast<long long>(st.step), static_cast<long long>(total_),
                  std::string(static_cast<size_t>(filled), '#').c_str(),
                  std::string(static_cast<size_t>(width - filled), '.').c_str(), epochs,
                  window_loss_ / static_cast<double>(window_n_), static_cast<double>(lr),
                  rate / 1000, app::format_duration(eta).c_str());
    if (live_) {
      std::printf("\r%-79s", line);
      if (window_n_ >= 20) window_loss_ = 0, window_n_ = 0;
      if (st.step == total_) std::printf("\n");
    } else {
      std::printf("%s\n", line);
      window_loss_ = 0;
      window_n_ = 0;
    }
    std::fflush(stdout);
  }

 private:
  bool live_;
  int64_t log_every_, first_step_, total_, tokens_ = 0, window_n_ = 0;
  double window_loss_ = 0, last_draw_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

[[noreturn]] void diverged(const nn::StepResult& r, float lr, const std::string& last_saved) {
  char what[160];
  std::snprintf(what, sizeof what, "the loss became %s at step %lld (lr %.3g); training stopped.",
                std::isnan(r.loss)   ? "NaN"
                : std::isinf(r.loss) ? "infinite"
                                     : "finite but its gradient NaN or infinite",
                static_cast<long long>(r.step), static_cast<double>(lr));
  throw std::runtime_error(std::string(what) + " Try a lower --lr or a longer --warmup. " +
                           (last_saved.empty()
                                ? std::string("No checkpoint was written in this run.")
                                : "The last good checkpoint is " + last_saved + "."));
}

// The training loop (nn::fit) with this app's batches, progress and periodic checkpoints.
// Returns the training time in seconds.
double train(const Flags& f, const Corpus& c, const Plan& plan, Run& run, bool choose_threads) {
  const Settings& s = f.s;
  app::TrainState& st = run.state;
  const int64_t total = s.steps;
  const bool live = f.r.progress == "live" || (f.r.progress == "auto" && isatty(STDOUT_FILENO));
  const int64_t log_every =
      f.r.log_every > 0 ? f.r.log_every : std::max<int64_t>(1, (total - st.step) / 40);
  Progress progress(live, log_every, st.step, total);
  auto batches = plan.for_epoch(st.epoch);
  std::string last_saved;
  auto save = [&] {
    app::save_checkpoint(f.r.checkpoint, run.config, c.src_vocab, c.tgt_vocab, run.model, &run.opt,
                         st, run.losses);
    last_saved = f.r.checkpoint + " (step " + std::to_string(st.step) + ")";
  };
  app::BatchTensors b;
  // The model's replicas for the shards (nn/data_parallel.h): its weights, their own gradients.
  nn::DataParallel<nn::Seq2SeqTransformer> shards(run.model, static_cast<int>(s.shards), [&] {
    Generator unused(0);  // a replica's starting values are replaced by the model's
    return std::make_shared<nn::Seq2SeqTransformer>(run.config, unused);
  });
  auto forward_backward_at = [&](int64_t) {
    if (st.batch_in_epoch >= static_cast<int64_t>(batches.size())) {
      ++st.epoch;
      st.batch_in_epoch = 0;
      batches = plan.for_epoch(st.epoch);
    }
    b = app::to_tensors(
        data::make_batch(c.train_enc, batches[static_cast<size_t>(st.batch_in_epoch)]));
    return nn::seq2seq_backward_in_shards(shards,
                                          {b.src, b.src_keep, b.tgt_in, b.tgt_keep, b.tgt_out},
                                          data::Vocab::kPad, static_cast<float>(s.label_smoothing));
  };
  nn::LoopOptions loop;
  loop.first_step = st.step + 1;
  loop.clip = s.clip;
  loop.lr = [&](int64_t step) { return learning_rate(s, step, run.config.d_model, total); };
  loop.on_step = [&](const nn::StepResult& r) {
    ++st.step;
    ++st.batch_in_epoch;
    run.losses.push_back(r.loss);
    run.lrs.push_back(run.opt.lr);
    if (f.r.checkpoint_every > 0 && st.step % f.r.checkpoint_every == 0 && st.step < total) save();
    progress.step(st, r.loss, run.opt.lr, b.tokens,
                  static_cast<double>(st.epoch) +
                      static_cast<double>(st.batch_in_epoch) / static_cast<double>(batches.size()));
  };
  loop.stop = [] { return app::interrupt_signal() != 0; };
  // Timed again whenever the steps since the last choice took 10 times as long as that timing
  // did (about every 2 s at `make train`'s size): the host can change what a second core is
  // worth within a run (chapter 14, the thirteenth round).
  nn::ThreadChoice threads(omp_get_max_threads(), 4, 6, 4, /*retime_after=*/10);
  if (choose_threads) loop.threads = &threads;
  app::catch_interrupts();
  run.model.train();
  const nn::StepResult last = nn::fit_in_shards(run.opt, total, forward_backward_at, loop);
  if (app::interrupt_signal() != 0 && last.finite) {
    if (live) std::printf("\n");
    save();
    run.interrupted = app::interrupt_signal();
  }
  if (!last.finite) {
    if (live) std::printf("\n");
    std::fflush(stdout);
    diverged(last, run.opt.lr, last_saved);
  }
  const double seconds = progress.elapsed();
  std::printf("trained %lld steps in %s (%.1fk tokens/s)\n",
              static_cast<long long>(st.step - loop.first_step + 1),
              app::format_duration(seconds).c_str(),
              static_cast<double>(progress.tokens()) / std::max(seconds, 1e-9) / 1000);
  if (choose_threads && threads.decided()) {
    const bool again = threads.choices() > 1;  // timed again: the first choice, then the rest
    std::printf(
        "threads: a step took %.1f ms on 1 thread, %.1f ms on %d (medians of the first "
        "steps, taken in turn): %s %d\n",
        threads.median_1() * 1e3, threads.median_n() * 1e3, threads.threads(),
        again ? "chose" : "trained on", threads.first_choice());
    if (again)
      std::printf(
          "threads: timed again %d time%s, %d changed the count; the last: %.1f ms on 1 "
          "thread, %.1f ms on %d; trained %lld steps on 1 thread, %lld on %d\n",
          threads.choices() - 1, threads.choices() == 2 ? "" : "s", threads.switches(),
          threads.last_median_1() * 1e3, threads.last_median_n() * 1e3, threads.threads(),
          static_cast<long long>(threads.steps_on_one()),
          static_cast<long long>(threads.steps_on_n()), threads.threads());
  }
  return seconds;
}

void save_outputs(const Flags& f, const Corpus& c, const Run& run) {
  app::save_checkpoint(f.r.checkpoint, run.config, c.src_vocab, c.tgt_vocab, run.model, &run.opt,
                       run.state, run.losses);
  std::printf("checkpoint: %s\n", f.r.checkpoint.c_str());
  if (f.r.loss_svg.empty()) return;
  char title[160];
  std::snprintf(title, sizeof title,
                "training loss (label smoothing %.2g), d_model %lld, %lld steps",
                f.s.label_smoothing, static_cast<long long>(run.config.d_model),
                static_cast<long long>(f.s.steps));
  std::ofstream out(f.r.loss_svg);
  // The lowest loss label smoothing allows: the entropy of the smoothed target (chapter 12),
  // 1 - eps + eps/V on the right token and eps/V on each of the V - 1 others.
  const double V = static_cast<double>(run.config.tgt_vocab), eps = f.s.label_smoothing;
  const double p = 1 - eps + eps / V, q = eps / V;
  const double floor = eps > 0 ? -p * std::log(p) - (V - 1) * q * std::log(q) : NAN;
  out << plot::loss_curve_svg(run.losses, run.lrs, title, floor);
  if (!out) throw std::runtime_error("cannot write " + f.r.loss_svg);
  std::printf("loss curve: %s\n", f.r.loss_svg.c_str());
}

// Greedy translations of the test split, the worst of them, and the last line, the JSON.
void evaluate(const Flags& f, const Corpus& c, Run& run, double train_seconds) {
  if (c.d.test.empty()) {
    std::printf("test: the test split is empty (%s): nothing to score\n", c.d.description.c_str());
    std::printf(
        "{\"exact_match\": null, \"bleu\": null, \"train_seconds\": %.1f, \"checkpoint\": "
        "\"%s\"}\n",
        train_seconds, app::json_escape(f.r.checkpoint).c_str());
    return;
  }
  const auto t_eval = std::chrono::steady_clock::now();
  app::Evaluation e =
      app::evaluate(run.model, c.d.test, c.src_vocab, c.tgt_vocab, app::TranslateOptions{});
  const double eval_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_eval).count();
  print_worst(e, c.d.test, static_cast<size_t>(f.r.show_worst));
  std::printf(
      "test: %zu pairs, exact match %.4f, BLEU %.4f (precisions %.3f/%.3f/%.3f/%.3f, brevity "
      "penalty %.3f), "
      "greedy decoding in %s\n",
      c.d.test.size(), e.exact_match, e.bleu.bleu, e.bleu.precisions[0], e.bleu.precisions[1],
      e.bleu.precisions[2], e.bleu.precisions[3], e.bleu.brevity_penalty,
      app::format_duration(eval_seconds).c_str());
  if (!c.d.phrases.empty()) {  // the hand-written share
    const app::Evaluation h =
        app::evaluate(run.model, c.d.phrases, c.src_vocab, c.tgt_vocab, app::TranslateOptions{});
    std::printf("hand-written phrases: %zu of %zu translated exactly (%.4f)\n",
                c.d.phrases.size() - h.worst.size(), c.d.phrases.size(), h.exact_match);
    const size_t show = std::min(h.worst.size(), static_cast<size_t>(f.r.show_worst));
    for (size_t k = 0; k < show; ++k)
      std::printf("  %s → %s (reference %s)\n", c.d.phrases[h.worst[k]].source.c_str(),
                  data::detokenize(h.hypotheses[h.worst[k]]).c_str(),
                  data::detokenize(c.d.phrases[h.worst[k]].tgt_tokens).c_str());
  }
  std::printf(
      "{\"exact_match\": %.4f, \"bleu\": %.4f, \"train_seconds\": %.1f, \"checkpoint\": \"%s\"}\n",
      e.exact_match, e.bleu.bleu, train_seconds, app::json_escape(f.r.checkpoint).c_str());
}

int run(int argc, char** argv) {
  Flags f;
  app::ArgParser args(
      "train_translator",
      "Trains a Transformer translator on a TSV corpus (source<TAB>target per line), evaluates\n"
      "it on the test split and prints, last, one JSON line:\n"
      "  {\"exact_match\": …, \"bleu\": …, \"train_seconds\": …, \"checkpoint\": \"…\"}");
  declare_flags(args, f);
  if (!args.parse(argc, argv)) return 0;
  const std::unique_ptr<app::Checkpoint> ckpt = load_resume(f, args);
  validate(f, args);
  const bool choose_threads = set_threads(f.r.threads);
  const Corpus corpus = load_corpus(f.s, args, ckpt.get());
  std::unique_ptr<Run> run = build_run(f, corpus, ckpt.get(), args);
  const Plan plan = plan_training(f.s, corpus, *run);
  // One heap for all threads if the model is large (never at make train's size).
  nn::choose_heaps_for_shards(run->model.num_parameters(), static_cast<int>(f.s.shards));
  const double train_seconds = train(f, corpus, plan, *run, choose_threads);
  if (run->interrupted) {  // the checkpoint is written: say how to go on, exit 128 + signal
    std::printf(
        "interrupted by %s after step %lld of %lld: checkpoint written to %s\n"
        "resume with: build/train_translator --resume %s\n",
        run->interrupted == SIGINT ? "Ctrl-C (SIGINT)" : "SIGTERM",
        static_cast<long long>(run->state.step), static_cast<long long>(f.s.steps),
        f.r.checkpoint.c_str(), f.r.checkpoint.c_str());
    return 128 + run->interrupted;
  }
  save_outputs(f, corpus, *run);
  evaluate(f, corpus, *run, train_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return app::run_app("train_translator", run, argc, argv); }
