// Tensor files (nn/serialize): round trips, bit-identical models after a load, and every
// kind of corrupt file rejected with a message that says what is wrong (chapter 12).
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "autograd/engine.h"
#include "nn/serialize.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"

using namespace qkv;
using namespace qkv::nn;

namespace {
TensorFile sample_file() {
  TensorFile f;
  f.magic = "qkv-test";
  f.version = 3;
  f.texts.emplace_back("config", "d_model 8\nheads 2\n");
  f.texts.emplace_back("empty", "");
  f.tensors.emplace_back("w", Tensor::from_vector({1.5f, -2.f, 0.f, 3.25f, 1e-40f, -0.f}, {2, 3}));
  f.tensors.emplace_back("scalar", Tensor::scalar(7.f));
  f.tensors.emplace_back("special", Tensor::from_vector({std::numeric_limits<float>::infinity(),
                                                         std::numeric_limits<float>::quiet_NaN()},
                                                        {2}));
  return f;
}

std::string temp_path(const std::string& name) {
  return std::string(QKV_BUILD_DIR) + "/test_serialize_" + name;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

Seq2SeqConfig tiny_config() {
  Seq2SeqConfig c = test::tiny_config(13, 11);
  c.d_ff = 24;
  c.max_len = 16;
  return c;
}
}  // namespace

TEST_CASE("a tensor file round-trips texts and tensors bit for bit", "[ch12]") {
  const TensorFile f = sample_file();
  const std::string bytes = encode_tensor_file(f);
  CHECK(bytes.compare(0, 8, "qkv-test") == 0);
  const TensorFile g = decode_tensor_file(bytes, "mem", "qkv-test", 3);
  CHECK(g.version == 3);
  CHECK(g.text("config") == "d_model 8\nheads 2\n");
  CHECK(g.text("empty").empty());
  REQUIRE(g.tensors.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(g.tensors[i].first == f.tensors[i].first);
    CHECK(same_bits(g.tensors[i].second, f.tensors[i].second));  // NaN, inf, denormal, −0 too
  }
  CHECK(g.tensor("scalar").shape().empty());
  CHECK_THROWS_WITH(g.tensor("nope"), Catch::Contains("no tensor entry 'nope'"));
  CHECK(encode_tensor_file(g) == bytes);
}

TEST_CASE("every corrupt tensor file is rejected, saying why", "[ch12]") {
  const std::string bytes = encode_tensor_file(sample_file());
  SECTION("truncated anywhere") {
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      const std::string head = bytes.substr(0, cut);
      INFO("cut at byte " << cut);
      if (cut < 8)
        CHECK_THROWS_WITH(decode_tensor_file(head, "f.bin", "qkv-test", 3),
                          Catch::Contains("not a qkv-test file"));
      else
        CHECK_THROWS_WITH(decode_tensor_file(head, "f.bin", "qkv-test", 3),
                          Catch::Contains("f.bin: truncated"));
    }
  }
  SECTION("foreign magic") {
    CHECK_THROWS_WITH(decode_tensor_file("GIF89a" + bytes, "cat.gif", "qkv-test", 3),
                      Catch::Contains("cat.gif: not a qkv-test file: it starts with 'GIF89aqk'"));
  }
  SECTION("wrong version") {
    std::string v = bytes;
    v[8] = 4;
    CHECK_THROWS_WITH(decode_tensor_file(v, "f.bin", "qkv-test", 3),
                      Catch::Contains("version 4, but this program reads version 3"));
    // A reader that also reads older versions names the range.
    CHECK(decode_tensor_file(bytes, "f.bin", "qkv-test", 4, 2).version == 3);
    CHECK_THROWS_WITH(decode_tensor_file(bytes, "f.bin", "qkv-test", 5, 4),
                      Catch::Contains("version 3, but this program reads versions 4 to 5"));
  }
  SECTION("trailing bytes and a broken end marker") {
    CHECK_THROWS_WITH(decode_tensor_file(bytes + "x", "f.bin", "qkv-test", 3),
                      Catch::Contains("1 trailing bytes"));
    std::string e = bytes;
    e[e.size() - 1] = '!';
    CHECK_THROWS_WITH(decode_tensor_file(e, "f.bin", "qkv-test", 3), Catch::Contains("end marker"));
  }
  SECTION("unknown record kind") {
    std::string k = bytes;
    k[16] = 9;  // the first record's kind byte (after magic, version, count)
    CHECK_THROWS_WITH(decode_tensor_file(k, "f.bin", "qkv-test", 3),
                      Catch::Contains("unknown kind 9"));
  }
}

TEST_CASE("files are written atomically and read back", "[ch12]") {
  const std::string path = temp_path("atomic.bin");
  save_tensor_file(path, sample_file());
  CHECK_FALSE(std::ifstream(path + ".tmp").good());  // the temporary was renamed away
  const TensorFile g = load_tensor_file(path, "qkv-test", 3);
  CHECK(g.text("config") == "d_model 8\nheads 2\n");
  CHECK_THROWS_WITH(load_tensor_file(temp_path("missing.bin"), "qkv-test", 3),
                    Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(save_tensor_file(temp_path("no/such/dir/x.bin"), sample_file()),
                    Catch::Contains("cannot write"));
  std::remove(path.c_str());
}

TEST_CASE("a model saved and loaded gives bit-identical outputs; a wrong shape is named",
          "[ch12]") {
  Generator g1(1), g2(2);
  Seq2SeqTransformer a(tiny_config(), g1), b(tiny_config(), g2);
  TensorFile f;
  f.magic = "qkv-test";
  for (auto& [name, t] : a.named_parameters()) f.tensors.emplace_back(name, t);
  const std::string path = temp_path("model.bin");
  save_tensor_file(path, f);
  std::map<std::string, Tensor> state;
  for (auto& [name, t] : load_tensor_file(path, "qkv-test", 1).tensors) state.emplace(name, t);
  b.load_state_dict(state);
  std::remove(path.c_str());

  NoGradGuard no_grad;
  a.eval();
  b.eval();
  Tensor src = Tensor::from_vector({4, 5, 6, 7, 8, 0}, {2, 3}),
         src_keep = Tensor::from_vector({1, 1, 1, 1, 1, 0}, {2, 3});
  Tensor tgt = Tensor::from_vector({1, 4, 5, 1, 6, 0}, {2, 3}),
         tgt_keep = Tensor::from_vector({1, 1, 1, 1, 1, 0}, {2, 3});
  CHECK(
      same_bits(a.forward(src, src_keep, tgt, tgt_keep), b.forward(src, src_keep, tgt, tgt_keep)));

  // A model of another width: load_state_dict names the first parameter that does not fit.
  Seq2SeqConfig wide = tiny_config();
  wide.d_model = 32;
  Generator g3(3);
  Seq2SeqTransformer c(wide, g3);
  CHECK_THROWS_WITH(c.load_state_dict(state),
                    Catch::Contains("has shape") && Catch::Contains("in the model"));
}
