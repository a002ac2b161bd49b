#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "data/corpus.h"
#include "data/corpus_generator.h"
#include "data/rng.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "tests/catch.h"

using namespace qkv::data;

namespace {
// The repository root: QKV_SOURCE_DIR when the Makefile passes it, else the first of ".",
// "..", "../.." … that holds data/corpora (the tests run from the repository root).
std::string source_dir() {
#ifdef QKV_SOURCE_DIR
  return QKV_SOURCE_DIR;
#else
  std::string dir = ".";
  for (int up = 0; up < 6; ++up) {
    struct stat st;
    if (stat((dir + "/data/corpora").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dir;
    dir = up == 0 ? ".." : dir + "/..";
  }
  FAIL("cannot find data/corpora above the current directory");
  return ".";
#endif
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The toy corpus is generated once for all the cases below.
const ToyCorpus& toy() {
  static const ToyCorpus corpus = generate_toy_corpus();
  return corpus;
}
const Corpus& shipped_train() {
  static const Corpus c = load_tsv(source_dir() + "/data/corpora/en_zh_train.tsv");
  return c;
}
const Corpus& shipped_test() {
  static const Corpus c = load_tsv(source_dir() + "/data/corpora/en_zh_test.tsv");
  return c;
}
}  // namespace

TEST_CASE("the shipped corpus files are exactly the generator's output",
          "[ch12][corpus_generator]") {
  const std::string dir = source_dir() + "/data/corpora/";
  REQUIRE(read_file(dir + "en_zh_train.tsv") ==
          to_tsv(toy().train, "qkv toy English-Chinese corpus, train split"));
  REQUIRE(read_file(dir + "en_zh_test.tsv") ==
          to_tsv(toy().test, "qkv toy English-Chinese corpus, test split"));
  REQUIRE(read_file(dir + "en_zh_phrases.tsv") == to_tsv(handwritten_pairs(), kPhrasesTitle));
}

TEST_CASE("the toy corpus meets its size floors", "[ch12][corpus_generator]") {
  const Corpus& train = shipped_train();
  const Corpus& test = shipped_test();
  REQUIRE(train.pairs.size() >= 5000);
  REQUIRE(test.pairs.size() >= 500);
  REQUIRE(handwritten_pairs().size() >= 300);
  const Vocab en = Vocab::build(source_tokens(train.pairs));
  const Vocab zh = Vocab::build(target_tokens(train.pairs));
  REQUIRE(en.size() - Vocab::kNumSpecials >= 150);
  REQUIRE(zh.size() - Vocab::kNumSpecials >= 200);
  REQUIRE(toy().stats.en_vocab == size_t(en.size() - Vocab::kNumSpecials));
  REQUIRE(toy().stats.zh_vocab == size_t(zh.size() - Vocab::kNumSpecials));
  for (const auto& p : train.pairs) {
    REQUIRE(p.src_tokens.size() <= 12);
    REQUIRE(p.tgt_tokens.size() <= 16);
  }
  for (const auto& p : test.pairs) {
    REQUIRE(p.src_tokens.size() <= 12);
    REQUIRE(p.tgt_tokens.size() <= 16);
  }
}

TEST_CASE("the must-have pairs are in training", "[ch12][corpus_generator]") {
  std::map<std::string, std::string> train;
  for (const auto& p : shipped_train().pairs) train[p.source] = p.target;
  REQUIRE(train.at("I love you.") == "我爱你。");
  REQUIRE(train.at("Tom chases Jerry.") == "汤姆追杰瑞。");
  REQUIRE(train.at("machine learning") == "机器学习");
  for (const TextPair& p : handwritten_pairs()) REQUIRE(train.at(p.en) == p.zh);
}

TEST_CASE("each English sentence has one translation, in one split", "[ch12][corpus_generator]") {
  std::map<std::string, std::string> seen;
  std::set<std::string> train_sources;
  for (const auto& p : shipped_train().pairs) {
    REQUIRE(seen.emplace(p.source, p.target).second);  // no source twice, not even agreeing
    train_sources.insert(p.source);
  }
  std::set<std::string> handwritten;
  for (const TextPair& p : handwritten_pairs()) handwritten.insert(p.en);
  for (const auto& p : shipped_test().pairs) {
    REQUIRE(seen.emplace(p.source, p.target).second);
    REQUIRE(train_sources.count(p.source) == 0);
    REQUIRE(handwritten.count(p.source) == 0);  // hand-written pairs are training only
  }
}

TEST_CASE("every test token occurs in training", "[ch12][corpus_generator]") {
  const Vocab en = Vocab::build(source_tokens(shipped_train().pairs));
  const Vocab zh = Vocab::build(target_tokens(shipped_train().pairs));
  for (const auto& p : shipped_test().pairs) {
    for (const auto& t : p.src_tokens) REQUIRE(en.contains(t));
    for (const auto& t : p.tgt_tokens) REQUIRE(zh.contains(t));
  }
}

TEST_CASE("test sentences are new combinations, not copies", "[ch12][corpus_generator]") {
  // Word trigrams of the training sources; a test sentence with a trigram never seen in
  // training puts known words together in a new way.
  auto trigrams = [](const std::vector<std::string>& t) {
    std::vector<std::string> out;
    for (size_t i = 0; i + 2 < t.size(); ++i) out.push_back(t[i] + " " + t[i + 1] + " " + t[i + 2]);
    return out;
  };
  std::set<std::string> train_trigrams, train_targets;
  for (const auto& p : shipped_train().pairs) {
    for (auto& g : trigrams(p.src_tokens)) train_trigrams.insert(g);
    train_targets.insert(p.target);
  }
  size_t novel = 0, target_seen = 0;
  for (const auto& p : shipped_test().pairs) {
    bool any_new = false;
    for (auto& g : trigrams(p.src_tokens)) any_new = any_new || !train_trigrams.count(g);
    novel += any_new;
    target_seen += train_targets.count(p.target);
  }
  const size_t n = shipped_test().pairs.size();
  REQUIRE(target_seen == toy().stats.test_targets_seen_in_train);
  REQUIRE(target_seen == 0);  // no test target is also a training target (docs/corpus.md)
  REQUIRE(novel * 2 > n);     // most (the shipped split: 409 of 657) hold a word trigram
                              // training never had: new combinations of known words
}

TEST_CASE("the grammar writes consistent English and Chinese", "[ch12][corpus_generator]") {
  Rng rng(99);
  for (int i = 0; i < 3000; ++i) {
    const TextPair p = generate_sentence(rng);
    INFO(p.en << " / " << p.zh);
    const bool question = p.en.back() == '?';
    REQUIRE((p.en.back() == '.' || question));
    REQUIRE(p.zh.size() >= 3);
    REQUIRE(p.zh.substr(p.zh.size() - 3) == (question ? "？" : "。"));
    REQUIRE(std::isupper(static_cast<unsigned char>(p.en[0])));
    const std::string en = "^ " + p.en + " ";  // ^ marks the sentence start
    // Agreement slips a table change could introduce.
    for (const char* bad :
         {"^ he eat ", "^ she eat ", "^ he have ", "^ i has ", "^ they has ", "^ i is ",
          "^ they is ", "^ tom eat ", "^ we is ", " does he eats ", " didn't ate ", " will ate ",
          " a apple", " a egg", " an book", "^ he don't "}) {
      std::string lower = en;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      REQUIRE(lower.find(bad) == std::string::npos);
    }
    REQUIRE(p.zh.find("在在") == std::string::npos);
    REQUIRE(p.zh.find("不有") == std::string::npos);  // 有 is negated with 没
    REQUIRE(p.zh.find("一两") == std::string::npos);
    for (char c : p.zh) REQUIRE(static_cast<unsigned char>(c) >= 0x80);  // no ASCII in the Chinese
  }
}

TEST_CASE("the grammar's Chinese follows its word-order rules", "[ch12][corpus_generator]") {
  // Spot checks of the rules docs/corpus.md lists, found in the shipped corpus itself.
  std::map<std::string, std::string> all;
  for (const auto& p : shipped_train().pairs) all[p.source] = p.target;
  for (const auto& p : shipped_test().pairs) all[p.source] = p.target;
  size_t checked = 0;
  for (const auto& [en, zh] : all) {
    if (en.find(" yesterday") != std::string::npos && en.rfind("Tom ", 0) == 0) {
      REQUIRE(zh.rfind("汤姆昨天", 0) == 0);  // the time word moves up, after the subject
      ++checked;
    }
    if (en.rfind("There are two ", 0) == 0) {
      REQUIRE(zh.find("有两") != std::string::npos);  // 两, not 二, before a measure word
      REQUIRE(zh.find("有两") > 0);                   // the place comes first
      ++checked;
    }
    if (en.find(" will ") != std::string::npos && en.back() == '.' &&
        en.find("won't") == std::string::npos)
      REQUIRE(zh.find("会") != std::string::npos);
    if (en.find("didn't") != std::string::npos) REQUIRE(zh.find("没") != std::string::npos);
  }
  REQUIRE(checked >= 20);
}

TEST_CASE("the generator is deterministic and seed-dependent", "[ch12][corpus_generator]") {
  ToyCorpusOptions small;
  small.num_generated = 800;
  const ToyCorpus a = generate_toy_corpus(small), b = generate_toy_corpus(small);
  REQUIRE(to_tsv(a.train, "x") == to_tsv(b.train, "x"));
  REQUIRE(to_tsv(a.test, "x") == to_tsv(b.test, "x"));
  small.seed = 1;
  REQUIRE(to_tsv(generate_toy_corpus(small).train, "x") != to_tsv(a.train, "x"));
  REQUIRE(a.stats.train + a.stats.test == a.stats.handwritten + a.stats.generated);
}

namespace {
std::string with_commas(size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
  return s;
}
}  // namespace

TEST_CASE("docs/corpus.md quotes the real corpus", "[ch12][corpus_generator]") {
  const std::string doc = read_file(source_dir() + "/docs/corpus.md");
  const ToyCorpusStats& s = toy().stats;
  for (size_t n : {s.handwritten, s.generated, s.train, s.test, s.en_vocab, s.zh_vocab})
    REQUIRE(doc.find(with_commas(n)) != std::string::npos);
  // Every example in the table of sentence families is a line of the shipped files.
  std::set<std::string> lines;
  for (const auto* c : {&shipped_train(), &shipped_test()})
    for (const auto& p : c->pairs) lines.insert(p.source + "\t" + p.target);
  const size_t start = doc.find("| family |");
  REQUIRE(start != std::string::npos);
  std::istringstream table(doc.substr(start, doc.find("\n\n", start) - start));
  std::string row;
  size_t examples = 0;
  std::getline(table, row), std::getline(table, row);  // header and separator
  while (std::getline(table, row)) {
    std::vector<std::string> cells;
    for (size_t a = 0, b; (b = row.find('|', a + 1)) != std::string::npos; a = b)
      cells.push_back(row.substr(a + 2, b - a - 3));  // "| cell |" without the spaces
    REQUIRE(cells.size() == 4);
    const std::string sep = " / ";
    std::string en = cells[1], zh = cells[2];
    for (;;) {
      const size_t i = en.find(sep), j = zh.find(sep);
      INFO(row);
      REQUIRE(lines.count(en.substr(0, i) + "\t" + zh.substr(0, j)) == 1);
      ++examples;
      if (i == std::string::npos) break;
      en = en.substr(i + sep.size()), zh = zh.substr(j + sep.size());
    }
  }
  REQUIRE(examples >= 15);
}
