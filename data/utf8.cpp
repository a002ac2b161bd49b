#include "data/utf8.h"

#include <cstdio>

namespace qkv::data {

namespace {
std::string describe(const TextSource& where, size_t offset, unsigned char byte,
                     const std::string& reason) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", byte);
  std::string msg = where.name;
  if (where.line > 0) msg += ":" + std::to_string(where.line);
  msg += ": invalid UTF-8 at byte " + std::to_string(offset) + " (" + hex + "): " + reason;
  return msg;
}

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }
}  // namespace

Utf8Error::Utf8Error(const TextSource& where, size_t byte_offset, unsigned char byte,
                     const std::string& reason)
    : std::runtime_error(describe(where, byte_offset, byte, reason)),
      byte_offset_(byte_offset),
      line_(where.line) {}

std::u32string decode_utf8(std::string_view bytes, const TextSource& where) {
  std::u32string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char lead = static_cast<unsigned char>(bytes[i]);
    // The lead byte says how many bytes follow and the smallest code point that needs
    // that many (anything smaller is an "overlong" encoding and is rejected).
    int extra;
    char32_t cp, min_cp;
    if (lead < 0x80) {
      out.push_back(lead);
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1, cp = lead & 0x1F, min_cp = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2, cp = lead & 0x0F, min_cp = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3, cp = lead & 0x07, min_cp = 0x10000;
    } else if (is_continuation(lead)) {
      throw Utf8Error(where, i, lead, "unexpected continuation byte");
    } else {
      throw Utf8Error(where, i, lead, "byte never appears in UTF-8");
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= bytes.size())
        throw Utf8Error(where, i, lead, "truncated sequence at end of text");
      const unsigned char b = static_cast<unsigned char>(bytes[i + k]);
      if (!is_continuation(b))
        throw Utf8Error(where, i + k, b, "expected a continuation byte (10xxxxxx)");
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min_cp) throw Utf8Error(where, i, lead, "overlong encoding");
    if (cp >= 0xD800 && cp <= 0xDFFF) throw Utf8Error(where, i, lead, "UTF-16 surrogate");
    if (cp > 0x10FFFF) throw Utf8Error(where, i, lead, "code point above U+10FFFF");
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

std::string encode_utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    if (cp >= 0xD800 && cp <= 0xDFFF)
      throw std::invalid_argument("encode_utf8: surrogate code point cannot be encoded");
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp <= 0x10FFFF) {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    throw std::invalid_argument("encode_utf8: code point above U+10FFFF");
  }
  return s;
}

std::string encode_utf8(const std::u32string& code_points) {
  std::string s;
  s.reserve(code_points.size());
  for (char32_t cp : code_points) s += encode_utf8(cp);
  return s;
}

bool is_valid_utf8(std::string_view bytes) {
  try {
    decode_utf8(bytes);
    return true;
  } catch (const Utf8Error&) {
    return false;
  }
}

}  // namespace qkv::data
