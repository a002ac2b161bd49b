#include "data/vocab.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/utf8.h"

namespace qkv::data {

namespace {
const char* const kSpecialNames[] = {"<pad>", "<bos>", "<eos>", "<unk>"};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

[[noreturn]] void fail(int line, const std::string& what) {
  throw std::runtime_error("vocab line " + std::to_string(line) + ": " + what);
}

std::string unescape(const std::string& s, int line) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 == s.size()) fail(line, "token ends with a lone backslash");
    const char e = s[++i];
    if (e == '\\')
      out += '\\';
    else if (e == 't')
      out += '\t';
    else if (e == 'n')
      out += '\n';
    else
      fail(line, std::string("unknown escape \\") + e);
  }
  return out;
}

// A whole decimal number, nothing else (std::stoll would accept "12abc").
bool parse_int(const std::string& s, int64_t& value) {
  if (s.empty() || s.size() > 18) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return parts;
    start = pos + 1;
  }
}
}  // namespace

void count_tokens(const std::vector<std::vector<std::string>>& sentences, TokenCounts& counts) {
  for (const auto& sentence : sentences)
    for (const auto& token : sentence) ++counts[token];
}

Vocab::Vocab() {
  for (const char* name : kSpecialNames) add(name, 0);
}

void Vocab::add(const std::string& token, int64_t count) {
  ids_.emplace(token, size());
  tokens_.push_back(token);
  counts_.push_back(count);
}

Vocab Vocab::from_counts(const TokenCounts& counts, int64_t min_freq) {
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [token, n] : counts) {
    const bool special = std::find(std::begin(kSpecialNames), std::end(kSpecialNames), token) !=
                         std::end(kSpecialNames);
    if (n >= min_freq && !special && !token.empty()) kept.emplace_back(token, n);
  }
  // Most frequent first; equal counts in byte order. std::string's < compares bytes as
  // unsigned char, like memcmp, on every standard library.
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocab v;
  for (const auto& [token, n] : kept) v.add(token, n);
  return v;
}

Vocab Vocab::build(const std::vector<std::vector<std::string>>& sentences, int64_t min_freq) {
  TokenCounts counts;
  count_tokens(sentences, counts);
  return from_counts(counts, min_freq);
}

TokenId Vocab::id(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocab::token(TokenId id) const {
  if (id < 0 || id >= size())
    throw std::out_of_range("Vocab::token: id " + std::to_string(id) + " outside [0, " +
                            std::to_string(size()) + ")");
  return tokens_[id];
}

int64_t Vocab::count(TokenId id) const {
  token(id);  // range check
  return counts_[id];
}

std::vector<TokenId> Vocab::encode(const std::vector<std::string>& tokens, bool add_bos,
                                   bool add_eos) const {
  std::vector<TokenId> ids;
  ids.reserve(tokens.size() + 2);
  if (add_bos) ids.push_back(kBos);
  for (const auto& t : tokens) ids.push_back(id(t));
  if (add_eos) ids.push_back(kEos);
  return ids;
}

std::vector<std::string> Vocab::decode(const std::vector<TokenId>& ids, bool strip_specials) const {
  std::vector<std::string> tokens;
  for (TokenId i : ids) {
    if (strip_specials && i == kEos) break;
    if (strip_specials && (i == kPad || i == kBos)) continue;
    tokens.push_back(token(i));
  }
  return tokens;
}

std::string Vocab::serialize() const {
  std::ostringstream out;
  out << "qkv-vocab 1 " << size() << '\n';
  for (TokenId i = 0; i < size(); ++i)
    out << i << '\t' << escape(tokens_[i]) << '\t' << counts_[i] << '\n';
  return out.str();
}

Vocab Vocab::deserialize(const std::string& text) {
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the final newline
  if (lines.empty()) fail(1, "empty input, expected the header 'qkv-vocab 1 <size>'");
  const std::vector<std::string> header = split(lines[0], ' ');
  int64_t size = 0;
  if (header.size() != 3 || header[0] != "qkv-vocab")
    fail(1, "expected the header 'qkv-vocab 1 <size>', found '" + lines[0] + "'");
  if (header[1] != "1") fail(1, "unsupported vocab format version '" + header[1] + "'");
  if (!parse_int(header[2], size) || size < kNumSpecials)
    fail(1, "bad size '" + header[2] + "' (need a whole number >= 4)");
  if (static_cast<int64_t>(lines.size()) - 1 != size)
    fail(1, "header says " + std::to_string(size) + " tokens, found " +
                std::to_string(lines.size() - 1) + " lines");
  Vocab v;
  v.tokens_.clear(), v.counts_.clear(), v.ids_.clear();
  for (int64_t i = 0; i < size; ++i) {
    const int line = static_cast<int>(i) + 2;
    const std::vector<std::string> f = split(lines[i + 1], '\t');
    if (f.size() != 3) fail(line, "expected 3 tab-separated fields (id, token, count)");
    int64_t id = 0, count = 0;
    if (!parse_int(f[0], id) || id != i)
      fail(line, "expected id " + std::to_string(i) + ", found '" + f[0] + "'");
    if (!parse_int(f[2], count)) fail(line, "bad count '" + f[2] + "'");
    const std::string token = unescape(f[1], line);
    if (token.empty()) fail(line, "empty token");
    if (!is_valid_utf8(token)) fail(line, "token is not valid UTF-8");
    if (i < kNumSpecials && token != kSpecialNames[i])
      fail(line, std::string("expected the special token ") + kSpecialNames[i] + ", found '" +
                     token + "'");
    if (v.contains(token)) fail(line, "duplicate token '" + token + "'");
    v.add(token, count);
  }
  return v;
}

void Vocab::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error(path + ": cannot open for writing");
  out << serialize();
  if (!out) throw std::runtime_error(path + ": write failed");
}

Vocab Vocab::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open vocabulary file");
  std::ostringstream buf;
  buf << in.rdbuf();
  try {
    return deserialize(buf.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace qkv::data
