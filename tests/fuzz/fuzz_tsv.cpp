// libFuzzer target: bytes → the TSV corpus reader → UTF-8 → tokenizer → vocabulary
// (`make fuzz`, tests/fuzz/README.md). Bad input must end in std::runtime_error naming where;
// anything else (a crash, another exception, a sanitizer report, a broken round trip) is a bug.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "data/corpus.h"
#include "data/tokenizer.h"
#include "data/utf8.h"
#include "data/vocab.h"

using namespace qkv::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the options, the rest is the file.
  CorpusOptions o;
  o.skip_bad_lines = data[0] & 1;
  o.max_tokens = (data[0] >> 1) & 7;  // 0 (no limit) … 7
  o.max_line_bytes = (data[0] & 0x10) ? 64 : 4096;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Strict UTF-8: decode → encode gives back the very same bytes.
  try {
    if (encode_utf8(decode_utf8(text)) != text) __builtin_trap();
  } catch (const Utf8Error&) {
    if (is_valid_utf8(text)) __builtin_trap();
  }

  Corpus c;
  try {
    c = parse_tsv(text, "fuzz.tsv", o);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).rfind("fuzz.tsv:", 0) != 0) __builtin_trap();  // must say where
    return 0;
  }
  if (c.stats.pairs != c.pairs.size()) __builtin_trap();
  for (const SentencePair& p : c.pairs) {
    if (p.src_tokens.empty() || p.tgt_tokens.empty()) __builtin_trap();
    if (o.max_tokens > 0 &&
        (p.src_tokens.size() > o.max_tokens || p.tgt_tokens.size() > o.max_tokens))
      __builtin_trap();
    for (const auto& t : p.src_tokens)
      if (t.empty() || !is_valid_utf8(t)) __builtin_trap();
    (void)detokenize(p.tgt_tokens);
  }
  // The vocabulary of what was read: every token encodes to its own id and back.
  const Vocab v = Vocab::build(source_tokens(c.pairs));
  for (const SentencePair& p : c.pairs)
    if (v.decode(v.encode(p.src_tokens)) != p.src_tokens) __builtin_trap();
  return 0;
}
