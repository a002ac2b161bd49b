// build/export_checkpoint end to end: a checkpoint written by train_translator, exported,
// read back in C++ with nn/safetensors. Every name PyTorch's modules expect is there with
// its shape, and every byte equals the checkpoint's (in_proj = Q, K, V rows stacked).
#include <cstdio>
#include <set>
#include <string>

#include "nn/safetensors.h"
#include "nn/serialize.h"
#include "tests/catch.h"
#include "tests/programs.h"

using namespace qkv;

namespace {
using test::run;

std::vector<float> values(const Tensor& t) { return t.to_vector(); }
std::vector<float> rows(const std::vector<Tensor>& parts) {
  std::vector<float> out;
  for (const Tensor& t : parts)
    for (float v : t.to_vector()) out.push_back(v);
  return out;
}
}  // namespace

TEST_CASE("export_checkpoint writes PyTorch's names, shapes and the checkpoint's bytes",
          "[export][ch13]") {
  for (const std::string variant : {"post", "pre"}) {
    INFO(variant);
    const std::string ckpt = std::string(QKV_BUILD_DIR) + "/test_export_" + variant + ".ckpt";
    const std::string out = std::string(QKV_BUILD_DIR) + "/test_export_" + variant + ".safetensors";
    const std::string flags = variant == "pre" ? " --pre-norm --untied" : "";
    const test::Result t = run(
        "train_translator --task copy --task-pairs 40 --steps 3 --d-model 8 --heads 2 --d-ff 12 "
        "--enc-layers 1 --dec-layers 2 --show-worst 0 --threads 1 --checkpoint " +
        ckpt + flags);
    INFO(t.output);
    REQUIRE(t.status == 0);
    const test::Result e = run("export_checkpoint --checkpoint " + ckpt + " --out " + out);
    INFO(e.output);
    REQUIRE(e.status == 0);
    REQUIRE(e.last_line() == out);

    const nn::TensorFile c = nn::load_tensor_file(ckpt, "qkv-xlat", 2);
    const nn::SafeTensors s = nn::load_safetensors(out);
    auto m = [&](const std::string& name) { return c.tensor("model." + name); };

    // The names torch.nn.TransformerEncoderLayer/DecoderLayer use, written out by hand.
    std::set<std::string> expected = {"src_embed.weight", "tgt_embed.weight", "positions",
                                      "output.weight", "output.bias"};
    auto attention = [&](const std::string& p) {
      for (const char* n :
           {".in_proj_weight", ".in_proj_bias", ".out_proj.weight", ".out_proj.bias"})
        expected.insert(p + n);
    };
    auto wb = [&](const std::string& p) {
      expected.insert(p + ".weight");
      expected.insert(p + ".bias");
    };
    attention("encoder.layers.0.self_attn");
    for (const char* n : {"linear1", "linear2", "norm1", "norm2"})
      wb(std::string("encoder.layers.0.") + n);
    for (const std::string l : {"0", "1"}) {
      attention("decoder.layers." + l + ".self_attn");
      attention("decoder.layers." + l + ".multihead_attn");
      for (const char* n : {"linear1", "linear2", "norm1", "norm2", "norm3"})
        wb("decoder.layers." + l + "." + n);
    }
    if (variant == "pre") wb("encoder.norm"), wb("decoder.norm");  // a final norm for pre-norm only
    std::set<std::string> names;
    for (const auto& [name, t] : s.tensors) names.insert(name);
    CHECK(names == expected);

    // Bytes: each exported tensor is its checkpoint tensor (or Q, K, V stacked).
    const std::string p = "decoder.layers.1.multihead_attn", q = "decoder.layers.1.cross_attn";
    CHECK(s.tensor(p + ".in_proj_weight").shape() == Shape{24, 8});
    CHECK(values(s.tensor(p + ".in_proj_weight")) ==
          rows({m(q + ".w_q.weight"), m(q + ".w_k.weight"), m(q + ".w_v.weight")}));
    CHECK(values(s.tensor(p + ".in_proj_bias")) ==
          rows({m(q + ".w_q.bias"), m(q + ".w_k.bias"), m(q + ".w_v.bias")}));
    CHECK(values(s.tensor(p + ".out_proj.weight")) == values(m(q + ".w_o.weight")));
    CHECK(values(s.tensor("encoder.layers.0.linear1.weight")) ==
          values(m("encoder.layers.0.ffn.linear1.weight")));
    CHECK(s.tensor("encoder.layers.0.linear1.weight").shape() == Shape{12, 8});
    CHECK(values(s.tensor("decoder.layers.0.norm3.bias")) ==
          values(m("decoder.layers.0.add_norm3.norm.bias")));
    CHECK(values(s.tensor("src_embed.weight")) == values(m("src_embed.weight")));
    CHECK(s.tensor("positions").shape()[1] == 8);
    if (variant == "pre") {
      CHECK(values(s.tensor("decoder.norm.weight")) == values(m("decoder.final_norm.weight")));
      CHECK(values(s.tensor("output.weight")) == values(m("output.weight")));
    } else {
      CHECK(values(s.tensor("output.weight")) == values(m("tgt_embed.weight")));  // tied
      CHECK(values(s.tensor("output.bias")) == values(m("output_bias")));
    }
    // The metadata: the config and the vocabularies as the checkpoint has them.
    CHECK(s.metadata.at("config").find(variant == "pre"
                                           ? "\"norm_first\": true"
                                           : "\"norm_first\": false") != std::string::npos);
    CHECK(s.metadata.at("src_vocab").rfind("[\"<pad>\", \"<bos>\", \"<eos>\", \"<unk>\", ", 0) ==
          0);
    std::remove(ckpt.c_str());
    std::remove(out.c_str());
  }
  // A missing or foreign checkpoint: an error naming it, nothing written.
  const test::Result bad = run("export_checkpoint --checkpoint no/such.ckpt --out x.safetensors");
  CHECK(bad.status == 1);
  CHECK(bad.output.find("no/such.ckpt") != std::string::npos);
  CHECK(run("export_checkpoint --out x.safetensors").status == 2);
}
