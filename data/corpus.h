// Parallel corpus (chapter 12): a TSV file of sentence pairs → tokenized pairs.
//
// One pair per line: exactly source<TAB>target. Strict, because a corpus that trains
// silently on half-broken lines is worse than one that stops:
//   * blank lines and lines starting with '#' are skipped (comments);
//   * a UTF-8 byte-order mark at the start of the file and '\r' before '\n' are dropped;
//   * every other line must be exactly two tab-separated fields, neither empty, valid
//     UTF-8 and at most max_line_bytes long (default 4096); anything else is an error
//     naming the file and the line:
//       corpus.tsv:17: expected 2 tab-separated fields, found 3
//       corpus.tsv:17: empty target (field 2)
//       corpus.tsv:17: invalid UTF-8 at byte 5 (0xff): …   (byte 0-based, in that line)
//       corpus.tsv:17: line of 5000 bytes, longer than the limit of 4096
//     With skip_bad_lines such lines are skipped instead, counted in stats.skipped_bad,
//     and the first few messages kept in stats.bad_examples.
//   * Tatoeba/Anki exports (manythings.org) add a 3rd column with the attribution: keep the
//     first two with `cut -f1,2 cmn.txt > cmn.tsv`.
//   * a pair with more than max_tokens tokens on either side is skipped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qkv::data {

struct SentencePair {
  std::string source, target;                       // the text as written in the file
  std::vector<std::string> src_tokens, tgt_tokens;  // tokenize(source), tokenize(target)
  int line = 0;                                     // 1-based line in the file (0: generated)
};

struct CorpusStats {
  size_t lines = 0;                       // lines read
  size_t pairs = 0;                       // pairs kept
  size_t skipped_blank = 0;               // blank lines and # comments
  size_t skipped_too_long = 0;            // pairs over max_tokens on either side
  size_t skipped_bad = 0;                 // malformed lines skipped (only with skip_bad_lines)
  std::vector<std::string> bad_examples;  // the first few of their messages (file:line: why)
};

struct Corpus {
  std::vector<SentencePair> pairs;
  CorpusStats stats;
};

struct CorpusOptions {
  size_t max_tokens = 0;         // skip pairs longer than this on either side; 0 = no limit
  size_t max_line_bytes = 4096;  // a longer line is malformed (a missing newline, a binary
                                 // file); 0 = no limit
  bool skip_bad_lines = false;   // skip and count malformed lines instead of stopping
};
// How many messages CorpusStats::bad_examples keeps.
constexpr size_t kBadExamplesKept = 3;

// Reads a TSV file; throws std::runtime_error naming the file (and line) on any problem.
Corpus load_tsv(const std::string& path, const CorpusOptions& options = {});
// The same for text already in memory; source_name is used in error messages.
Corpus parse_tsv(const std::string& text, const std::string& source_name,
                 const CorpusOptions& options = {});

// Makes one pair from two strings (tokenizing both), e.g. for generated data.
SentencePair tokenize_pair(const std::string& source, const std::string& target, int line = 0);

// The token lists of one side, e.g. to build a Vocab: Vocab::build(source_tokens(train)).
std::vector<std::vector<std::string>> source_tokens(const std::vector<SentencePair>& pairs);
std::vector<std::vector<std::string>> target_tokens(const std::vector<SentencePair>& pairs);

// Oversampling: `train` with every pair of `extra` in it exactly `copies` times (pairs of
// `train` with the same source and target as one of `extra` are dropped first). The usual
// cure when a small set the model must know by heart (the toy corpus's hand-written
// phrases, a glossary, an in-domain set) drowns in a large one: seen `copies` times an
// epoch, it gets `copies` times the gradient steps (chapter 12, "The phrases users try").
std::vector<SentencePair> oversample(std::vector<SentencePair> train,
                                     const std::vector<SentencePair>& extra, int copies);

// A seeded shuffle of the pairs, the same on every platform.
void shuffle_pairs(std::vector<SentencePair>& pairs, uint64_t seed);

// The train/test split. Each pair goes to test when a seeded hash of its SOURCE text
// falls below test_fraction, so: the decision for a sentence never depends on the other
// lines or their order, and duplicates of a source always land on the same side (a
// sentence can never be in both splits). The test size is test_fraction on average.
struct Split {
  std::vector<SentencePair> train, test;
};
Split split_by_source(const std::vector<SentencePair>& pairs, double test_fraction, uint64_t seed);
bool goes_to_test(const std::string& source, double test_fraction, uint64_t seed);

}  // namespace qkv::data
