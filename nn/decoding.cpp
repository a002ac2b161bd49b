#include "nn/decoding.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace qkv::nn {

// Here token ids become float tensor values: exact below 2^24 (autograd/token_id.h).
void pad_batch(const std::vector<std::vector<TokenId>>& rows, TokenId pad, Tensor& ids,
               Tensor& keep) {
  const int64_t B = static_cast<int64_t>(rows.size());
  int64_t L = 1;
  for (auto& r : rows) L = std::max<int64_t>(L, static_cast<int64_t>(r.size()));
  ids = Tensor::full({B, L}, static_cast<float>(pad));
  keep = Tensor::zeros({B, L});
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < rows[b].size(); ++t) {
      if (rows[b][t] < 0 || rows[b][t] >= kMaxExactTokenId)
        throw std::invalid_argument("pad_batch: token id " + std::to_string(rows[b][t]) +
                                    " in row " + std::to_string(b) +
                                    " is not in [0, 2^24), where floats hold ids exactly");
      ids.data()[b * L + t] = static_cast<float>(rows[b][t]);
      keep.data()[b * L + t] = 1.f;
    }
}

DecodeState DecodeState::select(const std::vector<int64_t>& rows) const {
  DecodeState out;
  auto pick = [&](const Tensor& t) { return t.defined() ? index_select(t, 0, rows) : Tensor(); };
  out.memory = pick(memory);
  out.memory_keep = pick(memory_keep);
  out.hidden = pick(hidden);
  out.context = pick(context);
  for (int64_t r : rows) out.fed.push_back(fed[static_cast<size_t>(r)]);
  out.use_cache = use_cache;
  for (const KeyValues& kv : self_kv) out.self_kv.push_back({pick(kv.k), pick(kv.v)});
  for (const KeyValues& kv : cross_kv) out.cross_kv.push_back({pick(kv.k), pick(kv.v)});
  return out;
}

namespace {
// log-softmax of [B, V] logits → B rows of V.
std::vector<std::vector<float>> log_probs(const Tensor& logits) {
  const int64_t B = logits.size(0), V = logits.size(1);
  Tensor lp = log_softmax(logits, -1);
  std::vector<std::vector<float>> out(B);
  for (int64_t b = 0; b < B; ++b) out[b].assign(lp.data() + b * V, lp.data() + (b + 1) * V);
  return out;
}

// How many tokens a sentence of src_len source tokens may get (DecodeOptions::max_len).
int64_t length_cap(size_t src_len, const DecodeOptions& o) {
  if (o.max_len > 0) return o.max_len;
  const int64_t own = static_cast<int64_t>(2 * src_len + 10);
  return o.max_len_cap > 0 ? std::min(o.max_len_cap, own) : own;
}

DecodeState start(Seq2SeqModel& model, const std::vector<std::vector<int64_t>>& src,
                  const DecodeOptions& o) {
  Tensor src_ids, src_keep;
  pad_batch(src, o.pad_id, src_ids, src_keep);
  DecodeState st = model.start_decoding(src_ids, src_keep);
  st.use_cache = o.kv_cache;
  return st;
}
}  // namespace

std::vector<Hypothesis> greedy_decode(Seq2SeqModel& model,
                                      const std::vector<std::vector<int64_t>>& src,
                                      const DecodeOptions& o) {
  NoGradGuard no_grad;
  EvalScope eval(model);
  DecodeState st = start(model, src, o);
  const size_t B = src.size();
  std::vector<Hypothesis> hyps(B);
  std::vector<int64_t> next(B, o.bos_id);
  std::vector<bool> done(B, false);
  std::vector<int64_t> cap(B);
  int64_t longest_cap = 0;
  for (size_t b = 0; b < B; ++b) {
    cap[b] = length_cap(src[b].size(), o);
    longest_cap = std::max(longest_cap, cap[b]);
  }
  for (int64_t step = 0; step < longest_cap; ++step) {
    auto lp = log_probs(model.decode_step(st, next));
    bool all_done = true;
    for (size_t b = 0; b < B; ++b) {
      if (step == cap[b]) done[b] = true;  // this sentence's own limit
      if (done[b]) {
        // A finished row keeps decoding harmlessly (rows never interact); its output is ignored.
        next[b] = o.pad_id;
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
      next[b] = best;
    }
    if (all_done) break;
  }
  return hyps;
}

Hypothesis beam_search(Seq2SeqModel& model, const std::vector<int64_t>& src,
                       const DecodeOptions& o) {
  if (o.beam < 1) throw std::invalid_argument("beam_search: beam must be at least 1");
  NoGradGuard no_grad;
  EvalScope eval(model);
  DecodeState st = start(model, {src}, o);

  struct Beam {
    std::vector<int64_t> tokens;  // generated so far, without <bos>
    float log_prob;
  };
  auto score = [&](const Hypothesis& h) {
    // Length normalisation: without it, shorter hypotheses always win (fewer log-probs < 0).
    return h.log_prob /
           std::pow(static_cast<float>(std::max<size_t>(1, h.tokens.size())), o.length_penalty);
  };
  std::vector<Beam> beams{{{}, 0.f}};
  std::vector<int64_t> next{o.bos_id};
  std::vector<Hypothesis> finished;
  const int64_t steps = length_cap(src.size(), o);
  for (int64_t step = 0; step < steps && !beams.empty(); ++step) {
    auto lp = log_probs(model.decode_step(st, next));
    struct Cand {
      float lp;
      int64_t beam, token;
    };
    std::vector<Cand> cands;
    for (int64_t k = 0; k < static_cast<int64_t>(beams.size()); ++k)
      for (int64_t v = 0; v < static_cast<int64_t>(lp[k].size()); ++v)
        cands.push_back({beams[k].log_prob + lp[k][v], k, v});
    // Highest log-probability first; ties broken by beam then token, so results are stable.
    std::stable_sort(cands.begin(), cands.end(),
                     [](const Cand& a, const Cand& b) { return a.lp > b.lp; });
    std::vector<Beam> kept;
    std::vector<int64_t> parents;
    next.clear();
    for (const Cand& c : cands) {
      if (static_cast<int64_t>(kept.size()) >= o.beam) break;
      if (c.token == o.eos_id) {
        finished.push_back({beams[c.beam].tokens, c.lp});
        if (static_cast<int64_t>(finished.size()) >= o.beam) break;
        continue;
      }
      Beam b = beams[c.beam];
      b.tokens.push_back(c.token);
      b.log_prob = c.lp;
      kept.push_back(std::move(b));
      parents.push_back(c.beam);
      next.push_back(c.token);
    }
    if (static_cast<int64_t>(finished.size()) >= o.beam) {
      beams.clear();  // enough finished: the unfinished prefixes are not translations
      break;
    }
    beams = std::move(kept);
    if (!beams.empty()) st = st.select(parents);
  }
  // Out of steps (max_len): the prefixes still open compete as they are.
  for (auto& b : beams) finished.push_back({b.tokens, b.log_prob});
  return *std::max_element(
      finished.begin(), finished.end(),
      [&](const Hypothesis& a, const Hypothesis& b) { return score(a) < score(b); });
}

}  // namespace qkv::nn
