// Chapter 11: the published sizes: the base configuration's parameters (63,119,496), one encoder
// layer's multiply-accumulates (1,879,048,192), and what untying adds.
#include <cmath>
#include <map>
#include <string>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;
using namespace qkv::nn;

TEST_CASE("the paper's base model has about 65M parameters, and the components add up",
          "[ch11][params]") {
  Seq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = 37000;
  c.d_model = 512;
  c.heads = 8;
  c.d_ff = 2048;
  c.encoder_layers = c.decoder_layers = 6;
  c.share_embeddings = true;
  c.tie_output = true;
  Generator gen(0);
  Seq2SeqTransformer model(c, gen);
  std::map<std::string, int64_t> parts;
  int64_t total = 0;
  for (auto& [name, p] : model.named_parameters()) {
    const auto dot = name.find('.');
    std::string top = name.substr(0, dot);
    if (top == "encoder" || top == "decoder") {
      // encoder.layers.3.self_attn.w_q.weight → encoder.self_attn
      const auto rest = name.substr(name.find('.', name.find('.', dot + 1) + 1) + 1);
      top += "." + rest.substr(0, rest.find('.'));
    }
    parts[top] += p.numel();
    total += p.numel();
  }
  CHECK(std::fabs(total - 65e6) / 65e6 < 0.05);
  const int64_t d = 512, mha = 4 * (d * d + d), ffn = 2 * d * 2048 + 2048 + d;
  CHECK(parts["src_embed"] == 37000 * d);  // one table: source, target and output projection
  CHECK(parts.count("tgt_embed") == 0);
  CHECK(parts.count("output") == 0);
  CHECK(parts["output_bias"] == 37000);
  CHECK(parts["encoder.self_attn"] == 6 * mha);
  CHECK(parts["decoder.self_attn"] == 6 * mha);
  CHECK(parts["decoder.cross_attn"] == 6 * mha);
  CHECK(parts["encoder.ffn"] == 6 * ffn);
  CHECK(parts["decoder.ffn"] == 6 * ffn);
  CHECK(parts["encoder.add_norm1"] + parts["encoder.add_norm2"] == 6 * 2 * 2 * d);
  CHECK(total == 63119496);
}

// Seed 000's "512 × 512": 512 tokens of width 512 go in, and the same size comes out.
TEST_CASE("an encoder layer of the base model maps [1, 512, 512] to [1, 512, 512]",
          "[ch11][macs]") {
  TransformerOptions o;
  o.d_model = 512;
  o.heads = 8;
  o.d_ff = 2048;
  o.dropout = 0.f;
  Generator gen(5);
  EncoderLayer layer(o, gen);
  Tensor x = Tensor::randn({1, 512, 512}, gen);
  NoGradGuard no_grad;
  reset_macs();
  Tensor y = layer.forward(x, Tensor());
  CHECK(y.shape() == Shape{1, 512, 512});
  const int64_t n = 512, d = 512, dff = 2048;
  // Four projections n·d², q·kᵀ and weights·v n²·d each, the feed-forward layer 2·n·d·d_ff.
  CHECK(macs() == 4 * n * d * d + 2 * n * n * d + 2 * n * d * dff);
  CHECK(macs() == 1879048192);
}

TEST_CASE("untied, unshared embeddings add two more vocabulary-sized matrices", "[ch11][params]") {
  Seq2SeqConfig c = test::tiny_config(50, 60);  // d_model 16
  c.tie_output = false;
  Generator gen(1);
  Seq2SeqTransformer untied(c, gen);
  c.tie_output = true;
  Seq2SeqTransformer tied(c, gen);
  CHECK(untied.num_parameters() - tied.num_parameters() == 60 * 16);  // the output layer's weight
}
