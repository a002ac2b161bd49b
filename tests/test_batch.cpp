#include <algorithm>
#include <set>
#include <vector>

#include "data/batch.h"
#include "data/synthetic.h"
#include "tests/catch.h"

using namespace qkv::data;
using Ids = std::vector<qkv::TokenId>;
using Mask = std::vector<uint8_t>;

TEST_CASE("a batch pads, shifts the target and masks the padding", "[ch12][batch]") {
  const std::vector<EncodedPair> data = {
      {{10, 11, 12}, {20, 21}},
      {{13}, {22, 23, 24}},
  };
  const Batch b = make_batch(data, {0, 1});
  REQUIRE(b.batch_size == 2);
  REQUIRE(b.src_len == 3);
  REQUIRE(b.tgt_len == 4);          // longest target (3) + 1
  REQUIRE(b.src == Ids{10, 11, 12,  //
                       13, 0, 0});
  REQUIRE(b.src_keep == Mask{1, 1, 1,  //
                             1, 0, 0});
  REQUIRE(b.tgt_in == Ids{1, 20, 21, 0,  //
                          1, 22, 23, 24});
  REQUIRE(b.tgt_out == Ids{20, 21, 2, 0,  //
                           22, 23, 24, 2});
  REQUIRE(b.tgt_keep == Mask{1, 1, 1, 0,  //
                             1, 1, 1, 1});
  REQUIRE(b.src_lengths == std::vector<int32_t>{3, 1});
  REQUIRE(b.tgt_lengths == std::vector<int32_t>{3, 4});
  REQUIRE(b.src_tokens() == 4);
  REQUIRE(b.tgt_tokens() == 7);
  REQUIRE(b.indices == std::vector<size_t>{0, 1});
  REQUIRE_THROWS_AS(make_batch(data, {}), std::invalid_argument);
  REQUIRE_THROWS_AS(make_batch(data, {2}), std::invalid_argument);
  REQUIRE_THROWS_AS(make_batch({{{}, {1}}}, {0}), std::invalid_argument);
}

TEST_CASE("every row's mask marks exactly its length, bos/eos in place", "[ch12][batch]") {
  SyntheticOptions o;
  o.num_pairs = 300;
  o.vocab_size = 20;
  o.max_len = 12;
  const auto pairs = make_reverse_task(o);
  const Vocab v = Vocab::build(source_tokens(pairs));
  const auto data = encode_pairs(pairs, v, v);
  BatchOptions bo;
  bo.batch_size = 16;
  for (const Batch& b : make_batches(data, bo)) {
    const int S = b.src_len, T = b.tgt_len;
    REQUIRE(b.src.size() == size_t(b.batch_size) * S);
    REQUIRE(b.tgt_in.size() == size_t(b.batch_size) * T);
    for (int i = 0; i < b.batch_size; ++i) {
      const EncodedPair& p = data[b.indices[i]];
      for (int s = 0; s < S; ++s) {
        const bool real = s < int(p.src.size());
        REQUIRE(b.src_keep[i * S + s] == real);
        REQUIRE((b.src[i * S + s] == Vocab::kPad) == !real);
      }
      const int m = int(p.tgt.size());
      REQUIRE(b.tgt_in[i * T] == Vocab::kBos);
      REQUIRE(b.tgt_out[i * T + m] == Vocab::kEos);
      for (int t = 0; t < T; ++t) {
        REQUIRE(b.tgt_keep[i * T + t] == (t <= m));
        if (t > m) REQUIRE((b.tgt_in[i * T + t] == 0 && b.tgt_out[i * T + t] == 0));
        if (t > 0 && t <= m) REQUIRE(b.tgt_in[i * T + t] == b.tgt_out[i * T + t - 1]);
      }
    }
  }
}

namespace {
std::vector<EncodedPair> random_lengths(int n) {
  std::vector<EncodedPair> data;
  for (int i = 0; i < n; ++i) {
    const int len = 1 + (i * 7919) % 23;
    data.push_back({Ids(len, 5), Ids(1 + (i * 104729) % 19, 6)});
  }
  return data;
}
}  // namespace

TEST_CASE("an epoch uses every pair once, reproducibly, reshuffled per epoch", "[ch12][batch]") {
  const auto data = random_lengths(1000);
  BatchOptions o;
  o.batch_size = 32;
  o.chunk_size = 256;
  o.seed = 5;
  const auto e0 = plan_batches(data, o, 0), e0_again = plan_batches(data, o, 0);
  const auto e1 = plan_batches(data, o, 1);
  REQUIRE(e0 == e0_again);
  REQUIRE(e0 != e1);
  for (const auto& epoch : {e0, e1}) {
    std::vector<size_t> all;
    for (const auto& b : epoch) {
      REQUIRE(b.size() <= 32);
      all.insert(all.end(), b.begin(), b.end());
    }
    std::sort(all.begin(), all.end());
    REQUIRE(all.size() == 1000);
    for (size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == i);
  }
  o.seed = 6;
  REQUIRE(plan_batches(data, o, 0) != e0);
}

TEST_CASE("bucketing cuts padding well below random batches", "[ch12][batch]") {
  const auto data = random_lengths(2000);
  auto padding = [&](const BatchOptions& o) {
    int64_t pad = 0;
    for (const Batch& b : make_batches(data, o))
      pad += int64_t(b.batch_size) * b.src_len - b.src_tokens();
    return pad;
  };
  BatchOptions bucketed;
  bucketed.batch_size = 32;
  bucketed.chunk_size = 1024;
  BatchOptions unbucketed = bucketed;
  unbucketed.chunk_size = 1;
  REQUIRE(padding(bucketed) * 5 < padding(unbucketed));
}

TEST_CASE("a token budget bounds the padded batch size", "[ch12][batch]") {
  const auto data = random_lengths(1000);
  BatchOptions o;
  o.max_tokens = 200;
  size_t rows = 0;
  for (const Batch& b : make_batches(data, o)) {
    REQUIRE(int64_t(b.batch_size) * std::max(b.src_len, b.tgt_len) <= 200);
    rows += b.batch_size;
  }
  REQUIRE(rows == 1000);
  o.max_tokens = 5;  // smaller than one long pair: that pair still forms a batch of its own
  for (const Batch& b : make_batches(data, o))
    if (std::max(b.src_len, b.tgt_len) > 5) REQUIRE(b.batch_size == 1);
}

TEST_CASE("without shuffling the order is the data's own", "[ch12][batch]") {
  const auto data = random_lengths(70);
  BatchOptions o;
  o.batch_size = 32;
  o.shuffle = false;
  const auto plan = plan_batches(data, o, 3);
  REQUIRE(plan.size() == 3);
  size_t next = 0;
  for (const auto& b : plan)
    for (size_t i : b) REQUIRE(i == next++);
  REQUIRE_THROWS_AS(plan_batches(data, BatchOptions{0, 0, 1, true, 0}), std::invalid_argument);
}
