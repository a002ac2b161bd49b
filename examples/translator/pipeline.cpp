#include "examples/translator/pipeline.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>

#include "nn/decoding.h"

namespace qkv::app {

BatchTensors to_tensors(const data::Batch& b) {
  const int64_t B = b.batch_size, S = b.src_len, T = b.tgt_len;
  // Ids become float tensor values here, exactly: a vocabulary is far below 2^24 tokens
  // (autograd/token_id.h).
  auto as_floats = [](const auto& v) { return std::vector<float>(v.begin(), v.end()); };
  BatchTensors t;
  t.src = Tensor::from_vector(as_floats(b.src), {B, S});
  t.src_keep = Tensor::from_vector(as_floats(b.src_keep), {B, S});
  t.tgt_in = Tensor::from_vector(as_floats(b.tgt_in), {B, T});
  t.tgt_keep = Tensor::from_vector(as_floats(b.tgt_keep), {B, T});
  t.tgt_out = Tensor::from_vector(as_floats(b.tgt_out), {B * T});
  t.tokens = b.src_tokens() + b.tgt_tokens();
  return t;
}

std::vector<std::vector<TokenId>> translate_ids(nn::Seq2SeqTransformer& model,
                                                const std::vector<std::vector<TokenId>>& sources,
                                                const TranslateOptions& o) {
  nn::DecodeOptions d;
  d.bos_id = data::Vocab::kBos;
  d.eos_id = data::Vocab::kEos;
  d.pad_id = data::Vocab::kPad;
  d.beam = o.beam;
  d.length_penalty = o.length_penalty;
  auto max_len_for = [&](size_t src_len) {
    const int64_t cap = model.config.max_len - 1;
    return std::min(cap, o.max_len > 0 ? o.max_len : static_cast<int64_t>(2 * src_len + 10));
  };
  std::vector<std::vector<TokenId>> out(sources.size());
  if (o.beam > 1) {
    for (size_t i = 0; i < sources.size(); ++i) {
      d.max_len = max_len_for(sources[i].size());
      out[i] = nn::beam_search(model, sources[i], d).tokens;
    }
    return out;
  }
  // Greedy, in batches of similar source length (less padding, fewer wasted steps).
  std::vector<size_t> order(sources.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(o.batch)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(o.batch));
    std::vector<std::vector<TokenId>> batch;
    for (size_t k = start; k < end; ++k) batch.push_back(sources[order[k]]);
    // 0: each sentence gets its own limit (2 × its length + 10), not its batch's longest.
    d.max_len = o.max_len > 0 ? std::min(model.config.max_len - 1, o.max_len) : 0;
    d.max_len_cap = model.config.max_len - 1;
    auto hyps = nn::greedy_decode(model, batch, d);
    for (size_t k = start; k < end; ++k) out[order[k]] = std::move(hyps[k - start].tokens);
  }
  return out;
}

std::vector<int64_t> to_ids(const data::Vocab& vocab, const std::vector<std::string>& tokens) {
  std::vector<int64_t> ids;
  for (const auto& t : tokens) ids.push_back(vocab.id(t));
  return ids;
}

std::vector<std::string> to_tokens(const data::Vocab& vocab, const std::vector<int64_t>& ids) {
  std::vector<std::string> out;
  for (int64_t id : ids) out.push_back(vocab.token(id));
  return out;
}

Evaluation evaluate(nn::Seq2SeqTransformer& model, const std::vector<data::SentencePair>& test,
                    const data::Vocab& src_vocab, const data::Vocab& tgt_vocab,
                    const TranslateOptions& options) {
  std::vector<std::vector<TokenId>> sources;
  std::vector<std::vector<std::string>> refs;
  for (const auto& p : test) {
    sources.push_back(to_ids(src_vocab, p.src_tokens));
    refs.push_back(p.tgt_tokens);
  }
  Evaluation e;
  for (const auto& ids : translate_ids(model, sources, options))
    e.hypotheses.push_back(to_tokens(tgt_vocab, ids));
  e.exact_match = nn::exact_match(e.hypotheses, refs);
  e.bleu = nn::corpus_bleu(e.hypotheses, refs);
  // Rank by edit distance relative to the reference length (ties: the earlier pair first).
  std::vector<double> badness(test.size());
  for (size_t i = 0; i < test.size(); ++i) {
    std::vector<std::vector<std::string>> pair{e.hypotheses[i], refs[i]};
    std::vector<nn::TokenSeq> ids;
    std::map<std::string, int64_t> intern;
    for (const auto& s : pair) {
      nn::TokenSeq seq;
      for (const auto& tok : s)
        seq.push_back(intern.emplace(tok, static_cast<int64_t>(intern.size())).first->second);
      ids.push_back(seq);
    }
    badness[i] = static_cast<double>(nn::edit_distance(ids[0], ids[1])) /
                 static_cast<double>(std::max<size_t>(1, refs[i].size()));
  }
  e.worst.resize(test.size());
  std::iota(e.worst.begin(), e.worst.end(), size_t{0});
  std::stable_sort(e.worst.begin(), e.worst.end(),
                   [&](size_t a, size_t b) { return badness[a] > badness[b]; });
  while (!e.worst.empty() && badness[e.worst.back()] == 0) e.worst.pop_back();
  return e;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600,
                  (static_cast<int>(s) % 3600) / 60);
  return buf;
}

}  // namespace qkv::app
