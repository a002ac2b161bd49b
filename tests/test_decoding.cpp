// Decoding in a padded batch (chapter 13): the padding and its masks must change nothing.
#include "nn/decoding.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;

TEST_CASE("greedy decoding of a padded batch equals decoding each sentence alone, bit for bit",
          "[ch13]") {
  nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  c.heads = 4;
  c.encoder_layers = c.decoder_layers = 2;
  for (uint64_t seed : {1, 2}) {
    Generator gen(seed);
    nn::Seq2SeqTransformer model(c, gen);
    nn::DecodeOptions o;
    o.max_len = 10;
    o.eos_id = -1;  // untrained: run every row to max_len, so padded target rows are exercised too
    // Lengths 1 to 9: in the batch the short ones are padded to 9 source tokens.
    std::vector<std::vector<int64_t>> sources;
    for (int64_t len = 1; len <= 9; ++len) {
      sources.emplace_back();
      for (int64_t t = 0; t < len; ++t)
        sources.back().push_back(3 + static_cast<int64_t>(gen.randint(17)));
    }
    const auto batched = nn::greedy_decode(model, sources, o);
    REQUIRE(batched.size() == sources.size());
    for (size_t i = 0; i < sources.size(); ++i) {
      INFO("seed " << seed << ", source of length " << sources[i].size());
      const auto alone = nn::greedy_decode(model, {sources[i]}, o);
      CHECK(batched[i].tokens.size() == 10);
      CHECK(batched[i].tokens == alone[0].tokens);
      CHECK(batched[i].log_prob == alone[0].log_prob);
    }
  }
}

TEST_CASE("greedy decoding: each sentence's length limit is its own, not its batch's", "[ch13]") {
  // Decoded alone or beside a long sentence, a short sentence must get the same translation:
  // its limit is 2 × its own length + 10 (max_len 0), at most the model's max_len − 1. Before
  // this, the app decoded a batch up to the limit of its longest sentence.
  nn::Seq2SeqConfig c = test::tiny_config(20, 15);
  c.max_len = 64;
  Generator gen(3);
  nn::Seq2SeqTransformer model(c, gen);
  nn::DecodeOptions o;
  o.max_len = 0;
  o.eos_id = -1;  // never chosen: every row runs to its limit
  const std::vector<int64_t> short_src{4, 5}, long_src(20, 6), longer_src(40, 7);
  const auto alone = nn::greedy_decode(model, {short_src}, o);
  const auto together = nn::greedy_decode(model, {short_src, long_src, longer_src}, o);
  REQUIRE(alone[0].tokens.size() == 2 * 2 + 10);
  CHECK(together[0].tokens == alone[0].tokens);
  CHECK(together[0].log_prob == alone[0].log_prob);
  CHECK(together[1].tokens.size() == 2 * 20 + 10);
  CHECK(together[2].tokens.size() == 63);  // 2 · 40 + 10 = 90, capped by max_len − 1
  CHECK(nn::beam_search(model, short_src, o).tokens.size() <= 2 * 2 + 10);
}
