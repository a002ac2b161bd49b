// Chapter 13's key/value cache: what it holds for the model `make train` builds, and the work
// it saves, counted (multiply-adds, the same on every machine) rather than timed.
//
//   build/ch13_kv_cache
//
// 1. The cache's size by the formula 4 bytes × decoder layers × 2 (K and V) × d_model × (t + S)
//    per sentence (t tokens fed, S source tokens), for make train's model (train_flags.h).
// 2. Greedy decoding of one 10-token source to T tokens with and without the cache: the
//    decoder's multiply-adds per sentence (the encoder's, the same both ways, left out).
#include <cstdio>
#include <vector>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "examples/cli.h"
#include "examples/translator/train_flags.h"
#include "nn/decoding.h"
#include "nn/transformer.h"

using namespace qkv;

namespace {
// The decoder's multiply-adds for `steps` greedy steps on `src` (a batch of one).
int64_t decoder_macs(nn::Seq2SeqTransformer& model, const std::vector<int64_t>& src, int64_t steps,
                     bool cache) {
  NoGradGuard no_grad;
  Tensor ids, keep;
  nn::pad_batch({src}, 0, ids, keep);
  nn::DecodeState st = model.start_decoding(ids, keep);
  st.use_cache = cache;
  reset_macs();
  std::vector<int64_t> next{1};  // <bos>
  for (int64_t t = 0; t < steps; ++t) {
    const Tensor logits = model.decode_step(st, next);
    const float* row = logits.data();
    int64_t best = 3;  // the most probable ordinary token (an untrained model: never stop)
    for (int64_t v = 3; v < logits.size(1); ++v) best = row[v] > row[best] ? v : best;
    next = {best};
  }
  return macs();
}
}  // namespace

int run_chapter() {
  const app::ModelFlags m;  // make train's model
  const int64_t L = m.dec_layers < 0 ? m.layers : m.dec_layers, D = m.d_model;
  std::printf(
      "make train's model: d_model %lld, %lld heads, d_ff %lld, %lld decoder layers, "
      "max_len %lld\n\n",
      static_cast<long long>(D), static_cast<long long>(m.heads), static_cast<long long>(m.d_ff),
      static_cast<long long>(L), static_cast<long long>(m.max_len));

  nn::Seq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = 1000;
  c.d_model = D;
  c.heads = m.heads;
  c.d_ff = m.d_ff;
  c.encoder_layers = m.enc_layers < 0 ? m.layers : m.enc_layers;
  c.decoder_layers = L;
  c.max_len = m.max_len;
  c.dropout = 0.f;
  Generator gen(1);
  nn::Seq2SeqTransformer model(c, gen);
  model.eval();
  std::printf("cache per sentence = 4 bytes x %lld layers x 2 (K, V) x %lld x (t + S)\n",
              static_cast<long long>(L), static_cast<long long>(D));
  auto bytes = [&](int64_t t, int64_t S) { return 4 * L * 2 * D * (t + S); };
  auto line = [](const char* what, int64_t b) {
    std::printf("  %-54s %8lld bytes = %6.1f KiB\n", what, static_cast<long long>(b),
                static_cast<double>(b) / 1024.0);
  };
  line("S = 10 source tokens, t = 30 fed (its limit 2 S + 10)", bytes(30, 10));
  line("S = t = max_len (the longest sentence)", bytes(m.max_len, m.max_len));
  line("64 longest sentences (an evaluation batch)", 64 * bytes(m.max_len, m.max_len));
  std::printf("  (the weights, with vocabularies of 1000: %lld bytes = %.1f KiB)\n\n",
              static_cast<long long>(4 * model.num_parameters()),
              4.0 * static_cast<double>(model.num_parameters()) / 1024.0);

  const std::vector<int64_t> src{5, 17, 42, 8, 99, 23, 4, 61, 7, 300};
  std::printf("decoder multiply-adds, greedy decoding of one 10-token source (vocabulary 1000)\n");
  std::printf("%10s %20s %20s %8s\n", "tokens T", "recompute prefix", "key/value cache", "ratio");
  for (int64_t T : {4, 8, 16, 32, 63}) {
    const int64_t full = decoder_macs(model, src, T, false);
    const int64_t cached = decoder_macs(model, src, T, true);
    std::printf("%10lld %20lld %20lld %8.2f\n", static_cast<long long>(T),
                static_cast<long long>(full), static_cast<long long>(cached),
                static_cast<double>(full) / static_cast<double>(cached));
  }
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch13_kv_cache",
      "Chapter 13: what the key/value cache holds and the work it saves, counted.", run_chapter);
}
