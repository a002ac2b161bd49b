#include "data/tokenizer.h"

namespace qkv::data {

bool is_cjk(char32_t c) {
  return (c >= 0x1100 && c <= 0x11FF)        // Hangul Jamo
         || (c >= 0x2E80 && c <= 0x2FDF)     // CJK radicals
         || (c >= 0x3000 && c <= 0x303F)     // CJK symbols and punctuation: 。、「」
         || (c >= 0x3040 && c <= 0x30FF)     // Hiragana, Katakana
         || (c >= 0x3100 && c <= 0x31FF)     // Bopomofo, Hangul compatibility, Katakana ext.
         || (c >= 0x3200 && c <= 0x33FF)     // enclosed CJK, compatibility
         || (c >= 0x3400 && c <= 0x4DBF)     // Han extension A
         || (c >= 0x4E00 && c <= 0x9FFF)     // Han (the common ideographs)
         || (c >= 0xAC00 && c <= 0xD7AF)     // Hangul syllables
         || (c >= 0xF900 && c <= 0xFAFF)     // Han compatibility ideographs
         || (c >= 0xFE30 && c <= 0xFE4F)     // CJK compatibility forms
         || (c >= 0xFF00 && c <= 0xFFEF)     // fullwidth and halfwidth forms: ，？！
         || (c >= 0x20000 && c <= 0x3FFFF);  // Han extensions B and beyond
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  if (is_cjk(c)) return false;
  // Latin-1 punctuation and symbols (¡ « » ¿ × ÷ …) are not letters; above Latin-1 we
  // take the general, imperfect view that a non-CJK character outside the punctuation
  // blocks is a letter, which keeps Greek, Cyrillic, accented Latin words whole.
  if (c <= 0xBF) return c == 0xAA || c == 0xB5 || c == 0xBA;
  if (c == 0xD7 || c == 0xF7) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;    // general punctuation, symbols, arrows
  if (c >= 0x1F000 && c <= 0x1FAFF) return false;  // emoji and pictographs
  if (c >= 0xFE00 && c <= 0xFE0F) return false;    // variation selectors
  return true;
}

char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;  // À…Þ → à…þ
  return c;
}

namespace {
bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0xA0 ||
         c == 0x3000 || (c >= 0x2000 && c <= 0x200B);
}
bool is_letter(char32_t c) { return is_word_char(c) && !(c >= '0' && c <= '9'); }
bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

// Does the joiner at s[i] (an apostrophe, hyphen, '.' or ',') glue its neighbours?
bool joins(const std::u32string& s, size_t i) {
  if (i == 0 || i + 1 >= s.size()) return false;
  const char32_t prev = s[i - 1], next = s[i + 1], c = s[i];
  if (c == '\'' || c == 0x2019) return is_letter(prev) && is_letter(next);
  if (c == '-') return is_word_char(prev) && is_word_char(next);
  if (c == '.' || c == ',') return is_digit(prev) && is_digit(next);
  return false;
}
}  // namespace

std::vector<std::string> tokenize(std::string_view text, const TextSource& where) {
  const std::u32string s = decode_utf8(text, where);
  std::vector<std::string> tokens;
  std::u32string word;  // the word being collected
  auto flush = [&] {
    if (!word.empty()) tokens.push_back(encode_utf8(word));
    word.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char32_t c = s[i];
    if (is_space(c)) {
      flush();
    } else if (is_word_char(c)) {
      word.push_back(to_lower(c));
    } else if (!word.empty() && joins(s, i)) {
      word.push_back(c == 0x2019 ? U'\'' : c);
    } else {  // CJK characters and punctuation: one token each
      flush();
      tokens.push_back(encode_utf8(c));
    }
  }
  flush();
  return tokens;
}

namespace {
bool starts_cjk(const std::string& t) {
  const std::u32string s = decode_utf8(t);
  return !s.empty() && is_cjk(s.front());
}
bool ends_cjk(const std::string& t) {
  const std::u32string s = decode_utf8(t);
  return !s.empty() && is_cjk(s.back());
}
bool is_closing(const std::string& t) {
  return t == "." || t == "," || t == "!" || t == "?" || t == ";" || t == ":" || t == ")" ||
         t == "]" || t == "}" || t == "%";
}
bool is_opening(const std::string& t) { return t == "(" || t == "[" || t == "{"; }
}  // namespace

std::string detokenize(const std::vector<std::string>& tokens) {
  std::string out;
  const std::string* prev = nullptr;  // the last non-empty token written
  for (const std::string& t : tokens) {
    if (t.empty()) continue;
    if (prev) {
      const bool glue = ends_cjk(*prev) || starts_cjk(t) || is_closing(t) || is_opening(*prev);
      if (!glue) out += ' ';
    }
    out += t;
    prev = &t;
  }
  return out;
}

std::vector<std::vector<std::string>> split_sentences(const std::vector<std::string>& tokens) {
  std::vector<std::vector<std::string>> out(1);
  for (const std::string& t : tokens) {
    out.back().push_back(t);
    if (t == "." || t == "!" || t == "?" || t == "。" || t == "！" || t == "？") out.emplace_back();
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

}  // namespace qkv::data
