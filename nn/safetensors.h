// The safetensors format (docs/export-to-pytorch.md): how weights leave qkv for PyTorch,
// JAX or anything else that reads Hugging Face's format, written with the standard library.
//
//   header size   u64, little-endian: N
//   header        N bytes of JSON: {"__metadata__": {"key": "value", …},
//                   "name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, …}
//                 padded with spaces so the data starts at a multiple of 8 bytes
//   data          the tensors' raw bytes, little-endian float32, row-major; each tensor's
//                 [begin, end) counts from the start of the data, one after the other
//
// The metadata holds strings only (the format says so). Reading checks what a reader must
// not trust: the header size against the file, the JSON, each dtype, each shape against its
// byte range, and that the ranges tile the data exactly; every error names the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace qkv::nn {

// A JSON value, as a safetensors header or a metadata string holds it (the exporter's
// metadata "config" is a JSON object). Numbers keep their double value; a whole number
// (no sign, fraction or exponent) also its exact value, for sizes and offsets.
struct Json {
  enum Kind { Object, Array, String, Number, Bool, Null } kind = String;
  std::vector<std::pair<std::string, Json>> members;  // Object, in file order
  std::vector<Json> items;                            // Array
  std::string text;                                   // String
  double real = 0;                                    // Number
  uint64_t number = 0;                                // Number, when whole
  bool whole = false, boolean = false;
  const Json* member(const std::string& key) const;  // Object: null if absent
};
// Throws std::runtime_error "<what> at byte N: why" for anything that is not one JSON value.
Json parse_json(const std::string& text, const std::string& what);

struct SafeTensors {
  std::map<std::string, std::string> metadata;
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order

  const Tensor& tensor(const std::string& name) const;  // throws naming the missing entry
};

std::string encode_safetensors(const SafeTensors& file);
SafeTensors decode_safetensors(const std::string& bytes, const std::string& source);

void save_safetensors(const std::string& path, const SafeTensors& file);  // atomic
SafeTensors load_safetensors(const std::string& path);

// A JSON string literal for any UTF-8 text: quotes, backslashes and control characters
// escaped, everything else as it is.
std::string json_quote(const std::string& text);

}  // namespace qkv::nn
