// nn/state: the pieces a checkpoint is made of. Any Module saves and loads (the GRU
// baseline, an encoder-only stack as in chapter 15), optimizers keyed by parameter name,
// Dropout generators, "key value" records, and renamed parameters of older files.
#include <cstring>
#include <string>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "nn/gru_seq2seq.h"
#include "nn/state.h"
#include "nn/train.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;
using namespace qkv::nn;

namespace {
std::string temp_path(const std::string& name) {
  return std::string(QKV_BUILD_DIR) + "/test_state_" + name;
}
bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}
}  // namespace

TEST_CASE("the GRU baseline saves and loads: the loaded model decodes bit for bit the same",
          "[ch12][state]") {
  GRUSeq2SeqConfig c = test::tiny_gru_config(test::kFirstSymbol + 6, test::kFirstSymbol + 6);
  Generator g1(1), g2(2), data(3);
  GRUSeq2Seq trained(c, g1), fresh(c, g2);
  Adam opt(trained.named_parameters(), 1e-2f);
  fit(opt, 5, [&](int64_t) {
    test::TaskBatch b = test::reverse_batch(data, 8, 5, 6);
    return cross_entropy(reshape(trained.forward(b.src, b.src_keep, b.tgt_in), {-1, c.tgt_vocab}),
                         b.tgt_out, test::kPad);
  });
  const std::string path = temp_path("gru.qkv");
  save_module(path, trained);
  load_module(path, fresh);
  for (const auto& [name, p] : trained.named_parameters()) {
    INFO(name);
    CHECK(same_bits(p, fresh.state_dict().at(name)));
  }
  test::TaskBatch b = test::reverse_batch(data, 4, 5, 6);
  NoGradGuard no_grad;
  CHECK(same_bits(trained.forward(b.src, b.src_keep, b.tgt_in),
                  fresh.forward(b.src, b.src_keep, b.tgt_in)));
  // A model of another shape is refused, naming the file and the tensor.
  c.hidden = 10;
  GRUSeq2Seq other(c, g2);
  CHECK_THROWS_WITH(load_module(path, other), Catch::Contains(path) && Catch::Contains("shape"));
  std::remove(path.c_str());
}

TEST_CASE("an encoder-only stack (chapter 15) saves and loads under a prefix", "[ch15][state]") {
  const TransformerOptions o = test::tiny_config(1, 1);
  Generator g1(1), g2(2);
  Encoder a(o, 2, g1), b(o, 2, g2);
  TensorFile f;
  f.magic = "qkv-test";
  put_module(f, a, "stack.");
  f.tensors.emplace_back("other.x", Tensor::zeros({1}));  // records of other prefixes: ignored
  load_module(f, b, "stack.");
  Tensor x = Tensor::randn({2, 3, o.d_model}, g1), keep = Tensor::ones({2, 1, 1, 3});
  CHECK(same_bits(a.forward(x, keep), b.forward(x, keep)));
  f.tensors.emplace_back("stack.extra.weight", Tensor::zeros({1}));
  CHECK_THROWS_WITH(load_module(f, b, "stack."), Catch::Contains("extra.weight"));
}

TEST_CASE("load_module maps renamed parameters of older files", "[ch12][state]") {
  Seq2SeqConfig c = test::tiny_config(9, 7);
  c.tie_output = false;
  Generator g1(1), g2(2);
  Seq2SeqTransformer a(c, g1), b(c, g2);
  TensorFile f;
  for (const auto& [name, t] : a.named_parameters()) {
    std::string old = name;
    if (old.rfind("output.", 0) == 0) old = "generator." + old.substr(7);  // the old name
    f.tensors.emplace_back("model." + old, t);
  }
  CHECK_THROWS(load_module(f, b, "model."));
  load_module(f, b, "model.", {{"generator.", "output."}});
  CHECK(same_bits(a.output->weight, b.output->weight));
}

TEST_CASE("an optimizer's state, keyed by parameter name, resumes the same updates",
          "[ch12][state]") {
  auto make = [] {
    std::vector<std::pair<std::string, Tensor>> named = {
        {"w", Tensor::from_vector({1.f, -2.f}, {2}, true)}, {"b", Tensor::scalar(0.5f, true)}};
    return named;
  };
  auto loss = [](const std::vector<Tensor>& p) {
    return add(sum(mul(mul(p[0], p[0]), 3.f)), mul(p[1], p[1]));
  };
  auto params = make(), params2 = make();
  Adam a(params, 0.1f), b(params2, 0.1f);
  for (int i = 0; i < 3; ++i) train_step(a, loss(a.params()));
  OptimizerState s = a.state_dict();
  CHECK(s.steps == 3);
  REQUIRE(s.tensors.size() == 4);
  CHECK(s.tensors[0].first == "m.w");
  CHECK(s.tensors[3].first == "v.b");
  // b gets a's parameters and state: from here on both take the same steps.
  for (size_t i = 0; i < 2; ++i) {
    const Tensor& src = a.params()[i];
    Tensor dst = b.params()[i];  // a handle to the same storage
    std::copy(src.data(), src.data() + src.numel(), dst.data());
  }
  b.load_state_dict(s);
  train_step(a, loss(a.params()));
  train_step(b, loss(b.params()));
  CHECK(same_bits(a.params()[0], b.params()[0]));
  CHECK(same_bits(a.params()[1], b.params()[1]));
  CHECK(b.steps() == 4);
  // Missing, unexpected and misshapen entries are named.
  OptimizerState bad = s;
  bad.tensors.pop_back();
  CHECK_THROWS_WITH(b.load_state_dict(bad), Catch::Contains("no optimizer state 'v.b'"));
  bad = s;
  bad.tensors.emplace_back("m.nothing", Tensor::zeros({1}));
  CHECK_THROWS_WITH(b.load_state_dict(bad), Catch::Contains("'m.nothing'"));
  bad = s;
  bad.tensors[0].second = Tensor::zeros({3});
  CHECK_THROWS_WITH(b.load_state_dict(bad), Catch::Contains("'m.w' has shape [3]"));
  // SGD's momentum buffers the same way; unnamed parameters are named by position.
  SGD sgd(std::vector<Tensor>{Tensor::zeros({2}, true)}, 0.1f, 0.9f);
  CHECK(sgd.state_dict().tensors.at(0).first == "momentum.0");
}

TEST_CASE("Dropout generator states: text round trip, and every mismatch named", "[ch12][state]") {
  Seq2SeqConfig c = test::tiny_config(9, 7);
  c.dropout = 0.1f;
  Generator g(1);
  Seq2SeqTransformer model(c, g);
  auto states = dropout_states(model);
  REQUIRE(states.front().first == "embed_dropout");  // in named_modules() order
  model.train();
  Tensor x = Tensor::ones({64});
  const auto draw = [&] { return model.embed_drop->forward(x).to_vector(); };
  const auto first = draw();
  CHECK(draw() != first);
  load_dropout_states(model, dropout_states_from_text(dropout_states_to_text(states)));
  CHECK(draw() == first);  // the same masks again
  states.erase(states.begin());
  CHECK_THROWS_WITH(load_dropout_states(model, states),
                    Catch::Contains("no rng state for the dropout 'embed_dropout'"));
  CHECK_THROWS_WITH(dropout_states_from_text("x 12 34\n"), Catch::Contains("malformed rng line"));
}

TEST_CASE("the Transformer's config as text and back; a bad field is named", "[ch12][state]") {
  Seq2SeqConfig c = test::tiny_config(9, 7);
  c.activation = Activation::GELU;
  c.norm_first = true;
  c.dropout = 0.25f;
  const std::string text = config_to_text(c);
  CHECK(config_to_text(config_from_text(text)) == text);
  CHECK_THROWS_WITH(config_from_text("d_model 8\n"), Catch::Contains("no 'src_vocab'"));
  std::string bad = text;
  bad.replace(bad.find("heads 2"), 7, "heads x");
  CHECK_THROWS_WITH(config_from_text(bad), Catch::Contains("config 'heads' is not an integer"));
  CHECK(key_values("a 1\nb two words\n", "r").at("b") == "two words");
  CHECK_THROWS_WITH(key_values("nospace\n", "r"), Catch::Contains("malformed r line 'nospace'"));
}
