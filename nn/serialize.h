// Tensor files (chapter 12): named float tensors and named text blobs in one binary file,
// behind a magic string and a version, written atomically.
//
// The layout, every integer little-endian (docs/12-training.md shows it field by field):
//
//   magic      8 bytes     chosen by the caller, e.g. "qkv-ckpt" (a foreign file fails here)
//   version    u32         chosen by the caller; a reader accepts its own (or a range it gives)
//   count      u32         number of records that follow
//   record × count:
//     kind     u8          1 = text, 2 = float32 tensor
//     name     u32 length, then that many bytes (UTF-8)
//     text:    u64 length, then the bytes
//     tensor:  u32 rank, rank × i64 dims, then numel × f32 values (row-major)
//   end        8 bytes     "qkv-end\n": a file cut exactly between two records still fails
//
// Reading checks everything it can and throws std::runtime_error saying which: "not a
// qkv-ckpt file (magic ...)", "version 7, but this program reads version 1", "truncated at
// byte 1234 while reading tensor 'x'", "trailing bytes after the end marker".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace qkv::nn {

struct TensorFile {
  std::string magic;  // exactly 8 bytes
  uint32_t version = 1;
  std::vector<std::pair<std::string, std::string>> texts;  // written first, in order
  std::vector<std::pair<std::string, Tensor>> tensors;     // then these, in order

  // Lookups that throw "<what>: no entry '<name>'" when the entry is missing.
  const std::string& text(const std::string& name) const;
  const Tensor& tensor(const std::string& name) const;
  bool has_tensor(const std::string& name) const;
};

// The bytes of a file, and back. `source` names the file in error messages. A reader
// accepts versions oldest_version..expected_version (0: exactly expected_version), so a
// program can keep reading the files of its older releases.
std::string encode_tensor_file(const TensorFile& file);
TensorFile decode_tensor_file(const std::string& bytes, const std::string& source,
                              const std::string& expected_magic, uint32_t expected_version,
                              uint32_t oldest_version = 0);

// Writes `bytes` to path + ".tmp", fsyncs it, renames it over `path` and fsyncs the
// directory: a reader (or a crash) sees the old file or the new one, never half of one.
void write_file_atomic(const std::string& path, const std::string& bytes);
std::string read_file_bytes(const std::string& path);  // throws if it cannot be opened

inline void save_tensor_file(const std::string& path, const TensorFile& file) {
  write_file_atomic(path, encode_tensor_file(file));
}
inline TensorFile load_tensor_file(const std::string& path, const std::string& expected_magic,
                                   uint32_t expected_version, uint32_t oldest_version = 0) {
  return decode_tensor_file(read_file_bytes(path), path, expected_magic, expected_version,
                            oldest_version);
}

}  // namespace qkv::nn
