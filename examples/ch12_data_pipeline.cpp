// Chapter 12: from bytes to batches. Tokenizes a sentence in each language, builds the
// vocabularies of a four-pair corpus, and prints one padded batch with its masks.
//   build/ch12_data_pipeline
#include <cstdio>
#include <string>
#include <vector>

#include "data/batch.h"
#include "data/corpus.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "examples/cli.h"

using namespace qkv::data;

namespace {
void print_tokens(const std::string& text) {
  const std::vector<std::string> tokens = tokenize(text);
  std::printf("\"%s\" ->", text.c_str());
  for (const std::string& t : tokens) std::printf(" [%s]", t.c_str());
  std::printf("  (%zu tokens)\n", tokens.size());
}

void print_ids(const char* label, const std::vector<qkv::TokenId>& ids) {
  std::printf("%s", label);
  for (qkv::TokenId id : ids) std::printf(" %lld", static_cast<long long>(id));
  std::printf("\n");
}

// A [rows, cols] matrix, one row per line.
template <typename T>
void print_matrix(const char* name, const std::vector<T>& m, int rows, int cols) {
  std::printf("%s [%d,%d]\n", name, rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) std::printf("%3d", static_cast<int>(m[r * cols + c]));
    std::printf("\n");
  }
}
}  // namespace

int run_chapter() {
  std::printf("== tokens ==\n");
  print_tokens("I love you.");
  print_tokens("我爱你。");
  print_tokens("我爱学习");  // seed 000's example: one token per character
  print_tokens("Don't worry!");

  // A corpus in the TSV format: source<TAB>target, '#' starts a comment.
  const std::string tsv =
      "# english<TAB>chinese\n"
      "I love you.\t我爱你。\n"
      "Tom chases Jerry.\t汤姆追杰瑞。\n"
      "I love Tom.\t我爱汤姆。\n"
      "Thank you.\t谢谢你。\n";
  const Corpus corpus = parse_tsv(tsv, "tiny.tsv");
  const Vocab src_vocab = Vocab::build(source_tokens(corpus.pairs));
  const Vocab tgt_vocab = Vocab::build(target_tokens(corpus.pairs));

  std::printf("\n== vocabularies (%zu pairs) ==\n", corpus.pairs.size());
  std::printf("source:");
  for (qkv::TokenId i = 0; i < src_vocab.size(); ++i)
    std::printf(" %lld=%s", static_cast<long long>(i), src_vocab.token(i).c_str());
  std::printf("\ntarget:");
  for (qkv::TokenId i = 0; i < tgt_vocab.size(); ++i)
    std::printf(" %lld=%s", static_cast<long long>(i), tgt_vocab.token(i).c_str());
  std::printf("\n\n== ids ==\n");
  print_ids("\"I love you.\" ->", src_vocab.encode(tokenize("I love you.")));
  print_ids("\"我爱你。\" ->", tgt_vocab.encode(tokenize("我爱你。")));
  print_ids("\"I love Mary.\" ->", src_vocab.encode(tokenize("I love Mary.")));  // 3 = <unk>

  // One batch of three pairs of different lengths: 0 pads, masks mark real tokens.
  const std::vector<EncodedPair> data = encode_pairs(corpus.pairs, src_vocab, tgt_vocab);
  const Batch b = make_batch(data, {0, 1, 3});
  std::printf("\n== one batch: pairs 0, 1, 3 (B=%d, S=%d, T=%d) ==\n", b.batch_size, b.src_len,
              b.tgt_len);
  print_matrix("src", b.src, b.batch_size, b.src_len);
  print_matrix("src_keep", b.src_keep, b.batch_size, b.src_len);
  print_matrix("tgt_in  (<bos>=1 first)", b.tgt_in, b.batch_size, b.tgt_len);
  print_matrix("tgt_out (<eos>=2 last)", b.tgt_out, b.batch_size, b.tgt_len);
  print_matrix("tgt_keep", b.tgt_keep, b.batch_size, b.tgt_len);
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(argc, argv, "ch12_data_pipeline",
                                "Chapter 12: from bytes to batches.", run_chapter);
}
