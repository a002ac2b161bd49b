// train_translator's command line: the training settings (saved in checkpoints, so that a
// resumed run is the same run), the model's and the run's flags, and their checks.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "examples/cli.h"

namespace qkv::app {

// Every training setting, with the defaults `make train` uses.
struct Settings {
  std::string corpus = "data/corpora/en_zh_train.tsv";
  std::string test = "data/corpora/en_zh_test.tsv";
  std::string task;  // "", "copy" or "reverse"
  int64_t task_pairs = 4000, task_vocab = 10, task_max_len = 8;
  int64_t steps = 1200, epochs = 0;
  int64_t batch_size = 32, max_tokens = 0;
  double lr = 3e-3;  // the peak learning rate, reached at the end of the warm-up
  int64_t warmup = 100;
  std::string schedule = "cosine";  // noam: then ∝ 1/√step; cosine: then down to 0 by the last step
  double label_smoothing = 0.02, clip = 1.0;
  int64_t seed = 1;
  // Each batch in this many shards of whole sentences, one thread each (nn/data_parallel.h,
  // chapter 14's fourteenth round). Part of the recipe: the numbers depend on it, never on the
  // thread count. A checkpoint from before it was a setting was trained in 1.
  int64_t shards = 2;
  // Pairs the model must know by heart, each put into every epoch phrase_copies times, and
  // scored after training (the hand-written share). "" with the default corpus: its
  // hand-written phrases (docs/12-training.md, "The phrases users try first").
  std::string phrases;
  int64_t phrase_copies = 4;
  bool skip_bad_lines = false;
};

inline const char kDefaultCorpus[] = "data/corpora/en_zh_train.tsv";
inline const char kDefaultPhrases[] = "data/corpora/en_zh_phrases.tsv";

// The settings as "key value" text and back. from_map takes from the checkpoint only the
// settings the command line did not give (with --resume), so that the continued run is the
// same run.
std::map<std::string, std::string> to_map(const Settings& s);
void from_map(const std::map<std::string, std::string>& m, const ArgParser& args, Settings& s);

// The flags that are not training settings (those are in Settings, saved in checkpoints).
struct ModelFlags {
  int64_t d_model = 64, heads = 4, d_ff = 128, layers = 2, enc_layers = -1, dec_layers = -1,
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

// Every flag, in the order --help lists them.
void declare_flags(ArgParser& args, Flags& f);
// Every number checked before any work is done (UsageError); fills in the defaults that
// depend on other flags (--enc-layers and --dec-layers from --layers).
void validate(Flags& f, const ArgParser& args);

}  // namespace qkv::app
