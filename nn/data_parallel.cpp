#include "nn/data_parallel.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <string>

#include "autograd/kernels/parallel.h"
#include "nn/layers.h"

namespace qkv::nn {

ShardRows shard_rows(int64_t n, int shards, int s) {
  if (shards < 1 || s < 0 || s >= shards)
    throw std::invalid_argument("shard_rows: shard " + std::to_string(s) + " of " +
                                std::to_string(shards));
  const int64_t base = n / shards, extra = n % shards;
  const int64_t begin = s * base + std::min<int64_t>(s, extra);
  return {begin, begin + base + (s < extra ? 1 : 0)};
}

void seed_replica_dropout(const Module& model, Module& replica, int shard) {
  const auto from = model.named_modules(), to = replica.named_modules();
  if (from.size() != to.size())
    throw std::invalid_argument(
        "seed_replica_dropout: the replica's modules differ from the model's");
  for (size_t i = 0; i < from.size(); ++i) {
    const auto* a = dynamic_cast<const Dropout*>(from[i].second.get());
    auto* b = dynamic_cast<Dropout*>(to[i].second.get());
    if (!a || !b) continue;
    // One 64-bit seed from the model's whole state and the shard: each word turned a different
    // amount so that equal words do not cancel. Generator's seeding spreads it (SplitMix64).
    const Generator::State st = a->generator().get_state();
    uint64_t seed = static_cast<uint64_t>(shard) * 0x9E3779B97F4A7C15ull;
    for (int w = 0; w < 4; ++w) seed ^= (st.s[w] << (13 * w)) | (w ? st.s[w] >> (64 - 13 * w) : 0);
    b->generator().manual_seed(seed);
  }
}

namespace {

// model's gradients += each replica's, in shard order, as one parallel loop over all the
// parameters' elements end to end (one region, not one per parameter). A parameter the model
// has no gradient for yet gets a new buffer, written with the first replica's values.
void add_replica_gradients(const std::vector<Module*>& models) {
  struct Sum {
    float* dst;
    bool fresh;  // dst is new: the first source is written, not added
    std::vector<const float*> srcs;
    int64_t n;
  };
  const std::vector<Tensor> mine = models[0]->parameters();
  std::vector<std::vector<Tensor>> theirs;
  for (size_t s = 1; s < models.size(); ++s) theirs.push_back(models[s]->parameters());
  std::vector<Sum> sums;
  std::vector<Tensor> keep;  // the replicas' gradient tensors, alive until the sum is done
  int64_t total = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    Sum sum{nullptr, false, {}, mine[i].numel()};
    for (const auto& params : theirs) {
      Tensor g = params[i].grad();
      if (!g.defined()) continue;
      sum.srcs.push_back(g.data());
      keep.push_back(g);
    }
    if (sum.srcs.empty()) continue;
    sum.dst = mine[i].grad_buffer_for_write(&sum.fresh).data();
    total += sum.n;
    sums.push_back(std::move(sum));
  }
  const int64_t chunks = (total + 15) / 16;
#pragma omp parallel if (total >= kernels::kParallelMin)
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    const int64_t lo = chunks * t / threads * 16,
                  hi = std::min(total, chunks * (t + 1) / threads * 16);
    int64_t start = 0;  // of the current parameter in the end-to-end numbering
    for (const Sum& sum : sums) {
      const int64_t begin = std::max(lo, start) - start, end = std::min(hi, start + sum.n) - start;
      start += sum.n;
      if (begin >= end) continue;
      float* __restrict d = sum.dst;
      for (size_t k = 0; k < sum.srcs.size(); ++k) {
        const float* __restrict src = sum.srcs[k];
        if (k == 0 && sum.fresh) {
#pragma omp simd
          for (int64_t e = begin; e < end; ++e) d[e] = src[e];
        } else {
#pragma omp simd
          for (int64_t e = begin; e < end; ++e) d[e] += src[e];
        }
      }
    }
  }
  for (size_t s = 1; s < models.size(); ++s) models[s]->zero_grad();
}

}  // namespace

float backward_in_shards(const std::vector<Module*>& models,
                         const std::function<Tensor(int shard)>& loss_of) {
  const int shards = static_cast<int>(models.size());
  if (shards < 1) throw std::invalid_argument("backward_in_shards: no model");
  std::vector<Tensor> losses(static_cast<size_t>(shards));
  std::vector<float> values(static_cast<size_t>(shards), 0.f);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(shards));
  // One thread per shard at most; with one shard, no region, so that the kernels split each
  // op among all the threads as usual.
  const int threads = std::min(shards, omp_get_max_threads());
#pragma omp parallel num_threads(threads) if (shards > 1)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    for (int s = t; s < shards; s += n) {
      try {
        losses[s] = loss_of(s);
        values[s] = losses[s].item();
      } catch (...) {
        errors[s] = std::current_exception();
      }
    }
#pragma omp barrier
    bool go = true;  // every thread reads every shard's outcome, after the barrier
    for (int s = 0; s < shards; ++s) go = go && !errors[s] && std::isfinite(values[s]);
    for (int s = t; go && s < shards; s += n) {
      try {
        if (losses[s].requires_grad()) losses[s].backward();  // else a constant: no gradient
        losses[s] = Tensor();  // the graph (the shard's activations) is freed by its own thread
      } catch (...) {
        errors[s] = std::current_exception();
      }
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  float sum = 0.f;
  for (float v : values) sum += v;
  if (!std::isfinite(sum)) return sum;
  if (shards > 1) add_replica_gradients(models);
  return sum;
}

}  // namespace qkv::nn
