#include "data/batch.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "data/rng.h"

namespace qkv::data {

std::vector<EncodedPair> encode_pairs(const std::vector<SentencePair>& pairs,
                                      const Vocab& src_vocab, const Vocab& tgt_vocab) {
  std::vector<EncodedPair> out;
  out.reserve(pairs.size());
  for (const auto& p : pairs)
    out.push_back({src_vocab.encode(p.src_tokens), tgt_vocab.encode(p.tgt_tokens)});
  return out;
}

int64_t Batch::src_tokens() const {
  return std::accumulate(src_lengths.begin(), src_lengths.end(), int64_t{0});
}
int64_t Batch::tgt_tokens() const {
  return std::accumulate(tgt_lengths.begin(), tgt_lengths.end(), int64_t{0});
}

Batch make_batch(const std::vector<EncodedPair>& data, const std::vector<size_t>& rows,
                 TokenId pad_id, TokenId bos_id, TokenId eos_id) {
  if (rows.empty()) throw std::invalid_argument("make_batch: no rows");
  Batch b;
  b.batch_size = static_cast<int>(rows.size());
  for (size_t r : rows) {
    if (r >= data.size())
      throw std::invalid_argument("make_batch: row " + std::to_string(r) + " outside the " +
                                  std::to_string(data.size()) + " pairs");
    if (data[r].src.empty())
      throw std::invalid_argument("make_batch: pair " + std::to_string(r) + " has an empty source");
    b.src_len = std::max(b.src_len, static_cast<int>(data[r].src.size()));
    b.tgt_len = std::max(b.tgt_len, static_cast<int>(data[r].tgt.size()) + 1);
  }
  const int B = b.batch_size, S = b.src_len, T = b.tgt_len;
  b.src.assign(size_t(B) * S, pad_id);      // [B,S]
  b.src_keep.assign(size_t(B) * S, 0);      // [B,S]
  b.tgt_in.assign(size_t(B) * T, pad_id);   // [B,T]
  b.tgt_out.assign(size_t(B) * T, pad_id);  // [B,T]
  b.tgt_keep.assign(size_t(B) * T, 0);      // [B,T]
  for (int i = 0; i < B; ++i) {
    const EncodedPair& p = data[rows[i]];
    const int n = static_cast<int>(p.src.size());
    for (int s = 0; s < n; ++s) {
      b.src[i * S + s] = p.src[s];
      b.src_keep[i * S + s] = 1;
    }
    const int m = static_cast<int>(p.tgt.size());
    b.tgt_in[i * T] = bos_id;  // position 0 reads <bos> …
    for (int t = 0; t < m; ++t) {
      b.tgt_in[i * T + t + 1] = p.tgt[t];  // … then the target shifted right by one
      b.tgt_out[i * T + t] = p.tgt[t];
    }
    b.tgt_out[i * T + m] = eos_id;  // the last real position predicts <eos>
    for (int t = 0; t <= m; ++t) b.tgt_keep[i * T + t] = 1;
    b.src_lengths.push_back(n);
    b.tgt_lengths.push_back(m + 1);
    b.indices.push_back(rows[i]);
  }
  return b;
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<EncodedPair>& data,
                                              const BatchOptions& opt, uint64_t epoch) {
  if (opt.batch_size == 0 && opt.max_tokens == 0)
    throw std::invalid_argument("plan_batches: batch_size and max_tokens are both 0");
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // One generator per epoch, derived from (seed, epoch): epoch 3 is the same whether or
  // not epochs 0–2 were drawn first.
  Rng rng(Rng(opt.seed).next() ^ (epoch * 0xD1B54A32D192ED03ull));
  if (opt.shuffle) shuffle(order, rng);

  auto src_len = [&](size_t i) { return data[i].src.size(); };
  auto tgt_len = [&](size_t i) { return data[i].tgt.size() + 1; };
  // Bucketing: sort each chunk of the shuffled order by length (stable: ties keep their
  // shuffled order). Neighbours then have similar lengths; chunk_size 1 sorts nothing.
  const size_t chunk = std::max<size_t>(opt.chunk_size, 1);
  if (opt.shuffle)
    for (size_t start = 0; start < order.size(); start += chunk)
      std::stable_sort(order.begin() + start, order.begin() + std::min(order.size(), start + chunk),
                       [&](size_t a, size_t b) {
                         return src_len(a) != src_len(b) ? src_len(a) < src_len(b)
                                                         : tgt_len(a) < tgt_len(b);
                       });
  // Cut the order into batches: a fixed row count, or as many rows as fit the budget.
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  size_t longest = 0;  // max(S, T) of the batch being filled
  for (size_t i : order) {
    const size_t len = std::max(src_len(i), tgt_len(i));
    const bool full =
        opt.max_tokens > 0
            ? !current.empty() && (current.size() + 1) * std::max(longest, len) > opt.max_tokens
            : current.size() == opt.batch_size;
    if (full) {
      batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, len);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  if (opt.shuffle) shuffle(batches, rng);  // so lengths do not rise through each chunk
  return batches;
}

std::vector<Batch> make_batches(const std::vector<EncodedPair>& data, const BatchOptions& opt,
                                uint64_t epoch) {
  std::vector<Batch> out;
  for (const auto& rows : plan_batches(data, opt, epoch)) out.push_back(make_batch(data, rows));
  return out;
}

}  // namespace qkv::data
