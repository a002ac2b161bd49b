#include <string>

#include "data/utf8.h"
#include "tests/catch.h"

using namespace qkv::data;

TEST_CASE("UTF-8 decodes 1- to 4-byte sequences and encodes them back", "[ch12][utf8]") {
  const std::string text = "a\xC3\xA9\xE4\xBD\xA0\xF0\x9F\x98\x80";  // a é 你 😀
  const std::u32string cps = decode_utf8(text);
  REQUIRE(cps == std::u32string{U'a', 0xE9, 0x4F60, 0x1F600});
  REQUIRE(encode_utf8(cps) == text);
  REQUIRE(decode_utf8("我爱你。").size() == 4);
  REQUIRE(encode_utf8(U'\u00FF') == "\xC3\xBF");
  REQUIRE(encode_utf8(char32_t{0x10FFFF}) == "\xF4\x8F\xBF\xBF");
  REQUIRE(decode_utf8("").empty());
}

TEST_CASE("every code point round-trips through UTF-8", "[ch12][utf8]") {
  for (char32_t c = 0; c <= 0x10FFFF; c += (c < 0x11000 ? 1 : 97)) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const std::u32string one(1, c);
    REQUIRE(decode_utf8(encode_utf8(one)) == one);
  }
}

namespace {
// The error's byte offset for bad input, or -1 if it decoded.
long error_offset(const std::string& bytes) {
  try {
    decode_utf8(bytes);
    return -1;
  } catch (const Utf8Error& e) {
    return static_cast<long>(e.byte_offset());
  }
}
}  // namespace

TEST_CASE("invalid UTF-8 is rejected at the right byte", "[ch12][utf8]") {
  REQUIRE(error_offset("abc\xFF") == 3);            // never a UTF-8 byte
  REQUIRE(error_offset("ab\x80") == 2);             // continuation without a lead
  REQUIRE(error_offset("\xC0\x80") == 0);           // overlong U+0000
  REQUIRE(error_offset("\xE0\x80\xAF") == 0);       // overlong '/'
  REQUIRE(error_offset("\xF0\x82\x82\xAC") == 0);   // overlong €
  REQUIRE(error_offset("x\xED\xA0\x80") == 1);      // surrogate U+D800
  REQUIRE(error_offset("\xF4\x90\x80\x80") == 0);   // U+110000
  REQUIRE(error_offset("\xF5\x80\x80\x80") == 0);   // lead byte beyond U+10FFFF
  REQUIRE(error_offset("ok\xE4\xBD") == 2);         // truncated at the end
  REQUIRE(error_offset("\xE4\x41\xA0") == 1);       // a non-continuation inside
  REQUIRE(error_offset("\xF4\x8F\xBF\xBF") == -1);  // U+10FFFF itself is fine
  REQUIRE_FALSE(is_valid_utf8("\xFE"));
  REQUIRE(is_valid_utf8("汤姆追杰瑞。"));
  REQUIRE_THROWS_AS(encode_utf8(char32_t{0xD800}), std::invalid_argument);
  REQUIRE_THROWS_AS(encode_utf8(char32_t{0x110000}), std::invalid_argument);
}

TEST_CASE("a UTF-8 error names the source, line, byte and value", "[ch12][utf8]") {
  try {
    decode_utf8("hello\xFF", TextSource{"corpus.tsv", 17});
    FAIL("no error");
  } catch (const Utf8Error& e) {
    const std::string msg = e.what();
    REQUIRE(msg.rfind("corpus.tsv:17: invalid UTF-8 at byte 5 (0xff)", 0) == 0);
    REQUIRE(e.line() == 17);
    REQUIRE(e.byte_offset() == 5);
  }
  try {
    decode_utf8("\xC0\xAF");
    FAIL("no error");
  } catch (const Utf8Error& e) {
    REQUIRE(std::string(e.what()).rfind("<string>: invalid UTF-8 at byte 0 (0xc0)", 0) == 0);
    REQUIRE(std::string(e.what()).find("overlong") != std::string::npos);
  }
}
