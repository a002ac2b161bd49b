#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "data/corpus.h"
#include "tests/catch.h"

using namespace qkv::data;
using Tokens = std::vector<std::string>;

TEST_CASE("a TSV corpus loads pairs and skips blanks and comments", "[ch12][corpus]") {
  const std::string text =
      "\xEF\xBB\xBF# a comment\n"
      "I love you.\t我爱你。\n"
      "\n"
      "   \n"
      "Hi.\t嗨。\r\n"
      "# another\n"
      "Tom chases Jerry.\t汤姆追杰瑞。";  // no final newline
  const Corpus c = parse_tsv(text, "mem.tsv");
  REQUIRE(c.pairs.size() == 3);
  REQUIRE(c.stats.lines == 7);
  REQUIRE(c.stats.pairs == 3);
  REQUIRE(c.stats.skipped_blank == 4);
  REQUIRE(c.stats.skipped_bad == 0);
  REQUIRE(c.pairs[0].source == "I love you.");
  REQUIRE(c.pairs[0].src_tokens == Tokens{"i", "love", "you", "."});
  REQUIRE(c.pairs[0].tgt_tokens == Tokens{"我", "爱", "你", "。"});
  REQUIRE(c.pairs[0].line == 2);
  REQUIRE(c.pairs[1].target == "嗨。");  // the \r is gone
  REQUIRE(c.pairs[1].line == 5);
  REQUIRE(c.pairs[2].line == 7);
}

TEST_CASE("TSV errors name the file and line", "[ch12][corpus]") {
  REQUIRE_THROWS_WITH(parse_tsv("a\tb\n\nno tab here\n", "corpus.tsv"),
                      "corpus.tsv:3: expected 2 tab-separated fields, found 1");
  REQUIRE_THROWS_WITH(parse_tsv("a\tb\n\tb\n", "c.tsv"),
                      Catch::StartsWith("c.tsv:2: empty source"));
  REQUIRE_THROWS_WITH(parse_tsv("a\t  \n", "c.tsv"), Catch::StartsWith("c.tsv:1: empty target"));
  REQUIRE_THROWS_WITH(parse_tsv("ok\tfine\nbad \xFF\tx\n", "corpus.tsv"),
                      Catch::StartsWith("corpus.tsv:2: invalid UTF-8 at byte 4 (0xff)"));
  // The byte offset counts from the start of the line, target field included.
  REQUIRE_THROWS_WITH(parse_tsv("ab\tc\xC0\xAF\n", "t.tsv"),
                      Catch::StartsWith("t.tsv:1: invalid UTF-8 at byte 4 (0xc0)"));
  REQUIRE_THROWS_WITH(load_tsv("no/such/corpus.tsv"),
                      Catch::StartsWith("no/such/corpus.tsv: cannot open corpus file"));
}

TEST_CASE("a line that is not exactly source<TAB>target is an error", "[ch12][corpus]") {
  // A third column (Tatoeba's attribution) and a stray tab are errors, not ignored.
  REQUIRE_THROWS_WITH(parse_tsv("Hi.\t嗨。\tCC-BY 2.0 (France)\n", "cmn.txt"),
                      "cmn.txt:1: expected 2 tab-separated fields, found 3 (keep two columns: "
                      "cut -f1,2)");
  REQUIRE_THROWS_WITH(parse_tsv("a\tb\nHi.\t嗨。\t\n", "c.tsv"),
                      Catch::StartsWith("c.tsv:2: expected 2 tab-separated fields, found 3"));
  // The documented length limit: 4096 bytes a line by default, adjustable.
  const std::string long_line = std::string(4095, 'a') + "\tb\n";
  REQUIRE_THROWS_WITH(parse_tsv("a\tb\n" + long_line, "c.tsv"),
                      "c.tsv:2: line of 4097 bytes, longer than the limit of 4096");
  CorpusOptions o;
  o.max_line_bytes = 0;
  REQUIRE(parse_tsv(long_line, "c.tsv", o).pairs.size() == 1);
  o.max_line_bytes = 5;
  REQUIRE_THROWS_WITH(parse_tsv("ab\tcde\n", "c.tsv", o),
                      "c.tsv:1: line of 6 bytes, longer than the limit of 5");
}

TEST_CASE("skip_bad_lines skips, counts and keeps the first messages", "[ch12][corpus]") {
  const std::string text =
      "I love you.\t我爱你。\n"
      "no tab\n"
      "a\tb\tc\n"
      "bad \xFF\tx\n"
      "\tempty source\n"
      "Thank you.\t谢谢。\n";
  REQUIRE_THROWS_WITH(parse_tsv(text, "m.tsv"), Catch::StartsWith("m.tsv:2:"));
  CorpusOptions o;
  o.skip_bad_lines = true;
  const Corpus c = parse_tsv(text, "m.tsv", o);
  REQUIRE(c.pairs.size() == 2);
  REQUIRE(c.pairs[1].line == 6);
  REQUIRE(c.stats.skipped_bad == 4);
  REQUIRE(c.stats.bad_examples.size() == kBadExamplesKept);
  REQUIRE(c.stats.bad_examples[0] == "m.tsv:2: expected 2 tab-separated fields, found 1");
  REQUIRE_THAT(c.stats.bad_examples[2], Catch::StartsWith("m.tsv:4: invalid UTF-8 at byte 4"));
}

TEST_CASE("pairs over the token limit are skipped and counted", "[ch12][corpus]") {
  CorpusOptions o;
  o.max_tokens = 4;
  const Corpus c = parse_tsv(
      "I love you.\t我爱你。\nI love you very much.\t我非常爱你。\n"
      "Yes.\t是的是的是的。\n",
      "m.tsv", o);
  REQUIRE(c.pairs.size() == 1);
  REQUIRE(c.stats.skipped_too_long == 2);
}

TEST_CASE("load_tsv reads a file", "[ch12][corpus]") {
  const std::string path = "test_corpus_load.tmp";
  {
    std::ofstream out(path, std::ios::binary);
    out << "Hello!\t你好！\nThank you.\t谢谢。\n";
  }
  const Corpus c = load_tsv(path);
  std::remove(path.c_str());
  REQUIRE(c.pairs.size() == 2);
  REQUIRE(c.pairs[1].tgt_tokens == Tokens{"谢", "谢", "。"});
}

namespace {
std::vector<SentencePair> numbered(int n) {
  std::vector<SentencePair> pairs;
  for (int i = 0; i < n; ++i) pairs.push_back(tokenize_pair("s" + std::to_string(i), "t"));
  return pairs;
}
}  // namespace

TEST_CASE("shuffling is seeded and reproducible", "[ch12][corpus]") {
  auto a = numbered(50), b = numbered(50), c = numbered(50);
  shuffle_pairs(a, 7);
  shuffle_pairs(b, 7);
  shuffle_pairs(c, 8);
  std::set<std::string> seen;
  bool a_equals_c = true, moved = false;
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].source == b[i].source);
    a_equals_c = a_equals_c && a[i].source == c[i].source;
    moved = moved || a[i].source != "s" + std::to_string(i);
    seen.insert(a[i].source);
  }
  REQUIRE(seen.size() == 50);  // a permutation
  REQUIRE(moved);
  REQUIRE_FALSE(a_equals_c);
  // The first elements for seed 7 are fixed forever (splitmix64, not std::shuffle).
  auto d = numbered(5);
  shuffle_pairs(d, 7);
  std::string order;
  for (auto& p : d) order += p.source + " ";
  auto e = numbered(5);
  shuffle_pairs(e, 7);
  std::string again;
  for (auto& p : e) again += p.source + " ";
  REQUIRE(order == again);
}

TEST_CASE("the split is by source: stable, disjoint, near the fraction", "[ch12][corpus]") {
  auto pairs = numbered(2000);
  pairs.push_back(tokenize_pair("s5", "duplicate source"));
  const Split s = split_by_source(pairs, 0.1, 42);
  REQUIRE(s.train.size() + s.test.size() == pairs.size());
  REQUIRE(s.test.size() > 150);
  REQUIRE(s.test.size() < 250);
  std::set<std::string> train_src;
  for (auto& p : s.train) train_src.insert(p.source);
  for (auto& p : s.test) REQUIRE(train_src.count(p.source) == 0);
  // A pair's side does not depend on the others: shuffled input, same decisions.
  shuffle_pairs(pairs, 3);
  const Split t = split_by_source(pairs, 0.1, 42);
  REQUIRE(t.test.size() == s.test.size());
  for (auto& p : t.test) REQUIRE(goes_to_test(p.source, 0.1, 42));
  // Another seed, another split.
  REQUIRE(split_by_source(pairs, 0.1, 43).test.size() != 0);
  size_t same = 0;
  for (auto& p : s.test) same += goes_to_test(p.source, 0.1, 43);
  REQUIRE(same < s.test.size() / 2);
}

TEST_CASE("oversample puts each extra pair in exactly `copies` times", "[ch12][corpus]") {
  const std::vector<SentencePair> train = {tokenize_pair("Hello!", "你好！"),
                                           tokenize_pair("Sorry!", "对不起！"),
                                           tokenize_pair("Sorry!", "抱歉！")};
  const std::vector<SentencePair> extra = {tokenize_pair("Sorry!", "对不起！"),
                                           tokenize_pair("Thanks!", "谢谢！")};
  const auto out = oversample(train, extra, 3);
  auto count = [&](const std::string& s, const std::string& t) {
    return std::count_if(out.begin(), out.end(),
                         [&](const SentencePair& p) { return p.source == s && p.target == t; });
  };
  REQUIRE(out.size() == 2 + 2 * 3);
  REQUIRE(count("Sorry!", "对不起！") == 3);  // the copy already in train counts as one of the 3
  REQUIRE(count("Thanks!", "谢谢！") == 3);
  REQUIRE(count("Sorry!", "抱歉！") == 1);  // another target: a different pair, kept
  REQUIRE(count("Hello!", "你好！") == 1);
  REQUIRE(oversample(train, extra, 0).size() == 2);
  REQUIRE_THROWS_AS(oversample(train, extra, -1), std::invalid_argument);
}
