// make_toy_corpus: writes the toy English→Chinese corpus (docs/corpus.md).
//
//   build/make_toy_corpus                 → data/corpora/en_zh_train.tsv, en_zh_test.tsv,
//                                           en_zh_phrases.tsv
//   build/make_toy_corpus --out-dir /tmp  (same files elsewhere)
//
// With the default options the output is byte for byte the shipped files (a test checks
// this). Each file is written to a temporary name first and then renamed, so a crash
// never leaves half a corpus behind.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "data/corpus_generator.h"
#include "examples/cli.h"
#include "nn/serialize.h"

namespace {

int run(int argc, char** argv) {
  qkv::data::ToyCorpusOptions options;
  std::string out_dir = "data/corpora";
  int64_t seed = static_cast<int64_t>(options.seed),
          generated = static_cast<int64_t>(options.num_generated);
  double test_fraction = options.test_fraction;
  qkv::app::ArgParser args(
      "make_toy_corpus",
      "Writes DIR/en_zh_train.tsv, DIR/en_zh_test.tsv and DIR/en_zh_phrases.tsv "
      "(the hand-written pairs, also in the train split): the shipped corpus "
      "with the defaults.");
  args.option("--out-dir", "DIR", "where to write (default data/corpora)", out_dir);
  args.option("--seed", "N", "generator seed (default 2017)", seed);
  args.option("--generated", "N", "distinct grammar sentences before the split (default 6400)",
              generated);
  args.option("--test-fraction", "F",
              "share of grammar sentences held out, 0 < F < 1 (default 0.1)", test_fraction);
  if (!args.parse(argc, argv)) return 0;
  if (seed < 0 || generated < 0)
    throw qkv::app::UsageError("--seed and --generated must not be negative");
  if (!(test_fraction > 0.0 && test_fraction < 1.0))
    throw qkv::app::UsageError("--test-fraction must be in (0, 1)");
  options.seed = static_cast<uint64_t>(seed);
  options.num_generated = static_cast<decltype(options.num_generated)>(generated);
  options.test_fraction = test_fraction;
  const qkv::data::ToyCorpus corpus = qkv::data::generate_toy_corpus(options);
  const std::string train = out_dir + "/en_zh_train.tsv", test = out_dir + "/en_zh_test.tsv";
  qkv::nn::write_file_atomic(
      train, qkv::data::to_tsv(corpus.train, "qkv toy English-Chinese corpus, train split"));
  qkv::nn::write_file_atomic(
      test, qkv::data::to_tsv(corpus.test, "qkv toy English-Chinese corpus, test split"));
  const std::string phrases = out_dir + "/en_zh_phrases.tsv";
  qkv::nn::write_file_atomic(
      phrases, qkv::data::to_tsv(qkv::data::handwritten_pairs(), qkv::data::kPhrasesTitle));
  const auto& s = corpus.stats;
  std::cout << "hand-written pairs:  " << s.handwritten << "  → " << phrases << " (and train)\n"
            << "grammar pairs:       " << s.generated << "\n"
            << "train pairs:         " << s.train << "  → " << train << "\n"
            << "test pairs:          " << s.test << "  → " << test << "\n"
            << "moved to train:      " << s.moved_to_train << " (a token unseen in training)\n"
            << "English vocabulary:  " << s.en_vocab << " words\n"
            << "Chinese vocabulary:  " << s.zh_vocab << " characters\n"
            << "test targets also in train: " << s.test_targets_seen_in_train << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return qkv::app::run_app("make_toy_corpus", run, argc, argv, /*runtime_settings=*/false);
}
