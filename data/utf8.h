// UTF-8 (chapter 12): bytes ⇄ Unicode code points, strictly validated.
//
// Text files are bytes; a tokenizer needs characters. UTF-8 encodes a code point in 1–4
// bytes: 0xxxxxxx, 110xxxxx 10xxxxxx, 1110xxxx 10xxxxxx×2, 11110xxx 10xxxxxx×3.
// A strict decoder also rejects what the pattern alone would allow: overlong forms
// (0xC0 0x80 for U+0000), UTF-16 surrogates (U+D800–U+DFFF) and anything above U+10FFFF.
// Invalid input throws Utf8Error naming where it was: "corpus.tsv:17: invalid UTF-8 at
// byte 5 (0xff): …". Byte offsets count from 0 at the start of the decoded string (a line).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace qkv::data {

// Where decoded text came from, for error messages. line 0 means "no line number".
struct TextSource {
  std::string name = "<string>";
  int line = 0;
};

class Utf8Error : public std::runtime_error {
 public:
  Utf8Error(const TextSource& where, size_t byte_offset, unsigned char byte,
            const std::string& reason);
  size_t byte_offset() const { return byte_offset_; }  // 0-based, within the decoded string
  int line() const { return line_; }

 private:
  size_t byte_offset_;
  int line_;
};

// Decodes every code point; throws Utf8Error on the first invalid byte.
std::u32string decode_utf8(std::string_view bytes, const TextSource& where = {});
// Encodes code points; throws std::invalid_argument for surrogates or > U+10FFFF.
std::string encode_utf8(char32_t code_point);
std::string encode_utf8(const std::u32string& code_points);
// True if decode_utf8 would succeed.
bool is_valid_utf8(std::string_view bytes);

}  // namespace qkv::data
