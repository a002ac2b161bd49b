// Gradcheck of every nn module at small sizes, and the Module bookkeeping (chapters 04, 10, 11).
#include <algorithm>
#include <cmath>

#include "autograd/gradcheck.h"
#include "nn/attention.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"
#include "tests/helpers.h"

using namespace qkv;
using namespace qkv::test;
using namespace qkv::nn;

TEST_CASE("Linear, Embedding, LayerNorm and FeedForward pass gradcheck", "[ch04][nn][gradcheck]") {
  Generator gen(1);
  Linear lin(3, 4, gen);
  check_module(lin, [&](auto& v) { return lin.forward(v[0]); }, {rnd({2, 3}, 2)});
  Linear xav(3, 2, gen, false, Init::Xavier);
  check_module(xav, [&](auto& v) { return xav.forward(v[0]); }, {rnd({2, 2, 3}, 3)});
  Embedding emb(6, 3, gen, 0);
  Tensor ids = Tensor::from_vector({1, 5, 2, 1}, {2, 2});
  check_module(emb, [&](auto&) { return emb.forward(ids); }, {});
  LayerNorm ln(5);
  Generator g2(4);
  for (auto& p : ln.parameters())  // away from the trivial ones/zeros
    for (int64_t i = 0; i < p.numel(); ++i) p.data()[i] += g2.uniform(-0.5f, 0.5f);
  check_module(ln, [&](auto& v) { return ln.forward(v[0]); }, {rnd({3, 5}, 5, -2.f, 2.f)});
  for (Activation a : {Activation::ReLU, Activation::GELU}) {
    FeedForward ff(4, 6, gen, a);
    // Finite differences straddle ReLU's kink when a pre-activation lies within the step
    // (eps = 0.01) of 0, so for ReLU take the first input whose pre-activations all keep
    // a margin of 0.05, and say so if none does.
    Tensor x;
    float margin = 0.f;
    for (uint64_t seed = 6; seed < 200 && margin < 0.05f; ++seed) {
      x = rnd({2, 3, 4}, seed);
      margin = 1e9f;
      for (float h : ff.linear1->forward(x.detach()).to_vector())
        margin = std::min(margin, std::fabs(h));
      if (a == Activation::GELU) break;
    }
    if (a == Activation::ReLU) REQUIRE(margin >= 0.05f);
    check_module(ff, [&](auto& v) { return ff.forward(v[0]); }, {x});
  }
}

TEST_CASE("Embedding: the padding row starts at zero and gets no gradient", "[ch04][nn]") {
  Generator gen(2);
  Embedding emb(5, 3, gen, 0);
  for (int j = 0; j < 3; ++j) REQUIRE(emb.weight.data()[j] == 0.f);
  sum(emb.forward(Tensor::from_vector({0, 1, 0, 3}, {4}))).backward();
  for (int j = 0; j < 3; ++j) {
    REQUIRE(emb.weight.grad().data()[j] == 0.f);      // row 0: padding
    REQUIRE(emb.weight.grad().data()[3 + j] == 1.f);  // row 1: used once
  }
}

TEST_CASE("Module: dotted parameter names, counts, state round trip", "[ch11][nn]") {
  Generator gen(3);
  Seq2SeqConfig c = test::tiny_config(11, 13);
  c.d_model = 8;
  c.d_ff = 16;
  c.encoder_layers = 2;
  Seq2SeqTransformer model(c, gen);
  auto named = model.named_parameters();
  bool found = false;
  for (auto& [name, t] : named) found = found || name == "encoder.layers.1.self_attn.w_q.weight";
  REQUIRE(found);
  // Counted by hand: embeddings 11·8 + 13·8, the tied output layer's bias 13; an encoder
  // layer 4·(8·8 + 8) + (8·16 + 16 + 16·8 + 8) + 2·2·8 = 600, a decoder layer
  // 2·4·(8·8 + 8) + 280 + 3·2·8 = 904.
  REQUIRE(model.num_parameters() == 88 + 104 + 13 + 2 * 600 + 904);
  // One attention block: 4 projections of 8×8 plus 4 biases of 8.
  REQUIRE(model.encoder->layers[0]->self_attn->num_parameters() == 4 * (8 * 8 + 8));
  // named_modules: every module below, by dotted name; here, to find the Dropouts (one for
  // the embeddings, 4 per encoder layer, 6 per decoder layer).
  std::vector<std::string> dropouts;
  for (auto& [name, m] : model.named_modules())
    if (dynamic_cast<Dropout*>(m.get())) dropouts.push_back(name);
  REQUIRE(dropouts.size() == 1 + 2 * 4 + 1 * 6);
  CHECK(dropouts.front() == "embed_dropout");
  CHECK(dropouts[1] == "encoder.layers.0.self_attn.attn_dropout");
  CHECK(dropouts.back() == "decoder.layers.0.add_norm3.dropout");

  Generator other_gen(99);
  Seq2SeqTransformer other(c, other_gen);
  REQUIRE(other.state_dict().at("decoder.layers.0.cross_attn.w_k.weight").to_vector() !=
          model.state_dict().at("decoder.layers.0.cross_attn.w_k.weight").to_vector());
  other.load_state_dict(model.state_dict());
  for (auto& [name, t] : model.state_dict())
    REQUIRE(other.state_dict().at(name).to_vector() == t.to_vector());

  auto bad = model.state_dict();
  bad["encoder.layers.0.ffn.linear1.bias"] = Tensor::zeros({3});
  REQUIRE_THROWS_WITH(
      other.load_state_dict(bad),
      Catch::Contains("encoder.layers.0.ffn.linear1.bias") && Catch::Contains("[3]"));
  auto missing = model.state_dict();
  missing.erase("output_bias");
  REQUIRE_THROWS_WITH(other.load_state_dict(missing),
                      Catch::Contains("missing parameter 'output_bias'"));
}

TEST_CASE("train() and eval() reach every child; dropout is identity in eval", "[ch04][nn]") {
  Generator gen(4);
  FeedForward ff(4, 8, gen, Activation::ReLU, 0.5f);
  Tensor x = rnd({3, 4}, 7);
  ff.eval();
  REQUIRE_FALSE(ff.drop->is_training());
  Tensor a = ff.forward(x), b = ff.forward(x);
  REQUIRE(a.to_vector() == b.to_vector());
  ff.train();
  REQUIRE(ff.drop->is_training());
  REQUIRE(ff.forward(x).to_vector() != a.to_vector());
  // A generator set back to a saved state draws the same mask again: what resume relies on.
  const Generator::State saved = ff.drop->generator().get_state();
  const std::vector<float> first = ff.forward(x).to_vector();
  REQUIRE(ff.forward(x).to_vector() != first);
  ff.drop->generator().set_state(saved);
  REQUIRE(ff.forward(x).to_vector() == first);
}
