// Data parallelism inside one training step (chapter 14, the fourteenth round).
//
// The batch is cut into a fixed number of shards of whole sentences. Each shard runs its
// forward and backward pass on one thread, through its own replica of the model: the same
// weights (Module::share_parameters_of, no copy), gradients of its own. Then the replicas'
// gradients are added to the model's, shard after shard. It is PyTorch's
// DistributedDataParallel inside one process, with threads for processes.
//
// Why, when every kernel already splits its work among the threads: on a host that puts the
// two cores far apart (chapter 14, "Two cores"), every activation that one core writes and the
// other reads costs about four times what reading its own does, and each op opens a parallel
// region. Split by shards, a shard's activations never leave its core, and a step opens one
// region for the shards instead of ~180 for the ops. What crosses is the weights, once each,
// and the gradients, once each.
//
// The numbers depend on the number of shards, never on the number of threads: a shard is
// computed the same way on whichever thread runs it (every kernel gives the same bits on one
// thread as on many), and the gradients are added in shard order. Two shards do not give the
// bits of one: the batch's gradient is summed in another order (and dropout draws other
// masks), so choose the shard count with the run, as the batch size, and keep it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace qkv::nn {

// Rows [begin, end) of shard s when n rows are cut into `shards`: the first n % shards shards
// get one row more than the others.
struct ShardRows {
  int64_t begin, end;
};
ShardRows shard_rows(int64_t n, int shards, int s);

// Seeds every Dropout of `replica` for shard s (s >= 1) from the state of the matching Dropout
// of `model`, so that each shard draws masks of its own, the same on every run and after a
// resumed checkpoint (the replica's state is made from the model's, which a checkpoint keeps).
void seed_replica_dropout(const Module& model, Module& replica, int shard);

// The step's forward and backward passes, shard by shard: shard 0 on models[0] (the model
// being trained), shard s on models[s], a replica. loss_of(s) builds shard s's loss on
// models[s]; the caller slices its batch and weights each shard's loss so that they add up to
// the batch's (a mean over tokens: the shard's token count over the batch's); a loss that
// needs no gradient (a constant, for a shard with nothing to learn) is not differentiated. All
// shards' forward passes run first, in parallel; if any loss is NaN or infinite, nothing more is
// done and that sum is returned. Else every shard's backward runs on the thread of its forward, the
// replicas' gradients are added to the model's in shard order (existing gradients are added
// to, as backward() does), and the replicas' are dropped. Returns the sum of the shard losses'
// values, in shard order. An exception in a shard is rethrown after the region.
float backward_in_shards(const std::vector<Module*>& models,
                         const std::function<Tensor(int shard)>& loss_of);

// Where the threads of a step in shards get their memory (glibc's malloc): each from an arena
// of its own (glibc's default), so that what a thread frees it reuses, still in its own core's
// cache; or all from one, so that what one thread frees the other can reuse and the process's
// peak is the peak of the sum, not the sum of each thread's peaks. Measured (chapter 14, the
// fourteenth round, cores far apart): one arena made the tiny model's two-thread step 1.3 times
// as long; at the base model it took about 55 MB off the peak (1138 to 1167 MB against 1197 to
// 1225), at the same speed. So one arena when
// the model is large, its replica's gradients alone more than a glibc heap (64 MiB: 16.8 million
// parameters). Returns whether it chose one. Only threads that have not allocated yet follow
// the choice: call it before the first step. Without glibc it does nothing and returns false.
bool choose_heaps_for_shards(int64_t parameters, int shards);

// A model and its replicas, for training in `shards` shards. make() builds a model of the same
// architecture; its starting values do not matter (its parameters become the model's).
template <class M>
class DataParallel {
 public:
  DataParallel(M& model, int shards, const std::function<std::shared_ptr<M>()>& make)
      : model_(model) {
    for (int s = 1; s < shards; ++s) {
      replicas_.push_back(make());
      replicas_.back()->share_parameters_of(model);
    }
  }
  int shards() const { return static_cast<int>(replicas_.size()) + 1; }
  M& shard_model(int s) { return s == 0 ? model_ : *replicas_[static_cast<size_t>(s - 1)]; }

  // Seeds the replicas' dropout, matches their train/eval mode to the model's, then runs
  // backward_in_shards with loss_of(s, shard_model(s)).
  float backward(const std::function<Tensor(int shard, M& model)>& loss_of) {
    std::vector<Module*> models{&model_};
    for (size_t i = 0; i < replicas_.size(); ++i) {
      replicas_[i]->train(model_.is_training());
      seed_replica_dropout(model_, *replicas_[i], static_cast<int>(i) + 1);
      models.push_back(replicas_[i].get());
    }
    return backward_in_shards(models, [&](int s) { return loss_of(s, shard_model(s)); });
  }

 private:
  M& model_;
  std::vector<std::shared_ptr<M>> replicas_;
};

}  // namespace qkv::nn
