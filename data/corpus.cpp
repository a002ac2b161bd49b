#include "data/corpus.h"

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "data/rng.h"
#include "data/tokenizer.h"

namespace qkv::data {

namespace {
bool is_blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\v\f") == std::string::npos;
}

std::vector<std::string> split_tabs(const std::string& s) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find('\t', start);
    fields.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return fields;
    start = pos + 1;
  }
}
}  // namespace

SentencePair tokenize_pair(const std::string& source, const std::string& target, int line) {
  SentencePair p;
  p.source = source;
  p.target = target;
  p.src_tokens = tokenize(source);
  p.tgt_tokens = tokenize(target);
  p.line = line;
  return p;
}

namespace {
// One non-blank, non-comment line → a pair; throws std::runtime_error naming file:line.
SentencePair parse_line(const std::string& line, const std::string& source_name, int number,
                        const CorpusOptions& options) {
  const std::string where = source_name + ":" + std::to_string(number) + ": ";
  if (options.max_line_bytes > 0 && line.size() > options.max_line_bytes)
    throw std::runtime_error(where + "line of " + std::to_string(line.size()) +
                             " bytes, longer than the limit of " +
                             std::to_string(options.max_line_bytes));
  // Validate the whole line first, so a byte offset counts from the start of the line.
  decode_utf8(line, TextSource{source_name, number});
  const std::vector<std::string> fields = split_tabs(line);
  if (fields.size() != 2)
    throw std::runtime_error(where + "expected 2 tab-separated fields, found " +
                             std::to_string(fields.size()) +
                             (fields.size() > 2 ? " (keep two columns: cut -f1,2)" : ""));
  SentencePair p;
  p.source = fields[0];
  p.target = fields[1];
  p.line = number;
  p.src_tokens = tokenize(p.source);
  p.tgt_tokens = tokenize(p.target);
  if (p.src_tokens.empty()) throw std::runtime_error(where + "empty source (field 1)");
  if (p.tgt_tokens.empty()) throw std::runtime_error(where + "empty target (field 2)");
  return p;
}
}  // namespace

Corpus parse_tsv(const std::string& text, const std::string& source_name,
                 const CorpusOptions& options) {
  Corpus corpus;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    ++corpus.stats.lines;
    if (number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // BOM
    if (!line.empty() && line.back() == '\r') line.pop_back();                     // CRLF
    if (is_blank(line) || line[0] == '#') {
      ++corpus.stats.skipped_blank;
      continue;
    }
    SentencePair p;
    try {
      p = parse_line(line, source_name, number, options);
    } catch (const std::runtime_error& e) {  // Utf8Error is one too
      if (!options.skip_bad_lines) throw;
      ++corpus.stats.skipped_bad;
      if (corpus.stats.bad_examples.size() < kBadExamplesKept)
        corpus.stats.bad_examples.push_back(e.what());
      continue;
    }
    if (options.max_tokens > 0 &&
        (p.src_tokens.size() > options.max_tokens || p.tgt_tokens.size() > options.max_tokens)) {
      ++corpus.stats.skipped_too_long;
      continue;
    }
    corpus.pairs.push_back(std::move(p));
  }
  corpus.stats.pairs = corpus.pairs.size();
  return corpus;
}

Corpus load_tsv(const std::string& path, const CorpusOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open corpus file (does it exist?)");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_tsv(buf.str(), path, options);
}

std::vector<std::vector<std::string>> source_tokens(const std::vector<SentencePair>& pairs) {
  std::vector<std::vector<std::string>> out;
  for (const auto& p : pairs) out.push_back(p.src_tokens);
  return out;
}

std::vector<std::vector<std::string>> target_tokens(const std::vector<SentencePair>& pairs) {
  std::vector<std::vector<std::string>> out;
  for (const auto& p : pairs) out.push_back(p.tgt_tokens);
  return out;
}

std::vector<SentencePair> oversample(std::vector<SentencePair> train,
                                     const std::vector<SentencePair>& extra, int copies) {
  if (copies < 0) throw std::invalid_argument("oversample: copies must not be negative");
  std::set<std::pair<std::string, std::string>> in_extra;
  for (const auto& p : extra) in_extra.emplace(p.source, p.target);
  std::vector<SentencePair> out;
  for (auto& p : train)
    if (!in_extra.count({p.source, p.target})) out.push_back(std::move(p));
  for (int k = 0; k < copies; ++k) out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

void shuffle_pairs(std::vector<SentencePair>& pairs, uint64_t seed) { shuffle(pairs, seed); }

bool goes_to_test(const std::string& source, double test_fraction, uint64_t seed) {
  // The top 53 bits of the hash as a number in [0, 1).
  const double u = static_cast<double>(stable_hash(source, seed) >> 11) * 0x1p-53;
  return u < test_fraction;
}

Split split_by_source(const std::vector<SentencePair>& pairs, double test_fraction, uint64_t seed) {
  Split s;
  for (const auto& p : pairs)
    (goes_to_test(p.source, test_fraction, seed) ? s.test : s.train).push_back(p);
  return s;
}

}  // namespace qkv::data
