// nn/safetensors: the exact bytes of a small file, round trips, and every malformed header
// refused with the file named (docs/export-to-pytorch.md).
#include <string>

#include "nn/safetensors.h"
#include "tests/catch.h"

using namespace qkv;

namespace {
std::string u64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
// A file from a header written by hand and the data bytes.
std::string file(const std::string& header, const std::string& data) {
  return u64(header.size()) + header + data;
}
}  // namespace

TEST_CASE("safetensors: the bytes of a small file, as the format defines them", "[export]") {
  nn::SafeTensors f;
  f.metadata["k"] = "v\"\n";
  f.tensors.emplace_back("a", Tensor::from_vector({1.f, -2.f}, {2}));
  const std::string bytes = nn::encode_safetensors(f);
  const std::string header =
      R"({"__metadata__":{"k":"v\"\n"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  // 1.0f = 0x3f800000 and -2.0f = 0xc0000000, least significant byte first.
  const std::string data("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
  REQUIRE(bytes == file(padded, data));
  REQUIRE((8 + padded.size()) % 8 == 0);
}

TEST_CASE("safetensors: what is written reads back, metadata and bytes", "[export]") {
  nn::SafeTensors f;
  f.metadata["vocab"] = "[\"<pad>\", \"我\", \"\\\\\", \"tab\\there\"]";
  f.metadata["control"] = std::string("\x01\x1f", 2);
  f.tensors.emplace_back("encoder.layers.0.self_attn.in_proj_weight",
                         Tensor::from_vector({0.5f, -0.f, 3e-38f, 1e30f, 7.f, 8.f}, {3, 2}));
  f.tensors.emplace_back("empty", Tensor::zeros({0, 4}));
  f.tensors.emplace_back("scalar", Tensor::from_vector({42.f}, {}));
  const nn::SafeTensors g = nn::decode_safetensors(nn::encode_safetensors(f), "x");
  REQUIRE(g.metadata == f.metadata);
  REQUIRE(g.tensors.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(g.tensors[i].first == f.tensors[i].first);
    REQUIRE(g.tensors[i].second.shape() == f.tensors[i].second.shape());
    REQUIRE(g.tensors[i].second.to_vector() == f.tensors[i].second.to_vector());
  }
  REQUIRE(g.tensor("scalar").item() == 42.f);
  REQUIRE_THROWS_WITH(g.tensor("nope"), "safetensors: no tensor 'nope'");
}

TEST_CASE("safetensors: a malformed file is refused naming it and the fault", "[export]") {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string four("\x00\x00\x80\x3f", 4);
  REQUIRE(nn::decode_safetensors(file(ok, four), "m").tensor("a").item() == 1.f);
  auto refused = [&](const std::string& bytes, const std::string& why) {
    REQUIRE_THROWS_WITH(nn::decode_safetensors(bytes, "m.safetensors"),
                        Catch::StartsWith("m.safetensors: ") && Catch::Contains(why));
  };
  refused("1234", "shorter than its 8-byte header size");
  refused(u64(1000) + "{}", "header size 1000 but the file has 10 bytes");
  refused(file(ok, four + "xx"), "2 data bytes after the last tensor");
  refused(file(ok, ""), "truncated: tensor 'a' needs data bytes [0, 4) but the file holds 0");
  refused(file(R"({"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", "xx"),
          "dtype F16; this reader reads F32 only");
  refused(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four),
          "do not hold shape [2]");
  refused(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
               four + four),
          "gap or overlap");
  refused(file(R"({"a":{"dtype":"F32","shape":[1]}})", four), "tensor 'a' has no \"data_offsets\"");
  refused(file(R"({"__metadata__":{},"__metadata__":{}})", ""), "'__metadata__' appears twice");
  refused(file(R"({"__metadata__":{"k":1}})", ""), "metadata 'k' is not a string");
  refused(file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four),
          "tensor 'a' has a bad shape");
  refused(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})", four),
          "tensor 'a' has bad data_offsets");
  refused(file(R"({"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}})", four),
          "bad safetensors header at byte 37: leading zero");
  refused(file(R"({"a" 1})", ""), "expected ':'");
  refused(file("{\"\\ud800\":1}", ""), "lone surrogate");
  refused(file(std::string(40, '[') + std::string(40, ']'), ""), "nested too deeply");
}

TEST_CASE("json_quote escapes what JSON needs and keeps UTF-8 as it is", "[export]") {
  REQUIRE(nn::json_quote("a\"b\\c\nd\te\x01 我") == "\"a\\\"b\\\\c\\nd\\te\\u0001 我\"");
  // A \u escape with a surrogate pair reads back as the one 4-byte character.
  const std::string h = "{\"__metadata__\":{\"k\":\"\\ud83d\\ude00\"}}";
  REQUIRE(nn::decode_safetensors(file(h, ""), "m").metadata.at("k") == "\xF0\x9F\x98\x80");
}

TEST_CASE("parse_json reads the exporter's config: numbers, true, false, null", "[export]") {
  const nn::Json j = nn::parse_json(
      R"({"d": 64, "eps": 1e-05, "x": -2.5, "pre": false, "tie": true, "n": null})", "cfg");
  REQUIRE(j.kind == nn::Json::Object);
  CHECK(j.member("d")->whole);
  CHECK(j.member("d")->number == 64);
  CHECK(j.member("eps")->real == 1e-05);
  CHECK_FALSE(j.member("eps")->whole);
  CHECK(j.member("x")->real == -2.5);
  CHECK(j.member("pre")->kind == nn::Json::Bool);
  CHECK_FALSE(j.member("pre")->boolean);
  CHECK(j.member("tie")->boolean);
  CHECK(j.member("n")->kind == nn::Json::Null);
  CHECK(j.member("missing") == nullptr);
  for (const char* bad : {"1.", "-", "01", ".5", "1e", "tru", "{\"a\": 1} x"}) {
    INFO(bad);
    REQUIRE_THROWS_WITH(nn::parse_json(bad, "cfg"), Catch::Contains("cfg at byte"));
  }
}
