#include "nn/decoding.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"

namespace qkv::nn {

void pad_batch(const std::vector<std::vector<int64_t>>& rows, int64_t pad, Tensor& ids,
               Tensor& keep) {
  const int64_t B = static_cast<int64_t>(rows.size());
  int64_t L = 1;
  for (auto& r : rows) L = std::max<int64_t>(L, static_cast<int64_t>(r.size()));
  ids = Tensor::full({B, L}, static_cast<float>(pad));
  keep = Tensor::zeros({B, L});
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < rows[b].size(); ++t) {
      ids.data()[b * L + t] = static_cast<float>(rows[b][t]);
      keep.data()[b * L + t] = 1.f;
    }
}

namespace {

// log-softmax of the logits at the last position of each row: [B, T, V] → B rows of V.
std::vector<std::vector<float>> last_log_probs(const Tensor& logits) {
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  Tensor last = log_softmax(reshape(slice(logits, 1, T - 1, T), {B, V}), -1);
  std::vector<std::vector<float>> out(B);
  for (int64_t b = 0; b < B; ++b) out[b].assign(last.data() + b * V, last.data() + (b + 1) * V);
  return out;
}

// How many tokens a sentence of src_len source tokens may get (see DecodeOptions::max_len).
int64_t length_cap(const Seq2SeqTransformer& model, size_t src_len, const DecodeOptions& o) {
  if (o.max_len > 0) return o.max_len;
  return std::min(model.config.max_len - 1, static_cast<int64_t>(2 * src_len + 10));
}
}  // namespace

std::vector<Hypothesis> greedy_decode(Seq2SeqTransformer& model,
                                      const std::vector<std::vector<int64_t>>& src,
                                      const DecodeOptions& o) {
  NoGradGuard no_grad;
  EvalScope eval(model);
  Tensor src_ids, src_keep;
  pad_batch(src, o.pad_id, src_ids, src_keep);
  Tensor memory = model.encode(src_ids, src_keep);
  const size_t B = src.size();
  std::vector<Hypothesis> hyps(B);
  std::vector<std::vector<int64_t>> prefix(B, std::vector<int64_t>{o.bos_id});
  std::vector<bool> done(B, false);
  std::vector<int64_t> cap(B);
  int64_t longest_cap = 0;
  for (size_t b = 0; b < B; ++b) {
    cap[b] = length_cap(model, src[b].size(), o);
    longest_cap = std::max(longest_cap, cap[b]);
  }
  for (int64_t step = 0; step < longest_cap; ++step) {
    Tensor tgt, tgt_keep;
    pad_batch(prefix, o.pad_id, tgt, tgt_keep);
    auto lp = last_log_probs(model.decode(tgt, memory, src_keep, tgt_keep));
    bool all_done = true;
    for (size_t b = 0; b < B; ++b) {
      if (step == cap[b]) done[b] = true;  // this sentence's own limit
      if (done[b]) {
        // A finished row keeps decoding harmlessly (rows never interact); its output is ignored.
        prefix[b].push_back(o.pad_id);
        continue;
      }
      const int64_t best = std::max_element(lp[b].begin(), lp[b].end()) - lp[b].begin();
      hyps[b].log_prob += lp[b][best];
      if (best == o.eos_id) {
        done[b] = true;
      } else {
        hyps[b].tokens.push_back(best);
        all_done = false;
      }
      prefix[b].push_back(best);
    }
    if (all_done) break;
  }
  return hyps;
}

Hypothesis beam_search(Seq2SeqTransformer& model, const std::vector<int64_t>& src,
                       const DecodeOptions& o) {
  if (o.beam < 1) throw std::invalid_argument("beam_search: beam must be at least 1");
  NoGradGuard no_grad;
  EvalScope eval(model);
  Tensor src_ids, src_keep;
  pad_batch({src}, o.pad_id, src_ids, src_keep);
  Tensor memory1 = model.encode(src_ids, src_keep);

  struct Beam {
    std::vector<int64_t> seq;  // starts with <bos>
    float log_prob;
  };
  auto score = [&](const std::vector<int64_t>& tokens, float lp) {
    // Length normalisation: without it, shorter hypotheses always win (fewer log-probs < 0).
    return lp / std::pow(static_cast<float>(std::max<size_t>(1, tokens.size())), o.length_penalty);
  };
  std::vector<Beam> beams{{{o.bos_id}, 0.f}};
  std::vector<Hypothesis> finished;
  for (int64_t step = 0; step < length_cap(model, src.size(), o) && !beams.empty(); ++step) {
    const int64_t K = static_cast<int64_t>(beams.size());
    std::vector<std::vector<int64_t>> seqs;
    for (auto& b : beams) seqs.push_back(b.seq);
    Tensor tgt, tgt_keep;
    pad_batch(seqs, o.pad_id, tgt, tgt_keep);
    // Every beam attends to the same source: repeat the encoder output K times.
    std::vector<Tensor> mem(K, memory1), keep(K, src_keep);
    auto lp = last_log_probs(model.decode(tgt, concat(mem, 0), concat(keep, 0), tgt_keep));
    struct Cand {
      float lp;
      int64_t beam, token;
    };
    std::vector<Cand> cands;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t v = 0; v < static_cast<int64_t>(lp[k].size()); ++v)
        cands.push_back({beams[k].log_prob + lp[k][v], k, v});
    // Highest log-probability first; ties broken by beam then token, so results are stable.
    std::stable_sort(cands.begin(), cands.end(),
                     [](const Cand& a, const Cand& b) { return a.lp > b.lp; });
    std::vector<Beam> next;
    for (const Cand& c : cands) {
      if (static_cast<int64_t>(next.size()) >= o.beam) break;
      if (c.token == o.eos_id) {
        finished.push_back(
            {std::vector<int64_t>(beams[c.beam].seq.begin() + 1, beams[c.beam].seq.end()), c.lp});
        if (static_cast<int64_t>(finished.size()) >= o.beam) break;
        continue;
      }
      Beam b = beams[c.beam];
      b.seq.push_back(c.token);
      b.log_prob = c.lp;
      next.push_back(std::move(b));
    }
    if (static_cast<int64_t>(finished.size()) >= o.beam) break;
    beams = std::move(next);
  }
  for (auto& b : beams)
    finished.push_back({std::vector<int64_t>(b.seq.begin() + 1, b.seq.end()), b.log_prob});
  auto best = std::max_element(finished.begin(), finished.end(),
                               [&](const Hypothesis& a, const Hypothesis& b) {
                                 return score(a.tokens, a.log_prob) < score(b.tokens, b.log_prob);
                               });
  return *best;
}

}  // namespace qkv::nn
