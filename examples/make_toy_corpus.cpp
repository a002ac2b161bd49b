// make_toy_corpus: writes the toy English→Chinese corpus (docs/corpus.md).
//
//   build/make_toy_corpus                 → data/corpora/en_zh_train.tsv, en_zh_test.tsv
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
#include "nn/serialize.h"

namespace {

const char* const kUsage =
    "usage: make_toy_corpus [--out-dir DIR] [--seed N] [--generated N] [--test-fraction F]\n"
    "  Writes DIR/en_zh_train.tsv and DIR/en_zh_test.tsv (default DIR: data/corpora).\n"
    "  --seed N            generator seed (default 2017)\n"
    "  --generated N       distinct grammar sentences before the split (default 6400)\n"
    "  --test-fraction F   share of grammar sentences held out, 0 < F < 1 (default 0.1)\n"
    "  --help              this text\n";

unsigned long long parse_count(const std::string& flag, const std::string& v) {
  size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || v[0] == '-')
    throw std::invalid_argument(flag + " expects a whole number, got '" + v + "'");
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    qkv::data::ToyCorpusOptions options;
    std::string out_dir = "data/corpora";
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (flag == "--help" || flag == "-h") {
        std::cout << kUsage;
        return 0;
      }
      if (flag != "--out-dir" && flag != "--seed" && flag != "--generated" &&
          flag != "--test-fraction")
        throw std::invalid_argument("unknown flag '" + flag + "' (try --help)");
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      const std::string value = argv[++i];
      if (flag == "--out-dir") {
        out_dir = value;
      } else if (flag == "--seed") {
        options.seed = parse_count(flag, value);
      } else if (flag == "--generated") {
        options.num_generated = parse_count(flag, value);
      } else {
        char* end = nullptr;
        const double f = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !(f > 0.0 && f < 1.0))
          throw std::invalid_argument("--test-fraction expects a number in (0, 1), got '" + value +
                                      "'");
        options.test_fraction = f;
      }
    }
    const qkv::data::ToyCorpus corpus = qkv::data::generate_toy_corpus(options);
    const std::string train = out_dir + "/en_zh_train.tsv", test = out_dir + "/en_zh_test.tsv";
    qkv::nn::write_file_atomic(
        train, qkv::data::to_tsv(corpus.train, "qkv toy English-Chinese corpus, train split"));
    qkv::nn::write_file_atomic(
        test, qkv::data::to_tsv(corpus.test, "qkv toy English-Chinese corpus, test split"));
    const auto& s = corpus.stats;
    std::cout << "hand-written pairs:  " << s.handwritten << "\n"
              << "grammar pairs:       " << s.generated << "\n"
              << "train pairs:         " << s.train << "  → " << train << "\n"
              << "test pairs:          " << s.test << "  → " << test << "\n"
              << "moved to train:      " << s.moved_to_train << " (a token unseen in training)\n"
              << "English vocabulary:  " << s.en_vocab << " words\n"
              << "Chinese vocabulary:  " << s.zh_vocab << " characters\n"
              << "test targets also in train: " << s.test_targets_seen_in_train << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "make_toy_corpus: " << e.what() << "\n";
    return 1;
  }
}
