#include "nn/serialize.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace qkv::nn {

namespace {
const char kEndMarker[] = "qkv-end\n";  // 8 bytes without the terminating NUL
constexpr uint8_t kText = 1, kTensor = 2;

// --- writing: integers byte by byte, least significant first (little-endian everywhere) --
void put_uint(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_string(std::string& out, const std::string& s, int length_bytes) {
  put_uint(out, s.size(), length_bytes);
  out += s;
}

// --- reading: a cursor that knows where it is, for "truncated at byte N" ---------------
struct Reader {
  const std::string& bytes;
  const std::string& source;
  size_t pos = 0;
  std::string what = "the header";  // what is being read, for error messages

  [[noreturn]] void fail(const std::string& message) const {
    throw std::runtime_error(source + ": " + message);
  }
  void need(uint64_t n) const {
    if (n > bytes.size() - pos)
      fail("truncated: the file ends at byte " + std::to_string(bytes.size()) + " while reading " +
           what + " (needed " + std::to_string(n) + " more bytes at byte " + std::to_string(pos) +
           ")");
  }
  uint64_t get_uint(int n) {
    need(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[pos + i])) << (8 * i);
    pos += static_cast<size_t>(n);
    return v;
  }
  std::string get_bytes(uint64_t n) {
    need(n);
    std::string s = bytes.substr(pos, static_cast<size_t>(n));
    pos += static_cast<size_t>(n);
    return s;
  }
};

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 32 && c < 127) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}
}  // namespace

const std::string& TensorFile::text(const std::string& name) const {
  for (auto& [n, t] : texts)
    if (n == name) return t;
  throw std::runtime_error("tensor file '" + magic + "': no text entry '" + name + "'");
}

const Tensor& TensorFile::tensor(const std::string& name) const {
  for (auto& [n, t] : tensors)
    if (n == name) return t;
  throw std::runtime_error("tensor file '" + magic + "': no tensor entry '" + name + "'");
}

bool TensorFile::has_tensor(const std::string& name) const {
  for (auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

std::string encode_tensor_file(const TensorFile& f) {
  if (f.magic.size() != 8)
    throw std::invalid_argument("encode_tensor_file: the magic must be 8 bytes, got '" + f.magic +
                                "'");
  std::string out = f.magic;
  put_uint(out, f.version, 4);
  put_uint(out, f.texts.size() + f.tensors.size(), 4);
  for (auto& [name, text] : f.texts) {
    put_uint(out, kText, 1);
    put_string(out, name, 4);
    put_string(out, text, 8);
  }
  for (auto& [name, t] : f.tensors) {
    put_uint(out, kTensor, 1);
    put_string(out, name, 4);
    put_uint(out, t.shape().size(), 4);
    for (int64_t d : t.shape()) put_uint(out, static_cast<uint64_t>(d), 8);
    const float* p = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) {
      uint32_t bits;
      std::memcpy(&bits, &p[i], 4);
      put_uint(out, bits, 4);
    }
  }
  out.append(kEndMarker, 8);
  return out;
}

TensorFile decode_tensor_file(const std::string& bytes, const std::string& source,
                              const std::string& expected_magic, uint32_t expected_version,
                              uint32_t oldest_version) {
  Reader r{bytes, source};
  TensorFile f;
  r.what = "the magic string";
  if (bytes.size() < 8 || bytes.compare(0, 8, expected_magic) != 0)
    r.fail("not a " + expected_magic + " file: it starts with '" + printable(bytes.substr(0, 8)) +
           "', expected '" + printable(expected_magic) + "'");
  f.magic = r.get_bytes(8);
  r.what = "the version";
  f.version = static_cast<uint32_t>(r.get_uint(4));
  if (oldest_version == 0 || oldest_version > expected_version) oldest_version = expected_version;
  if (f.version < oldest_version || f.version > expected_version)
    r.fail("version " + std::to_string(f.version) + ", but this program reads " +
           (oldest_version == expected_version ? "version " + std::to_string(expected_version)
                                               : "versions " + std::to_string(oldest_version) +
                                                     " to " + std::to_string(expected_version)) +
           " of " + expected_magic + " files");
  r.what = "the record count";
  const uint64_t count = r.get_uint(4);
  for (uint64_t i = 0; i < count; ++i) {
    r.what = "record " + std::to_string(i);
    const uint64_t kind = r.get_uint(1);
    std::string name = r.get_bytes(r.get_uint(4));
    if (kind == kText) {
      r.what = "text '" + name + "'";
      f.texts.emplace_back(name, r.get_bytes(r.get_uint(8)));
    } else if (kind == kTensor) {
      r.what = "tensor '" + name + "'";
      const uint64_t rank = r.get_uint(4);
      if (rank > 8)
        r.fail("tensor '" + name + "' has rank " + std::to_string(rank) + " (corrupt file?)");
      Shape shape;
      uint64_t numel = 1;
      for (uint64_t d = 0; d < rank; ++d) {
        const uint64_t dim = r.get_uint(8);
        if (dim > (uint64_t{1} << 40) || (dim > 0 && numel > (uint64_t{1} << 40) / dim))
          r.fail("tensor '" + name + "' has an impossible dimension " + std::to_string(dim));
        numel *= dim;
        shape.push_back(static_cast<int64_t>(dim));
      }
      r.need(numel * 4);
      Tensor t = Tensor::empty(shape);
      float* p = t.data();
      for (uint64_t k = 0; k < numel; ++k) {
        const uint32_t bits = static_cast<uint32_t>(r.get_uint(4));
        std::memcpy(&p[k], &bits, 4);
      }
      f.tensors.emplace_back(name, t);
    } else {
      r.fail("record " + std::to_string(i) + " ('" + printable(name) + "') has unknown kind " +
             std::to_string(kind) + " (corrupt file?)");
    }
  }
  r.what = "the end marker";
  if (r.get_bytes(8) != std::string(kEndMarker, 8))
    r.fail("the end marker is missing (corrupt file?)");
  if (r.pos != bytes.size())
    r.fail(std::to_string(bytes.size() - r.pos) +
           " trailing bytes after the end marker (corrupt file?)");
  return f;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + tmp);
  // fsync before the rename: otherwise a crash can leave the new name on disk with none of
  // its bytes, the one outcome an atomic write must rule out.
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                  std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    throw std::runtime_error("error while writing " + tmp + " (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
  }
  // And the directory, so the rename itself survives a crash (best effort: not every file
  // system lets a directory be opened for this).
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace qkv::nn
