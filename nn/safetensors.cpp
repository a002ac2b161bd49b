#include "nn/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>

#include "nn/serialize.h"

namespace qkv::nn {

namespace {
constexpr uint64_t kMaxHeader = 100'000'000;  // the reference reader's limit too

// A JSON reader for what a safetensors header and its metadata hold. Strict: what JSON does
// not allow is an error naming the byte.
struct JsonReader {
  const std::string& s;
  const std::string& what;  // "source: bad safetensors header", for the messages
  size_t offset = 0;        // where s starts in the file, for the messages
  size_t pos = 0;

  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(what + " at byte " + std::to_string(pos + offset) + ": " + why);
  }
  void skip_space() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t'))
      ++pos;
  }
  char peek() {
    skip_space();
    if (pos >= s.size()) fail("unexpected end of the JSON");
    return s[pos];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos;
  }
  unsigned hex4() {
    if (s.size() - pos < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s[pos++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return v;
  }
  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos >= s.size()) fail("unterminated string");
      const char c = s[pos++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= s.size()) fail("unterminated string");
      const char e = s[pos++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair: two escapes, one code point
            if (s.size() - pos < 2 || s[pos] != '\\' || s[pos + 1] != 'u')
              fail("lone surrogate in \\u escape");
            pos += 2;
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("lone surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("lone surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(std::string("unknown escape \\") + e);
      }
    }
  }
  Json value(int depth) {
    if (depth > 16) fail("nested too deeply");
    Json v;
    const char c = peek();
    if (c == '{') {
      v.kind = Json::Object;
      ++pos;
      if (peek() == '}') return ++pos, v;
      for (;;) {
        std::string key = string();
        expect(':');
        v.members.emplace_back(std::move(key), value(depth + 1));
        if (peek() == '}') return ++pos, v;
        expect(',');
      }
    }
    if (c == '[') {
      v.kind = Json::Array;
      ++pos;
      if (peek() == ']') return ++pos, v;
      for (;;) {
        v.items.push_back(value(depth + 1));
        if (peek() == ']') return ++pos, v;
        expect(',');
      }
    }
    if (c == '"') {
      v.text = string();
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (const char* word : {"true", "false", "null"})
      if (s.compare(pos, std::strlen(word), word) == 0) {
        pos += std::strlen(word);
        v.kind = word[0] == 'n' ? Json::Null : Json::Bool;
        v.boolean = word[0] == 't';
        return v;
      }
    fail("expected an object, array, string, number, true, false or null");
  }
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?  A whole number (no sign, fraction or
  // exponent) is also kept exactly in `number`, for sizes and offsets.
  Json number() {
    Json v;
    v.kind = Json::Number;
    v.whole = true;
    const size_t start = pos;
    auto digits = [&] {
      const size_t from = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == from) fail("expected a digit");
    };
    if (s[pos] == '-') ++pos, v.whole = false;
    if (pos < s.size() && s[pos] == '0' && pos + 1 < s.size() && s[pos + 1] >= '0' &&
        s[pos + 1] <= '9')
      fail("leading zero in a number");
    digits();
    if (pos < s.size() && s[pos] == '.') ++pos, digits(), v.whole = false;
    if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
      ++pos, v.whole = false;
      if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) ++pos;
      digits();
    }
    const std::string text = s.substr(start, pos - start);
    v.real = std::strtod(text.c_str(), nullptr);
    if (v.whole) {
      if (text.size() > 19) fail("number too large");
      for (char d : text) v.number = v.number * 10 + static_cast<uint64_t>(d - '0');
    }
    return v;
  }
};

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
}  // namespace

Json parse_json(const std::string& text, const std::string& what) {
  JsonReader r{text, what};
  Json v = r.value(0);
  r.skip_space();
  if (r.pos != text.size()) r.fail("trailing characters after the JSON");
  return v;
}

const Json* Json::member(const std::string& key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

const Tensor& SafeTensors::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  throw std::runtime_error("safetensors: no tensor '" + name + "'");
}

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string encode_safetensors(const SafeTensors& f) {
  std::set<std::string> names;
  std::string header = "{";
  if (!f.metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : f.metadata) {
      header += (first ? "" : ",") + json_quote(k) + ":" + json_quote(v);
      first = false;
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : f.tensors) {
    if (name == "__metadata__" || !names.insert(name).second)
      throw std::invalid_argument("encode_safetensors: tensor name '" + name +
                                  "' is reserved or used twice");
    std::string shape;
    for (int64_t d : t.shape()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    const uint64_t end = offset + static_cast<uint64_t>(t.numel()) * 4;
    header += (header.size() > 1 ? "," : "") + json_quote(name) +
              ":{\"dtype\":\"F32\",\"shape\":[" + shape + "],\"data_offsets\":[" +
              std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::string out;
  out.reserve(8 + header.size() + offset);
  put_u64(out, header.size());
  out += header;
  for (const auto& [name, t] : f.tensors) {
    const float* p = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) {
      uint32_t bits;
      std::memcpy(&bits, &p[i], 4);
      for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((bits >> (8 * b)) & 0xff));
    }
  }
  return out;
}

SafeTensors decode_safetensors(const std::string& bytes, const std::string& source) {
  auto fail = [&](const std::string& why) { throw std::runtime_error(source + ": " + why); };
  if (bytes.size() < 8) fail("not a safetensors file: shorter than its 8-byte header size");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > kMaxHeader || n > bytes.size() - 8)
    fail("not a safetensors file: header size " + std::to_string(n) + " but the file has " +
         std::to_string(bytes.size()) + " bytes");
  const std::string header = bytes.substr(8, n);
  const std::string what = source + ": bad safetensors header";
  JsonReader r{header, what, 8};
  const Json root = r.value(0);
  r.skip_space();
  if (r.pos != header.size()) r.fail("trailing characters after the JSON");
  if (root.kind != Json::Object) r.fail("the header is not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;

  SafeTensors f;
  std::set<std::string> names;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& member : root.members) {
    const std::string& name = member.first;  // not a structured binding: lambdas capture it
    const Json& v = member.second;
    if (!names.insert(name).second) fail("'" + name + "' appears twice in the header");
    if (name == "__metadata__") {
      if (v.kind != Json::Object) fail("__metadata__ is not an object");
      for (const auto& [k, s] : v.members) {
        if (s.kind != Json::String) fail("metadata '" + k + "' is not a string");
        f.metadata[k] = s.text;
      }
      continue;
    }
    auto field = [&](const char* key) -> const Json& {
      for (const auto& [k, x] : v.members)
        if (k == key) return x;
      throw std::runtime_error(source + ": tensor '" + name + "' has no \"" + key + "\"");
    };
    if (v.kind != Json::Object) fail("tensor '" + name + "' is not an object");
    const Json &dtype = field("dtype"), &shape = field("shape"), &offsets = field("data_offsets");
    if (dtype.kind != Json::String || dtype.text != "F32")
      fail("tensor '" + name + "' has dtype " + (dtype.kind == Json::String ? dtype.text : "?") +
           "; this reader reads F32 only");
    if (shape.kind != Json::Array || shape.items.size() > 8)
      fail("tensor '" + name + "' has a bad shape");
    Shape dims;
    uint64_t numel = 1;
    for (const Json& d : shape.items) {
      if (d.kind != Json::Number || !d.whole || d.number > (uint64_t{1} << 40) ||
          (d.number > 0 && numel > (uint64_t{1} << 40) / d.number))
        fail("tensor '" + name + "' has a bad shape");
      numel *= d.number;
      dims.push_back(static_cast<int64_t>(d.number));
    }
    if (offsets.kind != Json::Array || offsets.items.size() != 2 || !offsets.items[0].whole ||
        !offsets.items[1].whole)
      fail("tensor '" + name + "' has bad data_offsets");
    const uint64_t begin = offsets.items[0].number, end = offsets.items[1].number;
    if (begin <= end && end > data_size && end - begin == numel * 4)
      fail("truncated: tensor '" + name + "' needs data bytes [" + std::to_string(begin) + ", " +
           std::to_string(end) + ") but the file holds " + std::to_string(data_size));
    if (begin > end || end > data_size || end - begin != numel * 4)
      fail("tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " +
           std::to_string(end) + ") do not hold shape " + shape_str(dims) + " in " +
           std::to_string(data_size) + " data bytes");
    Tensor t = Tensor::empty(dims);
    float* p = t.data();
    for (uint64_t k = 0; k < numel; ++k) {
      uint32_t bits = 0;
      for (int b = 0; b < 4; ++b)
        bits |= static_cast<uint32_t>(static_cast<unsigned char>(data[begin + 4 * k + b]))
                << (8 * b);
      std::memcpy(&p[k], &bits, 4);
    }
    f.tensors.emplace_back(name, t);
    ranges.emplace_back(begin, end);
  }
  // The ranges must tile the data: no gap, no overlap, nothing after the last one.
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  for (const auto& [b, e] : ranges) {
    if (b != at)
      fail("the tensors' data_offsets leave a gap or overlap at byte " + std::to_string(at));
    at = e;
  }
  if (at != data_size) fail(std::to_string(data_size - at) + " data bytes after the last tensor");
  return f;
}

void save_safetensors(const std::string& path, const SafeTensors& file) {
  write_file_atomic(path, encode_safetensors(file));
}

SafeTensors load_safetensors(const std::string& path) {
  return decode_safetensors(read_file_bytes(path), path);
}

}  // namespace qkv::nn
