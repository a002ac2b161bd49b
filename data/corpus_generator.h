// The toy English→Chinese corpus (chapter 12, docs/corpus.md).
//
// Three pieces, one file each:
//   corpus_phrases.cpp    375 hand-written everyday pairs ("I love you." → "我爱你。")
//   corpus_grammar.cpp    a small bilingual grammar: one random sentence and its one
//                         Chinese translation per call (subjects, verbs, measure words,
//                         不/没, 会, 了, 吗, time words that move, 在…里 …)
//   corpus_generator.cpp  puts them together: unique English sentences, each with exactly
//                         one translation, split into train/test, written as TSV.
// Everything is deterministic from the seed; the shipped data/corpora/en_zh_*.tsv files are
// exactly what generate_toy_corpus() with the default options writes (a test checks it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/rng.h"

namespace qkv::data {

struct TextPair {
  std::string en, zh;
};

// The hand-written pairs, in the order they are listed.
const std::vector<TextPair>& handwritten_pairs();

// One random sentence from the grammar. Its Chinese depends only on its English.
TextPair generate_sentence(Rng& rng);

struct ToyCorpusOptions {
  uint64_t seed = 2017;         // the year of "Attention Is All You Need"
  size_t num_generated = 6400;  // distinct grammar sentences (before the split)
  double test_fraction = 0.1;   // share of grammar sentences held out for test
  size_t max_en_tokens = 12;    // longer sentences are not used
  size_t max_zh_tokens = 16;
};

struct ToyCorpusStats {
  size_t handwritten = 0, generated = 0;  // pairs from each source
  size_t train = 0, test = 0;
  size_t moved_to_train = 0;              // test pairs moved because a token of theirs was unseen
  size_t en_vocab = 0, zh_vocab = 0;      // distinct tokens in training (words / characters)
  size_t test_targets_seen_in_train = 0;  // test pairs whose Chinese also ends a train pair
};

struct ToyCorpus {
  std::vector<TextPair> train, test;
  ToyCorpusStats stats;
};

ToyCorpus generate_toy_corpus(const ToyCorpusOptions& options = {});

// The title of data/corpora/en_zh_phrases.tsv: the hand-written pairs, written apart so that
// training can oversample them and report how many it translates exactly.
inline constexpr char kPhrasesTitle[] =
    "qkv toy English-Chinese corpus, the hand-written phrases (all also in the train split)";

// The TSV text of a split: a few '#' comment lines, then en<TAB>zh per line.
std::string to_tsv(const std::vector<TextPair>& pairs, const std::string& title);

}  // namespace qkv::data
