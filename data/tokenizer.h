// Tokenizer (chapter 12): UTF-8 text → a list of tokens, and back.
//
// Two kinds of script, two rules:
//  * CJK text (Han, Hiragana, Katakana, Hangul, Bopomofo, CJK punctuation such as 。，？！
//    and fullwidth forms) is written without spaces, so every such character is a token
//    of its own: "我爱你。" → 我 爱 你 。  A character vocabulary of a few thousand covers
//    everyday Chinese, and it needs no word segmenter.
//  * Everything else (English and other space-separated scripts) splits into words:
//    a word is a run of letters and digits, lower-cased (ASCII and Latin-1 letters).
//    Every other symbol is a token by itself: "Hello, Tom!" → hello , tom !
//
// Rules a student will ask about:
//  * An apostrophe between two letters stays inside the word: "don't" → don't,
//    "Tom's" → tom's, "I'm" → i'm. One token each: simple, reversible, and a toy corpus
//    has few contractions. (The typographic apostrophe ’ is read as ' there.)
//  * A hyphen between two letters or digits stays too: "well-known" → well-known.
//  * A '.' or ',' between two digits stays: "3.14" → 3.14, "1,000" → 1,000.
//  * Whitespace only separates; it never becomes a token.
// Invalid UTF-8 throws Utf8Error (pass a TextSource to say where the text came from).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/utf8.h"

namespace qkv::data {

std::vector<std::string> tokenize(std::string_view text, const TextSource& where = {});

// Joins tokens back into text: no space next to a CJK token, none before closing
// punctuation (. , ! ? ; : ) ] } %) or after opening brackets, one space elsewhere.
// Case is not restored: detokenize(tokenize("Hi, Tom!")) == "hi, tom!".
std::string detokenize(const std::vector<std::string>& tokens);

// Splits tokens after each sentence-final punctuation token (. ! ? and 。！？), so that
// an input longer than a model takes can be translated sentence by sentence:
// "hi . how are you ?" → [hi .] [how are you ?]. Tokens after the last one form a piece too.
std::vector<std::vector<std::string>> split_sentences(const std::vector<std::string>& tokens);

// The character classes the rules above use, exposed for tests and the docs.
bool is_cjk(char32_t c);
bool is_word_char(char32_t c);  // a letter or digit of a space-separated script
char32_t to_lower(char32_t c);  // ASCII and Latin-1 upper case → lower case

}  // namespace qkv::data
