#include "nn/seq2seq_shards.h"

#include "autograd/ops.h"

namespace qkv::nn {

int64_t count_targets(const Seq2SeqBatch& b, int64_t pad) {
  const float* out = b.tgt_out.data();
  int64_t n = 0;
  for (int64_t i = 0; i < b.tgt_out.numel(); ++i) n += out[i] != static_cast<float>(pad);
  return n;
}

Tensor seq2seq_shard_loss(Seq2SeqTransformer& model, const Seq2SeqBatch& b, ShardRows rows,
                          int64_t batch_targets, int64_t pad, float smoothing) {
  const int64_t T = b.tgt_in.size(1), r0 = rows.begin, r1 = rows.end;
  if (r1 <= r0) return Tensor::scalar(0.f);  // more shards than sentences: an empty shard
  const Seq2SeqBatch mine{slice(b.src, 0, r0, r1), slice(b.src_keep, 0, r0, r1),
                          slice(b.tgt_in, 0, r0, r1), slice(b.tgt_keep, 0, r0, r1),
                          slice(b.tgt_out, 0, r0 * T, r1 * T)};
  // A shard of padding only adds nothing to the batch's loss (its share is 0, its own mean 0/0):
  // a constant 0, which backward_in_shards does not differentiate.
  const int64_t targets = count_targets(mine, pad);
  if (targets == 0) return Tensor::scalar(0.f);
  Tensor logits = model.forward(mine.src, mine.src_keep, mine.tgt_in, mine.tgt_keep);
  Tensor loss = cross_entropy(reshape(logits, {(r1 - r0) * T, logits.size(-1)}), mine.tgt_out, pad,
                              smoothing);
  return loss *
         static_cast<float>(static_cast<double>(targets) / static_cast<double>(batch_targets));
}

float seq2seq_backward_in_shards(DataParallel<Seq2SeqTransformer>& dp, const Seq2SeqBatch& b,
                                 int64_t pad, float smoothing) {
  const int64_t all = count_targets(b, pad), rows = b.src.size(0);
  return dp.backward([&](int s, Seq2SeqTransformer& m) {
    return seq2seq_shard_loss(m, b, shard_rows(rows, dp.shards(), s), all, pad, smoothing);
  });
}

}  // namespace qkv::nn
