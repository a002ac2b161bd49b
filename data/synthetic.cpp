#include "data/synthetic.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "data/rng.h"

namespace qkv::data {

namespace {
std::string join(const std::vector<int>& symbols) {
  std::string s;
  for (size_t i = 0; i < symbols.size(); ++i) s += (i ? " " : "") + std::to_string(symbols[i]);
  return s;
}

std::vector<SentencePair> generate(const SyntheticOptions& o, bool reverse) {
  if (o.vocab_size < 1 || o.min_len < 1 || o.max_len < o.min_len || o.num_pairs < 0)
    throw std::invalid_argument(
        "synthetic task: need vocab_size >= 1, 1 <= min_len <= max_len, num_pairs >= 0");
  Rng rng(o.seed);
  std::vector<SentencePair> pairs;
  for (int i = 0; i < o.num_pairs; ++i) {
    const int len = o.min_len + static_cast<int>(rng.below(o.max_len - o.min_len + 1));
    std::vector<int> symbols(len);
    for (int& s : symbols) s = static_cast<int>(rng.below(o.vocab_size));
    std::vector<int> answer = symbols;
    if (reverse) std::reverse(answer.begin(), answer.end());
    pairs.push_back(tokenize_pair(join(symbols), join(answer)));
  }
  return pairs;
}
}  // namespace

std::vector<SentencePair> make_copy_task(const SyntheticOptions& o) { return generate(o, false); }
std::vector<SentencePair> make_reverse_task(const SyntheticOptions& o) { return generate(o, true); }

}  // namespace qkv::data
