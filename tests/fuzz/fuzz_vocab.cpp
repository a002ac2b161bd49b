// libFuzzer target: bytes → Vocab::deserialize (the vocabulary record of a checkpoint).
// Bad input must end in std::runtime_error; what loads must serialize back to the same text.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "data/vocab.h"

using qkv::data::Vocab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Vocab v;
  try {
    v = Vocab::deserialize(text);
  } catch (const std::runtime_error&) {
    return 0;
  }
  // A loaded vocabulary is consistent: id → token → id, and a second round trip is exact.
  for (qkv::TokenId id = 0; id < v.size(); ++id)
    if (v.id(v.token(id)) != id) __builtin_trap();
  const std::string again = v.serialize();
  if (Vocab::deserialize(again).serialize() != again) __builtin_trap();
  return 0;
}
