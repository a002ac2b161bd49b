#include <cstdio>
#include <string>
#include <vector>

#include "data/vocab.h"
#include "tests/catch.h"

using namespace qkv::data;
using Tokens = std::vector<std::string>;

namespace {
Vocab sample() {
  // counts: 我 3, 你 3, 爱 2, 。 2, 他 1
  return Vocab::build({{"我", "爱", "你", "。"}, {"我", "爱", "你", "。"}, {"我", "你", "他"}});
}
}  // namespace

TEST_CASE("the specials come first, at fixed ids", "[ch12][vocab]") {
  const Vocab v;
  REQUIRE(v.size() == 4);
  REQUIRE(v.token(Vocab::kPad) == "<pad>");
  REQUIRE(v.token(Vocab::kBos) == "<bos>");
  REQUIRE(v.token(Vocab::kEos) == "<eos>");
  REQUIRE(v.token(Vocab::kUnk) == "<unk>");
  REQUIRE(Vocab::kPad == 0);
  REQUIRE(Vocab::kUnk == 3);
}

TEST_CASE("ids go by descending count, then by token bytes", "[ch12][vocab]") {
  const Vocab v = sample();
  REQUIRE(v.size() == 9);
  // 你 (E4 BD A0) sorts before 我 (E6 88 91); 。 (E3 80 82) before 爱 (E7 88 B1).
  REQUIRE(v.token(4) == "你");
  REQUIRE(v.token(5) == "我");
  REQUIRE(v.token(6) == "。");
  REQUIRE(v.token(7) == "爱");
  REQUIRE(v.token(8) == "他");
  REQUIRE(v.count(4) == 3);
  REQUIRE(v.count(8) == 1);
  // Order of the sentences does not matter.
  const Vocab w =
      Vocab::build({{"我", "你", "他"}, {"我", "爱", "你", "。"}, {"。", "爱", "你", "我"}});
  REQUIRE(w.serialize() == v.serialize());
}

TEST_CASE("min_freq leaves rare tokens out, and they encode as <unk>", "[ch12][vocab]") {
  const Vocab v = Vocab::build({{"a", "b", "a"}, {"a", "c", "b"}}, 2);
  REQUIRE(v.size() == 6);
  REQUIRE(v.contains("a"));
  REQUIRE_FALSE(v.contains("c"));
  REQUIRE(v.id("c") == Vocab::kUnk);
  REQUIRE(v.encode({"a", "c"}, true, true) ==
          std::vector<qkv::TokenId>{Vocab::kBos, 4, Vocab::kUnk, Vocab::kEos});
}

TEST_CASE("decode drops <pad> and <bos> and stops at <eos>", "[ch12][vocab]") {
  const Vocab v = sample();
  const std::vector<qkv::TokenId> ids = {1, 5, 7, 4, 6, 2, 8, 0, 0};
  REQUIRE(v.decode(ids) == Tokens{"我", "爱", "你", "。"});
  REQUIRE(v.decode(ids, false).size() == ids.size());
  REQUIRE(v.decode({5, 3}) == Tokens{"我", "<unk>"});
  REQUIRE_THROWS_AS(v.token(9), std::out_of_range);
  REQUIRE_THROWS_AS(v.token(-1), std::out_of_range);
}

TEST_CASE("serialize and deserialize round-trip, odd tokens included", "[ch12][vocab]") {
  const Vocab v = Vocab::build({{"a\tb", "back\\slash", "new\nline", "é", "。"}, {"é"}});
  const std::string text = v.serialize();
  REQUIRE(text.rfind("qkv-vocab 1 9\n0\t<pad>\t0\n", 0) == 0);
  const Vocab w = Vocab::deserialize(text);
  REQUIRE(w.size() == v.size());
  for (qkv::TokenId i = 0; i < v.size(); ++i) {
    REQUIRE(w.token(i) == v.token(i));
    REQUIRE(w.count(i) == v.count(i));
  }
  REQUIRE(w.id("new\nline") == v.id("new\nline"));
  REQUIRE(w.serialize() == text);
}

TEST_CASE("save and load go through a file", "[ch12][vocab]") {
  const Vocab v = sample();
  const std::string path = "test_vocab_roundtrip.tmp";
  v.save(path);
  const Vocab w = Vocab::load(path);
  std::remove(path.c_str());
  REQUIRE(w.serialize() == v.serialize());
  REQUIRE_THROWS_WITH(Vocab::load("no/such/vocab.txt"), Catch::Contains("no/such/vocab.txt"));
}

TEST_CASE("deserialize rejects malformed input with the line", "[ch12][vocab]") {
  const std::string good = sample().serialize();
  REQUIRE_THROWS_WITH(Vocab::deserialize(""), Catch::Contains("vocab line 1"));
  REQUIRE_THROWS_WITH(Vocab::deserialize("vocab 1 4\n"), Catch::Contains("header"));
  REQUIRE_THROWS_WITH(Vocab::deserialize("qkv-vocab 2 4\n"), Catch::Contains("version"));
  REQUIRE_THROWS_WITH(Vocab::deserialize("qkv-vocab 1 x\n"), Catch::Contains("bad size"));
  // one line short
  std::string s = good.substr(0, good.rfind('\n', good.size() - 2) + 1);
  REQUIRE_THROWS_WITH(Vocab::deserialize(s), Catch::Contains("header says 9 tokens, found 8"));
  // an id out of order
  s = good;
  s.replace(s.find("\n5\t"), 3, "\n6\t");
  REQUIRE_THROWS_WITH(Vocab::deserialize(s), Catch::Contains("vocab line 7: expected id 5"));
  // a duplicate token
  s = good;
  s.replace(s.find("我"), std::string("我").size(), "你");
  REQUIRE_THROWS_WITH(Vocab::deserialize(s), Catch::Contains("duplicate token"));
  // specials moved
  s = good;
  s.replace(s.find("<bos>"), 5, "<BOS>");
  REQUIRE_THROWS_WITH(Vocab::deserialize(s), Catch::Contains("expected the special token <bos>"));
  REQUIRE_THROWS_WITH(
      Vocab::deserialize("qkv-vocab 1 4\n0\t<pad>\t0\n1\t<bos>\n2\t<eos>\t0\n3\t<unk>\t0\n"),
      Catch::Contains("vocab line 3: expected 3 tab-separated fields"));
  REQUIRE_THROWS_WITH(
      Vocab::deserialize(
          "qkv-vocab 1 5\n0\t<pad>\t0\n1\t<bos>\t0\n2\t<eos>\t0\n3\t<unk>\t0\n4\ta\\q\t1\n"),
      Catch::Contains("unknown escape"));
  REQUIRE_THROWS_WITH(
      Vocab::deserialize(
          "qkv-vocab 1 5\n0\t<pad>\t0\n1\t<bos>\t0\n2\t<eos>\t0\n3\t<unk>\t0\n4\t\xFF\t1\n"),
      Catch::Contains("not valid UTF-8"));
}
