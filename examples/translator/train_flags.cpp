#include "examples/translator/train_flags.h"

#include <cstdio>
#include <utility>

namespace qkv::app {

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
          {"shards", std::to_string(s.shards)},
          {"phrases", s.phrases.empty() ? "-" : s.phrases},
          {"phrase_copies", std::to_string(s.phrase_copies)}};
}

void from_map(const std::map<std::string, std::string>& m, const ArgParser& args, Settings& s) {
  auto str = [&](const char* key, const char* flag, std::string& v) {
    if (!args.given(flag) && m.count(key)) v = m.at(key);
  };
  auto i64 = [&](const char* key, const char* flag, int64_t& v) {
    if (!args.given(flag) && m.count(key)) v = parse_int(key, m.at(key));
  };
  auto dbl = [&](const char* key, const char* flag, double& v) {
    if (!args.given(flag) && m.count(key)) v = parse_double(key, m.at(key));
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
  if (!args.given("--shards"))
    s.shards = m.count("shards") ? parse_int("shards", m.at("shards")) : 1;
  str("phrases", "--phrases", s.phrases);
  if (s.phrases == "-") s.phrases.clear();
  i64("phrase_copies", "--phrase-copies", s.phrase_copies);
}

namespace {

void declare_data_flags(ArgParser& args, Settings& s) {
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
  args.option("--phrase-copies", "K", "copies of each --phrases pair per epoch (default 4)",
              s.phrase_copies);
  args.flag("--skip-bad-lines",
            "skip malformed corpus lines (and say how many) instead of stopping at the first",
            s.skip_bad_lines);
}

void declare_model_flags(ArgParser& args, ModelFlags& m) {
  args.option("--d-model", "N", "model width (default 64)", m.d_model);
  args.option("--heads", "N", "attention heads (default 4)", m.heads);
  args.option("--d-ff", "N", "feed-forward hidden width (default 128)", m.d_ff);
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

void declare_training_flags(ArgParser& args, Settings& s) {
  args.option("--batch-size", "N", "sentence pairs per batch (default 32)", s.batch_size);
  args.option("--max-tokens", "N",
              "token budget per batch instead of --batch-size (padding included)", s.max_tokens);
  args.option("--lr", "LR", "peak learning rate, reached after the warm-up (default 3e-3)", s.lr);
  args.option("--warmup", "N", "warm-up steps (default 100)", s.warmup);
  args.option("--schedule", "noam|cosine",
              "decay after the warm-up: 1/sqrt(step) or cosine to 0 (default cosine)", s.schedule);
  args.option("--label-smoothing", "EPS", "label smoothing (default 0.02)", s.label_smoothing);
  args.option("--clip", "NORM",
              "gradient clipping: the largest global gradient norm (default 1; 0 = off)", s.clip);
  args.option("--seed", "N", "seed for initialisation, shuffling and dropout (default 1)", s.seed);
  args.option("--shards", "N",
              "run each batch's forward and backward passes in N shards of whole sentences, one "
              "thread each (default 2; the numbers depend on N, not on --threads)",
              s.shards);
}

void declare_run_flags(ArgParser& args, RunFlags& r) {
  args.option("--threads", "N",
              "OpenMP threads (default: OMP_NUM_THREADS, else 1 or every core, whichever the "
              "first steps, timed in turn, ran faster on)",
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

}  // namespace

void declare_flags(ArgParser& args, Flags& f) {
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

void validate(Flags& f, const ArgParser& args) {
  const Settings& s = f.s;
  if (!s.task.empty() && s.task != "copy" && s.task != "reverse")
    throw UsageError("--task must be copy or reverse, got '" + s.task + "'");
  if (s.schedule != "noam" && s.schedule != "cosine")
    throw UsageError("--schedule must be noam or cosine, got '" + s.schedule + "'");
  for (auto [flag, v] : {std::pair<const char*, int64_t>{"--steps", s.steps},
                         {"--task-pairs", s.task_pairs},
                         {"--task-vocab", s.task_vocab},
                         {"--task-max-len", s.task_max_len},
                         {"--shards", s.shards}})
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

}  // namespace qkv::app
