#include "nn/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace qkv::nn {

namespace {
void check_sizes(size_t h, size_t r, const char* what) {
  if (h != r)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(h) + " hypotheses but " +
                                std::to_string(r) + " references");
}

// Each distinct n-gram of a sentence and how often it occurs.
std::map<TokenSeq, int64_t> ngram_counts(const TokenSeq& s, size_t n) {
  std::map<TokenSeq, int64_t> counts;
  for (size_t i = 0; i + n <= s.size(); ++i) ++counts[TokenSeq(s.begin() + i, s.begin() + i + n)];
  return counts;
}

// Strings → ids, one id per distinct string over both sides.
struct Interner {
  std::map<std::string, int64_t> ids;
  std::vector<TokenSeq> map(const std::vector<std::vector<std::string>>& sentences) {
    std::vector<TokenSeq> out;
    for (const auto& s : sentences) {
      TokenSeq seq;
      for (const auto& tok : s)
        seq.push_back(ids.emplace(tok, static_cast<int64_t>(ids.size())).first->second);
      out.push_back(std::move(seq));
    }
    return out;
  }
};
}  // namespace

double exact_match(const std::vector<TokenSeq>& hyps, const std::vector<TokenSeq>& refs) {
  check_sizes(hyps.size(), refs.size(), "exact_match");
  if (hyps.empty()) return 0.0;
  size_t same = 0;
  for (size_t i = 0; i < hyps.size(); ++i) same += hyps[i] == refs[i];
  return static_cast<double>(same) / static_cast<double>(hyps.size());
}

BleuStats corpus_bleu(const std::vector<TokenSeq>& hyps, const std::vector<TokenSeq>& refs) {
  check_sizes(hyps.size(), refs.size(), "corpus_bleu");
  BleuStats st;
  for (size_t s = 0; s < hyps.size(); ++s) {
    st.hyp_length += static_cast<int64_t>(hyps[s].size());
    st.ref_length += static_cast<int64_t>(refs[s].size());
    for (size_t n = 1; n <= 4; ++n) {
      const auto h = ngram_counts(hyps[s], n), r = ngram_counts(refs[s], n);
      for (const auto& [gram, count] : h) {
        st.totals[n - 1] += count;
        auto it = r.find(gram);
        // Clipping: a hypothesis n-gram counts at most as often as the reference has it.
        if (it != r.end()) st.matches[n - 1] += std::min(count, it->second);
      }
    }
  }
  double log_sum = 0.0;
  bool zero = st.hyp_length == 0;
  for (int n = 0; n < 4; ++n) {
    st.precisions[n] = st.totals[n] > 0
                           ? static_cast<double>(st.matches[n]) / static_cast<double>(st.totals[n])
                           : 0.0;
    if (st.precisions[n] == 0.0)
      zero = true;  // log 0 = −∞: the geometric mean is 0
    else
      log_sum += std::log(st.precisions[n]);
  }
  const double c = static_cast<double>(st.hyp_length), r = static_cast<double>(st.ref_length);
  st.brevity_penalty = c == 0 ? 0.0 : (c > r ? 1.0 : std::exp(1.0 - r / c));
  st.bleu = zero ? 0.0 : st.brevity_penalty * std::exp(log_sum / 4.0);
  return st;
}

double exact_match(const std::vector<std::vector<std::string>>& hyps,
                   const std::vector<std::vector<std::string>>& refs) {
  Interner in;
  auto h = in.map(hyps);
  return exact_match(h, in.map(refs));
}

BleuStats corpus_bleu(const std::vector<std::vector<std::string>>& hyps,
                      const std::vector<std::vector<std::string>>& refs) {
  Interner in;
  auto h = in.map(hyps);
  return corpus_bleu(h, in.map(refs));
}

int64_t edit_distance(const TokenSeq& a, const TokenSeq& b) {
  std::vector<int64_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace qkv::nn
