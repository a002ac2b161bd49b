// Putting the toy corpus together: hand-written pairs + grammar sentences → train/test.
//
// How the split is made (docs/corpus.md says the same):
//  1. Every hand-written pair goes to training.
//  2. The grammar draws sentences from one seeded generator until num_generated distinct
//     English sentences exist. A repeat with the same Chinese is dropped; a repeat with a
//     different Chinese would be a contradiction and throws (it would be a grammar bug).
//  3. A grammar sentence is a test candidate when goes_to_test(english, test_fraction,
//     seed) says so: a seeded hash of its English text, the same rule split_by_source uses.
//  4. A candidate whose tokens (English words or Chinese characters) do not all occur in
//     training moves to training, so a model is never tested on a token it cannot know.
// Since every English sentence occurs once, no test source ever appears in training.
#include "data/corpus_generator.h"

#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "data/corpus.h"
#include "data/rng.h"
#include "data/tokenizer.h"

namespace qkv::data {

namespace {
bool fits(const TextPair& p, const ToyCorpusOptions& o) {
  return tokenize(p.en).size() <= o.max_en_tokens && tokenize(p.zh).size() <= o.max_zh_tokens;
}

void add_tokens(const TextPair& p, std::unordered_set<std::string>& en,
                std::unordered_set<std::string>& zh) {
  for (auto& t : tokenize(p.en)) en.insert(t);
  for (auto& t : tokenize(p.zh)) zh.insert(t);
}

bool all_known(const TextPair& p, const std::unordered_set<std::string>& en,
               const std::unordered_set<std::string>& zh) {
  for (auto& t : tokenize(p.en))
    if (!en.count(t)) return false;
  for (auto& t : tokenize(p.zh))
    if (!zh.count(t)) return false;
  return true;
}
}  // namespace

ToyCorpus generate_toy_corpus(const ToyCorpusOptions& o) {
  ToyCorpus corpus;
  std::unordered_map<std::string, std::string> translation;  // English → its one Chinese

  for (const TextPair& p : handwritten_pairs()) {
    if (!fits(p, o)) throw std::logic_error("hand-written pair too long: " + p.en);
    if (!translation.emplace(p.en, p.zh).second)
      throw std::logic_error("hand-written pair listed twice: " + p.en);
    corpus.train.push_back(p);
  }
  corpus.stats.handwritten = corpus.train.size();

  std::vector<TextPair> generated;
  Rng rng(o.seed);
  const size_t max_draws = 100 * o.num_generated + 1000;
  for (size_t draw = 0; generated.size() < o.num_generated; ++draw) {
    if (draw == max_draws)
      throw std::runtime_error("toy corpus: the grammar ran out of new sentences after " +
                               std::to_string(generated.size()));
    TextPair p = generate_sentence(rng);
    if (!fits(p, o)) continue;
    const auto [it, added] = translation.emplace(p.en, p.zh);
    if (!added) {
      if (it->second != p.zh)
        throw std::logic_error("toy corpus: \"" + p.en + "\" has two translations: " + it->second +
                               " and " + p.zh);
      continue;
    }
    generated.push_back(std::move(p));
  }
  corpus.stats.generated = generated.size();

  std::vector<TextPair> candidates;
  for (TextPair& p : generated)
    (goes_to_test(p.en, o.test_fraction, o.seed) ? candidates : corpus.train).push_back(p);

  std::unordered_set<std::string> en_seen, zh_seen;
  for (const TextPair& p : corpus.train) add_tokens(p, en_seen, zh_seen);
  for (TextPair& p : candidates) {
    if (all_known(p, en_seen, zh_seen)) {
      corpus.test.push_back(std::move(p));
    } else {  // the sets only grow, so earlier test pairs stay fully known
      add_tokens(p, en_seen, zh_seen);
      corpus.train.push_back(std::move(p));
      ++corpus.stats.moved_to_train;
    }
  }

  std::unordered_set<std::string> train_targets;
  for (const TextPair& p : corpus.train) train_targets.insert(p.zh);
  for (const TextPair& p : corpus.test)
    corpus.stats.test_targets_seen_in_train += train_targets.count(p.zh);
  corpus.stats.train = corpus.train.size();
  corpus.stats.test = corpus.test.size();
  corpus.stats.en_vocab = en_seen.size();
  corpus.stats.zh_vocab = zh_seen.size();
  return corpus;
}

std::string to_tsv(const std::vector<TextPair>& pairs, const std::string& title) {
  std::string out = "# " + title + " (" + std::to_string(pairs.size()) + " pairs)\n";
  out += "# Written by build/make_toy_corpus from data/corpus_generator.cpp; see docs/corpus.md.\n";
  out += "# english<TAB>chinese\n";
  for (const TextPair& p : pairs) out += p.en + "\t" + p.zh + "\n";
  return out;
}

}  // namespace qkv::data
