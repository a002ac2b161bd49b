// A small Transformer learns to copy random sequences (the floor: ≥ 99% token
// accuracy for length 8 over 10 symbols), with greedy decoding, deterministically.
#include "autograd/ops.h"
#include "nn/decoding.h"
#include "nn/optim.h"
#include "tests/catch.h"

using namespace qkv;
using namespace qkv::nn;

TEST_CASE("a Transformer learns to copy length-8 sequences over 10 symbols", "[ch11][train]") {
  // ids: 0 <pad>, 1 <bos>, 2 <eos>, 3..12 the symbols
  Generator gen(1);
  Seq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = 13;
  c.d_model = 32;
  c.heads = 4;
  c.d_ff = 64;
  c.encoder_layers = c.decoder_layers = 1;
  c.dropout = 0.f;
  c.max_len = 16;
  Seq2SeqTransformer model(c, gen);
  Adam opt(model.parameters(), 0.f, 0.9f, 0.98f, 1e-9f);
  const int64_t B = 32, L = 8, V = 13;
  for (int64_t step = 1; step <= 900; ++step) {
    Tensor src = Tensor::empty({B, L}), tin = Tensor::empty({B, L + 1}),
           tout = Tensor::empty({B * (L + 1)});
    for (int64_t b = 0; b < B; ++b) {
      tin.data()[b * (L + 1)] = 1;
      for (int64_t t = 0; t < L; ++t) {
        const float v = static_cast<float>(3 + gen.randint(10));
        src.data()[b * L + t] = v;
        tin.data()[b * (L + 1) + t + 1] = v;
        tout.data()[b * (L + 1) + t] = v;
      }
      tout.data()[b * (L + 1) + L] = 2;
    }
    Tensor logits = model.forward(src, Tensor::ones({B, L}), tin, Tensor::ones({B, L + 1}));
    Tensor loss = cross_entropy(reshape(logits, {B * (L + 1), V}), tout);
    opt.lr = noam_lr(step, c.d_model, 100, 2.f);
    opt.zero_grad();
    loss.backward();
    clip_grad_norm(opt.params(), 1.0);
    opt.step();
  }
  Generator test_gen(99);
  std::vector<std::vector<int64_t>> src;
  for (int i = 0; i < 200; ++i) {
    std::vector<int64_t> s;
    for (int64_t t = 0; t < L; ++t) s.push_back(static_cast<int64_t>(3 + test_gen.randint(10)));
    src.push_back(s);
  }
  DecodeOptions o;
  o.max_len = 12;
  auto hyps = greedy_decode(model, src, o);
  int64_t right = 0;
  for (size_t i = 0; i < src.size(); ++i)
    for (int64_t t = 0; t < L; ++t)
      right += static_cast<int64_t>(hyps[i].tokens.size()) > t && hyps[i].tokens[t] == src[i][t];
  const double accuracy = static_cast<double>(right) / (200.0 * L);
  INFO("token accuracy " << accuracy);
  REQUIRE(accuracy >= 0.99);
  // Beam search with a beam of 1 is greedy search.
  o.beam = 1;
  for (int i = 0; i < 10; ++i) REQUIRE(beam_search(model, src[i], o).tokens == hyps[i].tokens);
  o.beam = 4;
  REQUIRE(beam_search(model, src[0], o).tokens == src[0]);
}
