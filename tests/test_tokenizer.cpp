#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "tests/catch.h"

using namespace qkv::data;
using Tokens = std::vector<std::string>;

TEST_CASE("English splits into lower-cased words and punctuation", "[ch12][tokenizer]") {
  REQUIRE(tokenize("I love you.") == Tokens{"i", "love", "you", "."});
  REQUIRE(tokenize("Hello,  Tom!\tHow are you?") ==
          Tokens{"hello", ",", "tom", "!", "how", "are", "you", "?"});
  REQUIRE(tokenize("  ").empty());
  REQUIRE(tokenize("(a) [b]") == Tokens{"(", "a", ")", "[", "b", "]"});
  REQUIRE(tokenize("Wait...") == Tokens{"wait", ".", ".", "."});
  REQUIRE(tokenize("ÉCOLE Straße") == Tokens{"école", "straße"});
  REQUIRE(tokenize("Привет, мир") == Tokens{"Привет", ",", "мир"});  // whole, not lower-cased
  REQUIRE(tokenize("hi😀!") == Tokens{"hi", "😀", "!"});
}

TEST_CASE("apostrophes, hyphens and decimal points stay inside words", "[ch12][tokenizer]") {
  REQUIRE(tokenize("Don't go.") == Tokens{"don't", "go", "."});
  REQUIRE(tokenize("Tom's cat") == Tokens{"tom's", "cat"});
  REQUIRE(tokenize("I\u2019m here") == Tokens{"i'm", "here"});  // typographic apostrophe
  REQUIRE(tokenize("'quoted'") == Tokens{"'", "quoted", "'"});
  REQUIRE(tokenize("well-known e-mail") == Tokens{"well-known", "e-mail"});
  REQUIRE(tokenize("a - b") == Tokens{"a", "-", "b"});
  REQUIRE(tokenize("Pi is 3.14, not 3.") == Tokens{"pi", "is", "3.14", ",", "not", "3", "."});
  REQUIRE(tokenize("1,000 people") == Tokens{"1,000", "people"});
}

TEST_CASE("CJK text gives one token per character", "[ch12][tokenizer]") {
  REQUIRE(tokenize("我爱你。") == Tokens{"我", "爱", "你", "。"});
  REQUIRE(tokenize("我爱学习") == Tokens{"我", "爱", "学", "习"});  // seed 000: 4 tokens
  REQUIRE(tokenize("你好吗？") == Tokens{"你", "好", "吗", "？"});
  REQUIRE(tokenize("こんにちは") == Tokens{"こ", "ん", "に", "ち", "は"});
  REQUIRE(tokenize("カタカナ") == Tokens{"カ", "タ", "カ", "ナ"});
  REQUIRE(tokenize("안녕") == Tokens{"안", "녕"});
  REQUIRE(tokenize("「好」，！") == Tokens{"「", "好", "」", "，", "！"});
  REQUIRE(tokenize("ＡＢ") == Tokens{"Ａ", "Ｂ"});  // fullwidth forms
}

TEST_CASE("mixed scripts split at every script boundary", "[ch12][tokenizer]") {
  REQUIRE(tokenize("I love 北京!") == Tokens{"i", "love", "北", "京", "!"});
  REQUIRE(tokenize("我用Python写代码") == Tokens{"我", "用", "python", "写", "代", "码"});
  REQUIRE(tokenize("GPT-4很强。") == Tokens{"gpt-4", "很", "强", "。"});
  REQUIRE(tokenize("machine learning 机器学习") ==
          Tokens{"machine", "learning", "机", "器", "学", "习"});
}

TEST_CASE("tokenizing invalid UTF-8 reports where", "[ch12][tokenizer]") {
  REQUIRE_THROWS_WITH(tokenize("ab\xFF", TextSource{"x.tsv", 3}),
                      Catch::StartsWith("x.tsv:3: invalid UTF-8 at byte 2 (0xff)"));
}

TEST_CASE("detokenize joins CJK without spaces and English with them", "[ch12][tokenizer]") {
  REQUIRE(detokenize({"我", "爱", "你", "。"}) == "我爱你。");
  REQUIRE(detokenize({"i", "love", "you", "."}) == "i love you.");
  REQUIRE(detokenize({"hello", ",", "tom", "!"}) == "hello, tom!");
  REQUIRE(detokenize({"(", "a", ")", "b"}) == "(a) b");
  REQUIRE(detokenize({"我", "用", "python", "写", "代", "码"}) == "我用python写代码");
  REQUIRE(detokenize({}).empty());
  for (const char* s : {"汤姆追杰瑞。", "i don't know.", "他昨天吃了两个苹果。", "it's 3.14, ok?"})
    REQUIRE(detokenize(tokenize(s)) == s);
}

TEST_CASE("split_sentences cuts after sentence-final punctuation", "[ch12][tokenizer]") {
  using Pieces = std::vector<std::vector<std::string>>;
  CHECK(split_sentences(tokenize("Hi. How are you? Fine!")) ==
        Pieces{{"hi", "."}, {"how", "are", "you", "?"}, {"fine", "!"}});
  CHECK(split_sentences(tokenize("no end here")) == Pieces{{"no", "end", "here"}});
  CHECK(split_sentences(tokenize("我爱你。你呢？")) ==
        Pieces{{"我", "爱", "你", "。"}, {"你", "呢", "？"}});
  CHECK(split_sentences(tokenize("3.14 is pi. ok")) == Pieces{{"3.14", "is", "pi", "."}, {"ok"}});
  CHECK(split_sentences({}).empty());
}
