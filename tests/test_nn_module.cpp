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
