// build/export_checkpoint --import: a safetensors file under PyTorch's names back into a
// translator checkpoint. The round trip gives the same weights byte for byte and the same
// translations; every damaged file gives an error naming the tensor or entry at fault and
// writes nothing.
#include <cstdio>
#include <fstream>
#include <string>

#include "nn/safetensors.h"
#include "nn/serialize.h"
#include "tests/catch.h"
#include "tests/programs.h"

using namespace qkv;

namespace {
using test::run;

const std::string dir = QKV_BUILD_DIR;

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// A tiny trained model exported: the checkpoint and the safetensors file.
void make_export(const std::string& name, const std::string& flags) {
  const test::Result t =
      run("train_translator --task copy --task-pairs 40 --steps 3 --d-model 8 --heads 2 --d-ff 12 "
          "--enc-layers 1 --dec-layers 2 --show-worst 0 --threads 1 --checkpoint " +
          dir + "/" + name + ".ckpt" + flags);
  INFO(t.output);
  REQUIRE(t.status == 0);
  const test::Result e = run("export_checkpoint --checkpoint " + dir + "/" + name + ".ckpt --out " +
                             dir + "/" + name + ".safetensors");
  INFO(e.output);
  REQUIRE(e.status == 0);
}

// Runs --import on `file` and returns the output; the checkpoint must not be written.
std::string import_fails(const std::string& file) {
  const std::string out = dir + "/test_import_bad.ckpt";
  std::remove(out.c_str());
  const test::Result r = run("export_checkpoint --import " + file + " --out " + out);
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK_FALSE(exists(out));
  return r.output;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
}  // namespace

TEST_CASE("export then --import gives the same weights, byte for byte, and translations",
          "[export][ch13]") {
  for (const std::string variant : {"post", "pre"}) {
    INFO(variant);
    const std::string name = "test_import_" + variant;
    make_export(name, variant == "pre" ? " --pre-norm --untied" : "");
    const std::string back = dir + "/" + name + "_back.ckpt";
    const test::Result i =
        run("export_checkpoint --import " + dir + "/" + name + ".safetensors --out " + back);
    INFO(i.output);
    REQUIRE(i.status == 0);
    CHECK(i.last_line() == back);

    const nn::TensorFile a = nn::load_tensor_file(dir + "/" + name + ".ckpt", "qkv-xlat", 2);
    const nn::TensorFile b = nn::load_tensor_file(back, "qkv-xlat", 2);
    size_t compared = 0;
    for (const auto& [n, t] : a.tensors) {
      if (n.rfind("model.", 0) != 0) continue;
      INFO(n);
      const Tensor& u = b.tensor(n);
      REQUIRE(u.shape() == t.shape());
      CHECK(std::string(reinterpret_cast<const char*>(u.data()), 4 * u.numel()) ==
            std::string(reinterpret_cast<const char*>(t.data()), 4 * t.numel()));
      ++compared;
    }
    size_t model_tensors = 0;
    for (const auto& [n, t] : b.tensors) model_tensors += n.rfind("model.", 0) == 0;
    CHECK(model_tensors == compared);
    CHECK(compared > 20);
    CHECK(a.text("config") == b.text("config"));

    const std::string sentences = " -- '3 1 4 1 5' '9 2 6' '5 3 5 8 9 7'";
    const test::Result t1 = run("translate --checkpoint " + dir + "/" + name + ".ckpt" + sentences);
    const test::Result t2 = run("translate --checkpoint " + back + sentences);
    REQUIRE(t1.status == 0);
    CHECK(t1.output == t2.output);
    for (const std::string f : {".ckpt", ".safetensors", "_back.ckpt"})
      std::remove((dir + "/" + name + f).c_str());
  }
}

TEST_CASE("--import names the tensor at fault and writes nothing", "[export][ch13]") {
  const std::string name = "test_import_damage";
  make_export(name, "");
  const std::string good = dir + "/" + name + ".safetensors", bad = dir + "/" + name + "_bad.st";
  const nn::SafeTensors file = nn::load_safetensors(good);
  auto with = [&](auto change) {
    nn::SafeTensors f = file;
    change(f);
    nn::save_safetensors(bad, f);
    return import_fails(bad);
  };
  auto has = [](const std::string& output, const std::string& text) {
    INFO(output);
    CHECK(output.find(text) != std::string::npos);
  };

  // A missing tensor.
  has(with([](nn::SafeTensors& f) {
        for (size_t i = 0; i < f.tensors.size(); ++i)
          if (f.tensors[i].first == "decoder.layers.1.linear1.weight")
            f.tensors.erase(f.tensors.begin() + static_cast<long>(i));
      }),
      "no tensor 'decoder.layers.1.linear1.weight'");
  // A wrong shape: one row short.
  has(with([](nn::SafeTensors& f) {
        for (auto& [n, t] : f.tensors)
          if (n == "encoder.layers.0.self_attn.in_proj_weight") t = Tensor::zeros({23, 8});
      }),
      "tensor 'encoder.layers.0.self_attn.in_proj_weight' has shape [23, 8] but the config in "
      "its metadata needs [24, 8]");
  // A tensor the model has no place for.
  has(with([](nn::SafeTensors& f) { f.tensors.emplace_back("encoder.extra", Tensor::zeros({2})); }),
      "tensor 'encoder.extra' has no place");
  // Tied in the config, but the output layer was changed alone (in PyTorch, say).
  has(with([](nn::SafeTensors& f) {
        for (auto& [n, t] : f.tensors)
          if (n == "output.weight") t = t.detach().clone(), t.data()[0] += 1;
      }),
      "tensor 'output.weight' differs from 'tgt_embed.weight'");
  // No config in the metadata.
  has(with([](nn::SafeTensors& f) { f.metadata.erase("config"); }),
      "no \"config\" in __metadata__");
  // A config that is not JSON.
  has(with([](nn::SafeTensors& f) { f.metadata["config"] = "{\"d_model\": 8,"; }),
      "metadata \"config\" at byte");

  const std::string bytes = nn::encode_safetensors(file);
  // A wrong dtype: the same bytes, the tensor declared as F16.
  std::string f16 = bytes;
  const size_t at = f16.find("\"dtype\":\"F32\"", f16.find("\"src_embed.weight\""));
  REQUIRE(at != std::string::npos);
  f16.replace(at, 13, "\"dtype\":\"F16\"");
  write_bytes(bad, f16);
  has(import_fails(bad), "tensor 'src_embed.weight' has dtype F16");
  // A truncated file: the last tensor's bytes are cut.
  write_bytes(bad, bytes.substr(0, bytes.size() - 10));
  has(import_fails(bad), "truncated: tensor '" + file.tensors.back().first + "'");

  for (const std::string& f : {bad, good, dir + "/" + name + ".ckpt"}) std::remove(f.c_str());
  // The command line: --import needs --out, and takes nothing of the export direction.
  CHECK(run("export_checkpoint --import " + good).status == 2);
  CHECK(run("export_checkpoint --import " + good + " --out x.ckpt --checkpoint y.ckpt").status ==
        2);
  const test::Result missing = run("export_checkpoint --import no/such.safetensors --out x.ckpt");
  CHECK(missing.status == 1);
  CHECK(missing.output.find("no/such.safetensors") != std::string::npos);
}
