// Vocabulary (chapter 12): token strings ⇄ integer ids.
//
// A model sees ids, not strings. Four ids are reserved, in this order:
//   <pad>=0  fills a short sentence up to the batch's length (masked out everywhere)
//   <bos>=1  "begin of sentence": the decoder's first input
//   <eos>=2  "end of sentence": the decoder's last target, so it learns when to stop
//   <unk>=3  any token not in the vocabulary
// Real tokens follow from id 4, most frequent first, ties broken by the token's bytes,
// so the same counts always give the same ids (no dependence on hash-map order).
// Tokens seen fewer than min_freq times are left out and encode as <unk>.
//
// serialize() writes a small text form a checkpoint can embed:
//   qkv-vocab 1 <size>
//   <id>\t<token>\t<count>      one line per id, in id order, the specials first
// with \\, \t, \n escaped inside tokens; deserialize() checks every line of it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "autograd/token_id.h"

namespace qkv::data {

using TokenCounts = std::map<std::string, int64_t>;

// Adds every token of every sentence to counts.
void count_tokens(const std::vector<std::vector<std::string>>& sentences, TokenCounts& counts);

class Vocab {
 public:
  static constexpr TokenId kPad = 0, kBos = 1, kEos = 2, kUnk = 3;
  static constexpr TokenId kNumSpecials = 4;

  Vocab();  // only the four specials

  static Vocab from_counts(const TokenCounts& counts, int64_t min_freq = 1);
  static Vocab build(const std::vector<std::vector<std::string>>& sentences, int64_t min_freq = 1);

  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }  // a count, not an id
  bool contains(const std::string& token) const { return ids_.count(token) != 0; }
  TokenId id(const std::string& token) const;  // kUnk if absent
  const std::string& token(TokenId id) const;  // throws std::out_of_range
  int64_t count(TokenId id) const;             // how often it was seen (0 for specials)

  std::vector<TokenId> encode(const std::vector<std::string>& tokens, bool add_bos = false,
                              bool add_eos = false) const;
  // ids → tokens. With strip_specials, <pad> and <bos> are dropped and decoding stops at
  // the first <eos> (what a decoder's output needs); <unk> is always kept.
  std::vector<std::string> decode(const std::vector<TokenId>& ids,
                                  bool strip_specials = true) const;

  std::string serialize() const;
  static Vocab deserialize(const std::string& text);  // throws std::runtime_error
  void save(const std::string& path) const;
  static Vocab load(const std::string& path);

 private:
  void add(const std::string& token, int64_t count);
  std::vector<std::string> tokens_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, TokenId> ids_;
};

}  // namespace qkv::data
