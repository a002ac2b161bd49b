// Exact match, corpus BLEU and edit distance against values computed by hand (chapter 13).
#include <cmath>
#include <string>
#include <vector>

#include "nn/metrics.h"
#include "tests/catch.h"

using namespace qkv::nn;
using Sentences = std::vector<std::vector<std::string>>;

namespace {
// "我爱你。" → {"我", "爱", "你", "。"}: one token per 3-byte UTF-8 character.
std::vector<std::string> chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); i += 3) out.push_back(s.substr(i, 3));
  return out;
}
}  // namespace

TEST_CASE("exact match counts sentences equal token for token", "[ch13]") {
  const Sentences hyp{{"a", "b"}, {"a"}, {"c", "d"}, {}};
  const Sentences ref{{"a", "b"}, {"a", "b"}, {"c", "d"}, {"x"}};
  CHECK(exact_match(hyp, ref) == 0.5);
  CHECK(exact_match(Sentences{}, Sentences{}) == 0.0);
  CHECK_THROWS_WITH(exact_match(hyp, Sentences{{"a"}}),
                    Catch::Contains("4 hypotheses but 1 references"));
}

TEST_CASE("BLEU of a perfect corpus is 1", "[ch13]") {
  const Sentences s{chars("我爱你。"), chars("他明天会去上海。")};
  const BleuStats b = corpus_bleu(s, s);
  CHECK(b.bleu == Approx(1.0).epsilon(1e-12));
  CHECK(b.brevity_penalty == 1.0);
  CHECK(b.matches == std::array<int64_t, 4>{12, 10, 8, 6});
}

TEST_CASE("corpus BLEU on the chapter 13 example, counted by hand", "[ch13]") {
  // Sentence 1 is exact. Sentence 2 drops 会: 他明天去上海。 against 他明天会去上海。
  //   n=1: 4/4 + 7/7        = 11/11
  //   n=2: 3/3 + 5/6        =  8/9    (天去 is not in the reference)
  //   n=3: 2/2 + 3/5        =  5/7    (他明天, 去上海, 上海。)
  //   n=4: 1/1 + 1/4        =  2/5    (去上海。)
  //   c = 11, r = 12: BP = exp(1 − 12/11)
  const Sentences ref{chars("我爱你。"), chars("他明天会去上海。")};
  const Sentences hyp{chars("我爱你。"), chars("他明天去上海。")};
  const BleuStats b = corpus_bleu(hyp, ref);
  CHECK(b.matches == std::array<int64_t, 4>{11, 8, 5, 2});
  CHECK(b.totals == std::array<int64_t, 4>{11, 9, 7, 5});
  CHECK(b.hyp_length == 11);
  CHECK(b.ref_length == 12);
  CHECK(b.brevity_penalty == Approx(std::exp(1.0 - 12.0 / 11.0)).epsilon(1e-12));
  const double expected = std::exp(1.0 - 12.0 / 11.0) * std::pow(1.0 * 8 / 9 * 5 / 7 * 2 / 5, 0.25);
  CHECK(b.bleu == Approx(expected).epsilon(1e-12));
  CHECK(b.bleu == Approx(0.648207).epsilon(1e-5));
  CHECK(exact_match(hyp, ref) == 0.5);
}

TEST_CASE("BLEU clips repeated n-grams and is 0 without smoothing when a precision is 0",
          "[ch13]") {
  // "the the the the" against "the cat": only one "the" may match.
  BleuStats b = corpus_bleu(Sentences{{"the", "the", "the", "the"}}, Sentences{{"the", "cat"}});
  CHECK(b.matches[0] == 1);
  CHECK(b.totals[0] == 4);
  CHECK(b.precisions[0] == 0.25);
  CHECK(b.brevity_penalty == 1.0);  // c = 4 > r = 2: no penalty
  CHECK(b.bleu == 0.0);             // no bigram matches: p2 = 0, so BLEU = 0

  // the cat sat on the mat / the cat is on the mat: p = 5/6, 3/5, 1/4, 0/3 → 0.
  b = corpus_bleu(Sentences{{"the", "cat", "sat", "on", "the", "mat"}},
                  Sentences{{"the", "cat", "is", "on", "the", "mat"}});
  CHECK(b.matches == std::array<int64_t, 4>{5, 3, 1, 0});
  CHECK(b.totals == std::array<int64_t, 4>{6, 5, 4, 3});
  CHECK(b.bleu == 0.0);

  // A hypothesis too short to have a 4-gram anywhere in the corpus: total_4 = 0 → BLEU 0.
  b = corpus_bleu(Sentences{{"a", "b", "c"}}, Sentences{{"a", "b", "c"}});
  CHECK(b.totals[3] == 0);
  CHECK(b.bleu == 0.0);
  // Empty hypotheses: c = 0 → 0 (the brevity penalty would divide by zero).
  b = corpus_bleu(Sentences{{}}, Sentences{{"a"}});
  CHECK(b.bleu == 0.0);
  CHECK(corpus_bleu(Sentences{}, Sentences{}).bleu == 0.0);
}

TEST_CASE("BLEU is corpus-level: n-gram counts are pooled before dividing", "[ch13]") {
  // Two 4-token sentences; the second has 1 wrong token at the end.
  const Sentences ref{{"a", "b", "c", "d"}, {"e", "f", "g", "h"}};
  const Sentences hyp{{"a", "b", "c", "d"}, {"e", "f", "g", "x"}};
  const BleuStats b = corpus_bleu(hyp, ref);
  // p1 = 7/8, p2 = 5/6, p3 = 3/4, p4 = 1/2 (pooled, not the mean of per-sentence BLEU)
  CHECK(b.precisions[0] == Approx(7.0 / 8));
  CHECK(b.precisions[1] == Approx(5.0 / 6));
  CHECK(b.precisions[2] == Approx(3.0 / 4));
  CHECK(b.precisions[3] == Approx(1.0 / 2));
  CHECK(b.bleu == Approx(std::pow(7.0 / 8 * 5.0 / 6 * 3.0 / 4 * 1.0 / 2, 0.25)).epsilon(1e-12));
  // The id overload gives the same numbers.
  const std::vector<TokenSeq> ri{{1, 2, 3, 4}, {5, 6, 7, 8}}, hi{{1, 2, 3, 4}, {5, 6, 7, 9}};
  CHECK(corpus_bleu(hi, ri).bleu == b.bleu);
}

TEST_CASE("edit distance between token sequences", "[ch13]") {
  CHECK(edit_distance({1, 2, 3}, {1, 2, 3}) == 0);
  CHECK(edit_distance({}, {1, 2}) == 2);
  CHECK(edit_distance({1, 2, 3}, {}) == 3);
  // kitten → sitting: k→s, e→i, +g
  CHECK(edit_distance({'k', 'i', 't', 't', 'e', 'n'}, {'s', 'i', 't', 't', 'i', 'n', 'g'}) == 3);
}
