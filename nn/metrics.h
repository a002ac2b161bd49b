// Evaluation metrics on token sequences (chapter 13): exact match and corpus BLEU.
//
// Both take one hypothesis and one reference per sentence, as token ids (or token strings:
// the overloads map each distinct string to an id). For Chinese the tokens are characters,
// so BLEU is character BLEU; for English they are words.
//
// Corpus BLEU (Papineni et al. 2002), exactly as computed here:
//   for n = 1..4, over the WHOLE corpus (not averaged sentence by sentence):
//     matches_n = Σ_sentences Σ_{n-gram g in hyp} min(count_hyp(g), count_ref(g))   (clipped)
//     total_n   = Σ_sentences max(0, len(hyp) − n + 1)
//     p_n       = matches_n / total_n
//   c = Σ len(hyp), r = Σ len(ref)
//   BP   = 1 if c > r, else exp(1 − r/c)          (brevity penalty)
//   BLEU = BP · exp( (1/4) Σ_n log p_n )           (geometric mean of p_1..p_4)
// No smoothing: if any p_n is 0 (no 4-gram matches anywhere, or no hypothesis has n
// tokens), the geometric mean is 0 and BLEU is 0. An empty corpus, or c = 0, gives 0.
// BLEU is reported in [0, 1] (multiply by 100 for the usual "BLEU points").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/token_id.h"

namespace qkv::nn {

using TokenSeq = std::vector<TokenId>;

struct BleuStats {
  std::array<int64_t, 4> matches{};    // clipped n-gram matches, n = 1..4
  std::array<int64_t, 4> totals{};     // n-grams in the hypotheses
  int64_t hyp_length = 0;              // c
  int64_t ref_length = 0;              // r
  std::array<double, 4> precisions{};  // p_n = matches / totals (0 when totals is 0)
  double brevity_penalty = 0.0;
  double bleu = 0.0;
};

// The fraction of sentences whose hypothesis equals the reference token for token.
double exact_match(const std::vector<TokenSeq>& hypotheses,
                   const std::vector<TokenSeq>& references);
BleuStats corpus_bleu(const std::vector<TokenSeq>& hypotheses,
                      const std::vector<TokenSeq>& references);

double exact_match(const std::vector<std::vector<std::string>>& hypotheses,
                   const std::vector<std::vector<std::string>>& references);
BleuStats corpus_bleu(const std::vector<std::vector<std::string>>& hypotheses,
                      const std::vector<std::vector<std::string>>& references);

// Token-level Levenshtein distance (insertions, deletions, substitutions cost 1 each):
// how far one sentence is from its reference, to rank the worst translations.
int64_t edit_distance(const TokenSeq& a, const TokenSeq& b);

}  // namespace qkv::nn
