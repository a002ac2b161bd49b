// A seq2seq batch's loss in shards (nn/data_parallel.h, chapter 14's fourteenth round): the
// rows of every tensor of the batch cut the same way, each shard's cross-entropy weighted by
// its share of the batch's target tokens, so that the shards' losses add up to the batch's.
#pragma once

#include <cstdint>

#include "autograd/tensor.h"
#include "nn/data_parallel.h"
#include "nn/transformer.h"

namespace qkv::nn {

// The tensors of one batch of sentence pairs, as Seq2SeqTransformer::forward takes them.
struct Seq2SeqBatch {
  Tensor src, src_keep;     // [B, S]
  Tensor tgt_in, tgt_keep;  // [B, T]
  Tensor tgt_out;           // [B·T] target ids; `pad` ones do not count
};

// Shard s's part of the batch's mean cross-entropy over its non-pad targets (label smoothing
// `smoothing`), on `model`: its mean over its own targets times its share of the batch's.
// batch_targets: count_targets(b, pad), counted once for all the shards.
Tensor seq2seq_shard_loss(Seq2SeqTransformer& model, const Seq2SeqBatch& b, ShardRows rows,
                          int64_t batch_targets, int64_t pad, float smoothing);

// The batch's non-pad targets.
int64_t count_targets(const Seq2SeqBatch& b, int64_t pad);

// The forward and backward passes of a batch in dp.shards() shards (DataParallel::backward);
// returns the batch's loss.
float seq2seq_backward_in_shards(DataParallel<Seq2SeqTransformer>& dp, const Seq2SeqBatch& b,
                                 int64_t pad, float smoothing);

}  // namespace qkv::nn
