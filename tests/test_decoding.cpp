// Decoding in a padded batch (chapter 13): the padding and its masks must change nothing.
#include "nn/decoding.h"
#include "nn/transformer.h"
#include "tests/fixtures.h"
#include "tests/catch.h"

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
