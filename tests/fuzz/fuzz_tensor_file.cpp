// libFuzzer target: bytes → nn::decode_tensor_file (the container of every checkpoint).
// Bad input must end in std::runtime_error naming the source; what loads must encode and
// decode again to the same records.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "nn/serialize.h"

using namespace qkv;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  nn::TensorFile f;
  try {
    f = nn::decode_tensor_file(bytes, "fuzz.bin", "qkv-xlat", 2, 1);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).rfind("fuzz.bin: ", 0) != 0) __builtin_trap();
    return 0;
  }
  const nn::TensorFile g =
      nn::decode_tensor_file(nn::encode_tensor_file(f), "again", "qkv-xlat", 2, 1);
  if (g.texts != f.texts || g.tensors.size() != f.tensors.size()) __builtin_trap();
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    const Tensor &a = f.tensors[i].second, &b = g.tensors[i].second;
    if (f.tensors[i].first != g.tensors[i].first || a.shape() != b.shape() ||
        std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * 4) != 0)
      __builtin_trap();
  }
  return 0;
}
