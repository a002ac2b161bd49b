#include <algorithm>
#include <set>
#include <string>

#include "data/synthetic.h"
#include "tests/catch.h"

using namespace qkv::data;

TEST_CASE("copy and reverse tasks follow their options", "[ch12][synthetic]") {
  SyntheticOptions o;
  o.num_pairs = 500;
  o.vocab_size = 7;
  o.min_len = 2;
  o.max_len = 5;
  o.seed = 11;
  const auto copy = make_copy_task(o);
  const auto rev = make_reverse_task(o);
  REQUIRE(copy.size() == 500);
  std::set<size_t> lengths;
  std::set<std::string> symbols;
  for (size_t i = 0; i < copy.size(); ++i) {
    REQUIRE(copy[i].tgt_tokens == copy[i].src_tokens);
    auto reversed = rev[i].src_tokens;
    std::reverse(reversed.begin(), reversed.end());
    REQUIRE(rev[i].tgt_tokens == reversed);
    lengths.insert(copy[i].src_tokens.size());
    for (auto& t : copy[i].src_tokens) symbols.insert(t);
  }
  REQUIRE(lengths == std::set<size_t>{2, 3, 4, 5});
  REQUIRE(symbols == std::set<std::string>{"0", "1", "2", "3", "4", "5", "6"});
}

TEST_CASE("synthetic tasks are deterministic from the seed", "[ch12][synthetic]") {
  SyntheticOptions o;
  o.seed = 3;
  const auto a = make_copy_task(o), b = make_copy_task(o);
  o.seed = 4;
  const auto c = make_copy_task(o);
  size_t same_ab = 0, same_ac = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    same_ab += a[i].source == b[i].source;
    same_ac += a[i].source == c[i].source;
  }
  REQUIRE(same_ab == a.size());
  REQUIRE(same_ac < a.size() / 2);
  o.max_len = 0;
  REQUIRE_THROWS_AS(make_copy_task(o), std::invalid_argument);
}
