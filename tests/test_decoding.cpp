// Decoding (chapter 13): in a padded batch the padding and its masks must change nothing; the
// key/value cache gives what recomputing the prefix gives, bit for bit.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "autograd/engine.h"
#include "nn/decoding.h"
#include "nn/gru_seq2seq.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;

TEST_CASE("pad_batch: token ids become float values exactly, below 2^24, and no further",
          "[ch12]") {
  Tensor ids, keep;
  const TokenId largest = kMaxExactTokenId - 1;  // 16,777,215: still a float exactly
  nn::pad_batch({{5, largest}, {7}}, test::kPad, ids, keep);
  CHECK(ids.to_vector() == std::vector<float>{5.f, 16777215.f, 7.f, float(test::kPad)});
  CHECK(keep.to_vector() == std::vector<float>{1, 1, 1, 0});
  CHECK(static_cast<TokenId>(ids.data()[1]) == largest);
  // 2^24 + 1 would round to 2^24 as a float: refused, naming the id and its row.
  CHECK_THROWS_WITH(nn::pad_batch({{3}, {kMaxExactTokenId + 1}}, test::kPad, ids, keep),
                    Catch::Contains("16777217") && Catch::Contains("row 1"));
  CHECK_THROWS_AS(nn::pad_batch({{-1}}, test::kPad, ids, keep), std::invalid_argument);
}

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
  const nn::GRUSeq2SeqConfig c = test::tiny_gru_config(12, 12);
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

namespace {
// Same shape, same bits: the cached step does the same sums in the same order as the full
// recompute does for its last position (the GEMM sums each element of a row over k in one
// fixed order whatever the number of rows, chapter 03; attention sums over the keys in order,
// and the causal mask's last row masks nothing), so no tolerance is needed.
bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

// Sources of lengths 1 … n (padded to n in a batch), random symbols in [3, vocab).
std::vector<std::vector<int64_t>> ragged_sources(Generator& gen, int64_t n, int64_t vocab) {
  std::vector<std::vector<int64_t>> s;
  for (int64_t len = 1; len <= n; ++len) {
    s.emplace_back();
    for (int64_t t = 0; t < len; ++t)
      s.back().push_back(3 + static_cast<int64_t>(gen.randint(static_cast<uint64_t>(vocab - 3))));
  }
  return s;
}

// Post-norm with tied output (the default), and pre-norm with learned positions, GELU and its
// own output layer: every branch of the decoder's step.
std::vector<nn::Seq2SeqConfig> cache_configs() {
  nn::Seq2SeqConfig a = test::tiny_config(20, 15);
  a.heads = 4;
  a.encoder_layers = a.decoder_layers = 2;
  nn::Seq2SeqConfig b = a;
  b.norm_first = true;
  b.learned_positions = true;
  b.activation = nn::Activation::GELU;
  b.tie_output = false;
  return {a, b};
}
}  // namespace

TEST_CASE("the key/value cache: every step's logits and cross-attention equal the full recompute's",
          "[ch13][kv_cache]") {
  int config_no = 0;
  for (const nn::Seq2SeqConfig& c : cache_configs()) {
    Generator gen(7);
    nn::Seq2SeqTransformer model(c, gen);
    model.eval();
    Tensor src, keep;
    nn::pad_batch(ragged_sources(gen, 5, c.src_vocab), c.pad_id, src, keep);
    nn::DecodeState cached = model.start_decoding(src, keep);
    nn::DecodeState full = model.start_decoding(src, keep);
    full.use_cache = false;
    std::vector<int64_t> next(5, test::kBos);
    for (int step = 0; step < 9; ++step) {
      INFO("config " << config_no << ", step " << step);
      Tensor w_cached, w_full;
      const Tensor a = model.decode_step(cached, next, &w_cached);
      const Tensor b = model.decode_step(full, next, &w_full);
      REQUIRE(a.shape() == Shape{5, c.tgt_vocab});
      CHECK(same_bits(a, b));
      REQUIRE(w_cached.shape() == Shape{5, c.heads, 5});
      CHECK(same_bits(w_cached, w_full));
      CHECK(cached.self_kv.size() == 2);
      CHECK(cached.self_kv[0].k.shape() == Shape{5, step + 1, c.d_model});  // one row a step
      CHECK(full.self_kv.empty());
      for (int64_t r = 0; r < 5; ++r)  // feed the most probable token, as greedy would
        next[r] = std::max_element(a.data() + r * c.tgt_vocab, a.data() + (r + 1) * c.tgt_vocab) -
                  (a.data() + r * c.tgt_vocab);
      if (step == 3) {  // reorder rows as beam search does: one repeated, one dropped
        const std::vector<int64_t> rows{4, 0, 0, 2, 1};
        cached = cached.select(rows);
        full = full.select(rows);
        std::vector<int64_t> picked;
        for (int64_t r : rows) picked.push_back(next[r]);
        next = picked;
      }
    }
    ++config_no;
  }
}

TEST_CASE("the key/value cache: greedy and beam search give the recompute's tokens and scores",
          "[ch13][kv_cache]") {
  for (const nn::Seq2SeqConfig& c : cache_configs()) {
    Generator gen(11);
    nn::Seq2SeqTransformer model(c, gen);
    const auto sources = ragged_sources(gen, 7, c.src_vocab);
    nn::DecodeOptions o;
    o.max_len = 12;
    o.eos_id = -1;  // untrained: every row runs all 12 steps
    nn::DecodeOptions slow = o;
    slow.kv_cache = false;
    const auto cached = nn::greedy_decode(model, sources, o);
    const auto full = nn::greedy_decode(model, sources, slow);
    for (size_t i = 0; i < sources.size(); ++i) {
      INFO("source of length " << sources[i].size());
      CHECK(cached[i].tokens.size() == 12);
      CHECK(cached[i].tokens == full[i].tokens);
      CHECK(cached[i].log_prob == full[i].log_prob);
      // A sentence's translation does not depend on its batch-mates, with the cache too.
      const nn::Hypothesis alone = nn::greedy_decode(model, {sources[i]}, o)[0];
      CHECK(alone.tokens == cached[i].tokens);
      CHECK(alone.log_prob == cached[i].log_prob);
    }
    o.eos_id = slow.eos_id = 2;  // beams end, finish and get reordered at different steps
    o.beam = slow.beam = 3;
    for (size_t i = 0; i < sources.size(); i += 2) {
      const nn::Hypothesis a = nn::beam_search(model, sources[i], o);
      const nn::Hypothesis b = nn::beam_search(model, sources[i], slow);
      CHECK(a.tokens == b.tokens);
      CHECK(a.log_prob == b.log_prob);
    }
  }
}

TEST_CASE("the key/value cache: the same tokens and scores on 1 and 2 threads",
          "[ch13][kv_cache]") {
  // Big enough that the step's products and the attention split among threads.
  nn::Seq2SeqConfig c = test::tiny_config(300, 1000);
  c.d_model = 128;
  c.heads = 4;
  c.d_ff = 512;
  c.encoder_layers = c.decoder_layers = 2;
  Generator gen(5);
  nn::Seq2SeqTransformer model(c, gen);
  std::vector<std::vector<int64_t>> sources;
  for (int r = 0; r < 3; ++r)
    for (const auto& s : ragged_sources(gen, 10, c.src_vocab)) sources.push_back(s);
  nn::DecodeOptions o;
  o.max_len = 6;
  o.eos_id = -1;
  const int saved = omp_get_max_threads();
  std::vector<nn::Hypothesis> out[2];
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    out[threads - 1] = nn::greedy_decode(model, sources, o);
  }
  omp_set_num_threads(saved);
  for (size_t i = 0; i < sources.size(); ++i) {
    INFO("sentence " << i);
    CHECK(out[0][i].tokens == out[1][i].tokens);
    CHECK(out[0][i].log_prob == out[1][i].log_prob);
  }
}

TEST_CASE("the cached step's cross-attention is the heat map's row (translate --attention)",
          "[ch13][kv_cache]") {
  // build/translate draws the weights of a teacher-forced decode() over <bos> + the output;
  // the cached decoder's step t must have attended exactly as that pass's row t.
  nn::Seq2SeqConfig c = cache_configs()[0];
  Generator gen(3);
  nn::Seq2SeqTransformer model(c, gen);
  model.eval();
  const std::vector<int64_t> src_ids{5, 9, 4, 12};
  Tensor src, keep;
  nn::pad_batch({src_ids}, c.pad_id, src, keep);
  nn::DecodeState st = model.start_decoding(src, keep);
  std::vector<int64_t> fed{test::kBos};
  std::vector<Tensor> rows;
  for (int step = 0; step < 6; ++step) {
    Tensor w;
    const Tensor logits = model.decode_step(st, {fed.back()}, &w);  // w [1, heads, S]
    rows.push_back(w);
    fed.push_back(std::max_element(logits.data(), logits.data() + c.tgt_vocab) - logits.data());
  }
  fed.pop_back();  // <bos> and the 5 tokens fed after it: 6 positions
  std::vector<float> t(fed.begin(), fed.end());
  const int64_t T = static_cast<int64_t>(t.size());
  std::vector<Tensor> weights;
  {
    NoGradGuard no_grad;
    model.decode(Tensor::from_vector(t, {1, T}), model.encode(src, keep), keep,
                 Tensor::ones({1, T}), &weights);
  }
  const Tensor& w = weights.back();  // [1, heads, T, S]
  for (int64_t i = 0; i < T; ++i) {
    INFO("position " << i);
    CHECK(same_bits(reshape(slice(w, 2, i, i + 1), {1, c.heads, 4}), rows[static_cast<size_t>(i)]));
  }
}
