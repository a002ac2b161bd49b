// Decoding in a padded batch (chapter 13): the padding and its masks must change nothing.
#include "nn/decoding.h"
#include "nn/gru_seq2seq.h"
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
  o.max_len_cap = c.max_len - 1;
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

namespace {
// A model whose next-token probabilities are scripted by the prefix fed so far (ids: 0 <pad>,
// 1 <bos>, 2 <eos>, 3 "a"): <eos> at once has p = 0.4; "a a" then <eos> has p = 0.6·1·0.5 =
// 0.3, less in all, more per token. Any other prefix continues with <pad> and never ends.
class ScriptedModel : public nn::Seq2SeqModel {
 public:
  nn::DecodeState start_decoding(const Tensor& src, const Tensor&) override {
    nn::DecodeState st;
    st.fed.assign(static_cast<size_t>(src.size(0)), {});
    return st;
  }
  Tensor decode_step(nn::DecodeState& st, const std::vector<int64_t>& next, Tensor*) override {
    const int64_t B = st.batch();
    Tensor logits = Tensor::full({B, 4}, std::log(1e-9f));
    for (int64_t b = 0; b < B; ++b) {
      auto& fed = st.fed[static_cast<size_t>(b)];
      fed.push_back(next[static_cast<size_t>(b)]);
      float* row = logits.data() + b * 4;
      const std::vector<int64_t> a1 = {1}, a2 = {1, 3}, a3 = {1, 3, 3};
      if (fed == a1)
        row[2] = std::log(0.4f), row[3] = std::log(0.6f);
      else if (fed == a2)
        row[3] = 0.f;
      else if (fed == a3)
        row[2] = row[3] = std::log(0.5f);
      else
        row[0] = 0.f;
    }
    return logits;
  }
};
}  // namespace

TEST_CASE("beam search: length normalisation α = 0 keeps the short hypothesis, α = 1 the long",
          "[ch13][beam]") {
  ScriptedModel model;
  nn::DecodeOptions o;
  o.beam = 2;
  o.max_len = 10;
  o.length_penalty = 0.f;  // raw log p: log 0.4 > log 0.3
  nn::Hypothesis h = nn::beam_search(model, {5}, o);
  CHECK(h.tokens.empty());
  CHECK(h.log_prob == Approx(std::log(0.4)).epsilon(1e-4));
  o.length_penalty = 1.f;  // per token: log(0.3) / 2 > log 0.4
  h = nn::beam_search(model, {5}, o);
  CHECK(h.tokens == std::vector<int64_t>{3, 3});
  CHECK(h.log_prob == Approx(std::log(0.3)).epsilon(1e-4));
}

TEST_CASE("the GRU baseline decodes through the same interface: beam 1 is greedy, batched or not",
          "[ch13][ch06]") {
  nn::GRUSeq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = 12;
  c.embed_dim = 8;
  c.hidden = 10;
  Generator gen(4);
  nn::GRUSeq2Seq model(c, gen);
  nn::DecodeOptions o;
  o.max_len = 6;
  o.eos_id = -1;  // untrained: every row runs to max_len
  const std::vector<std::vector<int64_t>> sources = {{3, 4, 5}, {6}, {7, 8, 9, 10, 11}};
  const auto batched = nn::greedy_decode(model, sources, o);
  for (size_t i = 0; i < sources.size(); ++i) {
    INFO("sentence " << i);
    const nn::Hypothesis alone = nn::greedy_decode(model, {sources[i]}, o)[0];
    CHECK(alone.tokens == batched[i].tokens);
    CHECK(nn::beam_search(model, sources[i], o).tokens == alone.tokens);
    CHECK(alone.tokens.size() == 6);
  }
}
