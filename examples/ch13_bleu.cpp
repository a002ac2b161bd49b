// Chapter 13: corpus BLEU and exact match, computed step by step on a two-sentence corpus.
// Chinese is scored on characters (the tokenizer makes each character a token).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "examples/cli.h"
#include "nn/metrics.h"

int run_chapter() {
  const std::vector<std::string> references{"我爱你。", "他明天会去上海。"};
  const std::vector<std::string> hypotheses{"我爱你。", "他明天去上海。"};
  std::vector<std::vector<std::string>> ref, hyp;
  for (size_t i = 0; i < references.size(); ++i) {
    ref.push_back(qkv::data::tokenize(references[i]));
    hyp.push_back(qkv::data::tokenize(hypotheses[i]));
    std::printf("sentence %zu  reference %s (%zu tokens)  hypothesis %s (%zu tokens)\n", i + 1,
                references[i].c_str(), ref.back().size(), hypotheses[i].c_str(), hyp.back().size());
  }
  const qkv::nn::BleuStats b = qkv::nn::corpus_bleu(hyp, ref);
  std::printf("\nn  clipped matches / hypothesis n-grams  precision p_n\n");
  for (int n = 0; n < 4; ++n)
    std::printf("%d  %2lld / %-2lld                                %.4f\n", n + 1,
                static_cast<long long>(b.matches[n]), static_cast<long long>(b.totals[n]),
                b.precisions[n]);
  std::printf("\nc = %lld hypothesis tokens, r = %lld reference tokens\n",
              static_cast<long long>(b.hyp_length), static_cast<long long>(b.ref_length));
  std::printf("brevity penalty  = exp(1 - r/c) = exp(1 - %lld/%lld) = %.4f\n",
              static_cast<long long>(b.ref_length), static_cast<long long>(b.hyp_length),
              b.brevity_penalty);
  const double geo =
      std::pow(b.precisions[0] * b.precisions[1] * b.precisions[2] * b.precisions[3], 0.25);
  std::printf("geometric mean   = (p1 p2 p3 p4)^(1/4) = %.4f\n", geo);
  std::printf("BLEU             = %.4f x %.4f = %.4f\n", b.brevity_penalty, geo, b.bleu);
  std::printf("exact match      = %.4f (1 of 2 sentences)\n", qkv::nn::exact_match(hyp, ref));
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch13_bleu",
      "Chapter 13: corpus BLEU and exact match, step by step on a two-sentence corpus.",
      run_chapter);
}
