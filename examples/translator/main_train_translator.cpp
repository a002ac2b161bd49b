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
#include "examples/translator/checkpoint.h"
#include "examples/translator/interrupt.h"
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
  // Pairs the model must know by heart, each put into every epoch phrase_copies times, and
  // scored after training (the hand-written share). "" with the default corpus: its
  // hand-written phrases (docs/12-training.md, "The phrases users try first").
  std::string phrases;
  int64_t phrase_copies = 3;
  bool skip_bad_lines = false;
};

const char kDefaultCorpus[] = "data/corpora/en_zh_train.tsv";
const char kDefaultPhrases[] = "data/corpora/en_zh_phrases.tsv";

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
          {"seed", std::to_string(s.seed)},
          {"phrases", s.phrases.empty() ? "-" : s.phrases},
          {"phrase_copies", std::to_string(s.phrase_copies)}};
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
  str("phrases", "--phrases", s.phrases);
  if (s.phrases == "-") s.phrases.clear();
  i64("phrase_copies", "--phrase-copies", s.phrase_copies);
}

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
  const std::string phrases = !s.phrases.empty()           ? s.phrases
                              : s.corpus == kDefaultCorpus ? kDefaultPhrases
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

// The flags that are not training settings (those are in Settings, saved in checkpoints).
struct ModelFlags {
  int64_t d_model = 64, heads = 4, d_ff = 256, layers = 2, enc_layers = -1, dec_layers = -1,
          max_len = 64;
  // No dropout by default: the toy corpus comes from a grammar and does not overfit in
  // 1200 steps (docs/12-training.md), and without it training is a quarter faster.
  double dropout = 0.0;
  bool pre_norm = false, gelu = false, untied = false;
};
struct RunFlags {
  std::string checkpoint = "translator.ckpt", resume, loss_svg, progress = "auto";
  int64_t threads = 0, checkpoint_every = 0, log_every = 0, show_worst = 5;
};
struct Flags {
  Settings s;
  ModelFlags m;
  RunFlags r;
};

void declare_data_flags(app::ArgParser& args, Settings& s) {
  args.option("--corpus", "TRAIN.tsv", "training pairs (default data/corpora/en_zh_train.tsv)",
              s.corpus);
  args.option("--test", "TEST.tsv",
              "test pairs (default data/corpora/en_zh_test.tsv; '-' = hold out 10%)", s.test);
  args.option("--task", "copy|reverse", "train on a synthetic task instead of a corpus", s.task);
  args.option("--task-pairs", "N", "synthetic training pairs (default 4000; test: a tenth)",
              s.task_pairs);
  args.option("--task-vocab", "N", "synthetic symbols (default 10)", s.task_vocab);
  args.option("--task-max-len", "N", "longest synthetic sequence (default 8)", s.task_max_len);
  args.option("--phrases", "FILE",
              "pairs to know by heart: in every epoch --phrase-copies times, scored after "
              "training (default with the default corpus: data/corpora/en_zh_phrases.tsv)",
              s.phrases);
  args.option("--phrase-copies", "K", "copies of each --phrases pair per epoch (default 3)",
              s.phrase_copies);
  args.flag("--skip-bad-lines",
            "skip malformed corpus lines (and say how many) instead of stopping at the first",
            s.skip_bad_lines);
}

void declare_model_flags(app::ArgParser& args, ModelFlags& m) {
  args.option("--d-model", "N", "model width (default 64)", m.d_model);
  args.option("--heads", "N", "attention heads (default 4)", m.heads);
  args.option("--d-ff", "N", "feed-forward hidden width (default 256)", m.d_ff);
  args.option("--layers", "N", "encoder and decoder layers (default 2)", m.layers);
  args.option("--enc-layers", "N", "encoder layers (default: --layers)", m.enc_layers);
  args.option("--dec-layers", "N", "decoder layers (default: --layers)", m.dec_layers);
  args.option("--dropout", "P", "dropout probability (default 0; 0.1 for real data)", m.dropout);
  args.option("--max-len", "N", "longest sequence the model handles (default 64)", m.max_len);
  args.flag("--pre-norm", "pre-norm Add&Norm instead of the paper's post-norm", m.pre_norm);
  args.flag("--gelu", "GELU in the feed-forward layers instead of ReLU", m.gelu);
  args.flag("--untied", "a separate output projection (default: tied to the target embedding)",
            m.untied);
}

void declare_training_flags(app::ArgParser& args, Settings& s) {
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
}

void declare_run_flags(app::ArgParser& args, RunFlags& r) {
  args.option("--threads", "N", "OpenMP threads (default: OMP_NUM_THREADS or every core)",
              r.threads);
  args.option("--checkpoint-every", "N",
              "also write the checkpoint every N steps (default: only at the end)",
              r.checkpoint_every);
  args.option(
      "--resume", "PATH",
      "continue training from a checkpoint (model, Adam state, data position, dropout generators)",
      r.resume);
  args.option("--loss-svg", "PATH", "draw the loss curve (and the learning rate) into an SVG file",
              r.loss_svg);
  args.option("--progress", "auto|live|lines",
              "live: one line redrawn with \\r; lines: a line every --log-every steps; auto: live "
              "on a terminal",
              r.progress);
  args.option("--log-every", "N",
              "progress every N steps (default: ~40 lines, or live on a terminal)", r.log_every);
  args.option("--show-worst", "N", "print the N worst test translations (default 5)", r.show_worst);
}

// Every flag, in the order --help lists them.
void declare_flags(app::ArgParser& args, Flags& f) {
  declare_data_flags(args, f.s);
  args.option("--checkpoint", "OUT", "where to write the checkpoint (default translator.ckpt)",
              f.r.checkpoint);
  args.option("--steps", "N",
              "optimizer steps in all (default 1200; with --resume: the total to reach)",
              f.s.steps);
  args.option("--epochs", "N", "train for N passes over the corpus instead of --steps", f.s.epochs);
  declare_model_flags(args, f.m);
  declare_training_flags(args, f.s);
  declare_run_flags(args, f.r);
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

void validate_model(ModelFlags& m) {
  for (auto [flag, v] : {std::pair<const char*, int64_t>{"--d-model", m.d_model},
                         {"--heads", m.heads},
                         {"--d-ff", m.d_ff},
                         {"--max-len", m.max_len}})
    if (v <= 0) throw UsageError(std::string(flag) + " must be positive, got " + std::to_string(v));
  if (m.layers < 1) throw UsageError("--layers must be at least 1");
  if (m.enc_layers < 0) m.enc_layers = m.layers;
  if (m.dec_layers < 0) m.dec_layers = m.layers;
  if (m.enc_layers < 1 || m.dec_layers < 1)
    throw UsageError("--enc-layers and --dec-layers must be at least 1");
  if (m.d_model % m.heads != 0)
    throw UsageError("--d-model (" + std::to_string(m.d_model) +
                     ") must be a multiple of --heads (" + std::to_string(m.heads) + ")");
  if (m.dropout < 0 || m.dropout >= 1) throw UsageError("--dropout must be in [0, 1)");
}

// Every number checked before any work is done.
void validate(Flags& f, const app::ArgParser& args) {
  const Settings& s = f.s;
  if (!s.task.empty() && s.task != "copy" && s.task != "reverse")
    throw UsageError("--task must be copy or reverse, got '" + s.task + "'");
  if (s.schedule != "noam" && s.schedule != "cosine")
    throw UsageError("--schedule must be noam or cosine, got '" + s.schedule + "'");
  for (auto [flag, v] : {std::pair<const char*, int64_t>{"--steps", s.steps},
                         {"--task-pairs", s.task_pairs},
                         {"--task-vocab", s.task_vocab},
                         {"--task-max-len", s.task_max_len}})
    if (v <= 0) throw UsageError(std::string(flag) + " must be positive, got " + std::to_string(v));
  validate_model(f.m);
  if (s.label_smoothing < 0 || s.label_smoothing >= 1)
    throw UsageError("--label-smoothing must be in [0, 1)");
  if (s.lr <= 0) throw UsageError("--lr must be positive");
  if (s.warmup < 0) throw UsageError("--warmup must not be negative");
  if (s.clip < 0) throw UsageError("--clip must not be negative");
  if (s.batch_size <= 0 && s.max_tokens <= 0) throw UsageError("--batch-size must be positive");
  if (s.max_tokens < 0) throw UsageError("--max-tokens must not be negative");
  if (s.epochs < 0) throw UsageError("--epochs must not be negative");
  if (s.phrase_copies < 0 || s.phrase_copies > 1000)
    throw UsageError("--phrase-copies must be in 0..1000");
  const RunFlags& r = f.r;
  if (r.threads < 0 || r.checkpoint_every < 0 || r.log_every < 0 || r.show_worst < 0)
    throw UsageError(
        "--threads, --checkpoint-every, --log-every and --show-worst must not be negative");
  if (args.given("--steps") && args.given("--epochs"))
    throw UsageError("give --steps or --epochs, not both");
  if (r.progress != "auto" && r.progress != "live" && r.progress != "lines")
    throw UsageError("--progress must be auto, live or lines, got '" + r.progress + "'");
}

void set_threads(int64_t threads) {
  if (threads > 0) omp_set_num_threads(static_cast<int>(threads));
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("OpenMP: %d threads (%d processors available), OMP_WAIT_POLICY=%s\n",
              omp_get_max_threads(), omp_get_num_procs(), wait_policy ? wait_policy : "(unset)");
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
      "label smoothing %.2g\n",
      static_cast<long long>(s.steps),
      static_cast<double>(s.steps) / static_cast<double>(batches_per_epoch),
      static_cast<long long>(batches_per_epoch), s.lr, static_cast<long long>(s.warmup),
      s.schedule.c_str(), s.label_smoothing);
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
double train(const Flags& f, const Corpus& c, const Plan& plan, Run& run) {
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
  auto loss_at = [&](int64_t) {
    if (st.batch_in_epoch >= static_cast<int64_t>(batches.size())) {
      ++st.epoch;
      st.batch_in_epoch = 0;
      batches = plan.for_epoch(st.epoch);
    }
    b = app::to_tensors(
        data::make_batch(c.train_enc, batches[static_cast<size_t>(st.batch_in_epoch)]));
    Tensor logits = run.model.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);
    return cross_entropy(reshape(logits, {-1, run.config.tgt_vocab}), b.tgt_out, data::Vocab::kPad,
                         static_cast<float>(s.label_smoothing));
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
  app::catch_interrupts();
  run.model.train();
  const nn::StepResult last = nn::fit(run.opt, total, loss_at, loop);
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
  out << app::loss_curve_svg(run.losses, run.lrs, title);
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
  set_threads(f.r.threads);
  const Corpus corpus = load_corpus(f.s, args, ckpt.get());
  std::unique_ptr<Run> run = build_run(f, corpus, ckpt.get(), args);
  const Plan plan = plan_training(f.s, corpus, *run);
  const double train_seconds = train(f, corpus, plan, *run);
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
