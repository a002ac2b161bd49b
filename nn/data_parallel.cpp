#include "nn/data_parallel.h"

#include <omp.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "autograd/engine.h"
#include "nn/layers.h"

namespace qkv::nn {

bool choose_heaps_for_shards(int64_t parameters, int shards) {
#if defined(__GLIBC__)
  constexpr int64_t kHeapBytes = int64_t(64) << 20;  // glibc's heap for a thread's arena
  if (shards < 2 || parameters * static_cast<int64_t>(sizeof(float)) <= kHeapBytes) return false;
  mallopt(M_ARENA_MAX, 1);
  return true;
#else
  (void)parameters;
  (void)shards;
  return false;
#endif
}

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

// Each parameter's gradients, added across the shards in shard order as soon as they are
// final: the engine says when (run_backward's leaf_done, right after the last op that reads
// the parameter), on the thread of that shard's backward pass. Shard s's gradient is added
// to the model's once the model's own (shard 0's) and every shard's before s have been, by
// whichever thread makes that true, and the replica's buffer is dropped at once. So the order
// of the additions is ((g0 + g1) + g2) + … whatever the threads' timing, and a replica's
// gradients do not all wait for the end of the step: at the base model, all of them held at
// once would be 226 MB.
class GradientFolds {
 public:
  explicit GradientFolds(const std::vector<Module*>& models)
      : shards_(static_cast<int>(models.size())) {
    for (const Module* m : models) params_.push_back(m->parameters());
    const size_t n = params_[0].size();
    folds_ = std::make_unique<Fold[]>(n);
    for (size_t p = 0; p < n; ++p) {
      index_[params_[0][p].data()] = p;  // a replica's parameter shares these floats
      folds_[p].final.assign(static_cast<size_t>(shards_), 0);
    }
  }

  // From shard s's backward pass: `leaf`'s gradient in that shard is final.
  void final(int s, const Tensor& leaf) {
    const auto it = index_.find(leaf.data());
    if (it == index_.end()) return;  // not a parameter of the model
    Fold& f = folds_[it->second];
    std::lock_guard<std::mutex> lock(f.mutex);
    f.final[static_cast<size_t>(s)] = 1;
    while (f.final[0] && f.next < shards_ && f.final[static_cast<size_t>(f.next)])
      add(it->second, f.next++);
  }

  // After every backward pass: what is left, in shard order (a shard whose pass never read a
  // parameter has no final signal for it, nor a gradient).
  void finish() {
    for (size_t p = 0; p < params_[0].size(); ++p)
      for (; folds_[p].next < shards_; ++folds_[p].next) add(p, folds_[p].next);
  }

 private:
  struct Fold {
    std::mutex mutex;
    std::vector<char> final;  // per shard: its gradient will not change any more
    int next = 1;             // the next shard to add to the model's gradient
  };

  // The model's gradient of parameter p += shard s's, which is then dropped. If the model has
  // none yet, a new buffer gets shard s's values.
  void add(size_t p, int s) {
    Tensor& from = params_[static_cast<size_t>(s)][p];
    const Tensor g = from.grad();
    if (!g.defined()) return;
    bool fresh = false;
    Tensor to = params_[0][p].grad_buffer_for_write(&fresh);
    float* __restrict d = to.data();
    const float* __restrict src = g.data();
    const int64_t n = g.numel();
    // Plain loops, not kernels::write_or_add: that one opens a parallel region, which inside the
    // shards' region is a nested one of one thread, and ~100 of those a step cost the tiny model
    // 5 % (6.25-6.34 against 6.54-6.65 ms, 4 interleaved pairs, AMD EPYC Zen 5).
    if (fresh) {
#pragma omp simd
      for (int64_t e = 0; e < n; ++e) d[e] = src[e];
    } else {
#pragma omp simd
      for (int64_t e = 0; e < n; ++e) d[e] += src[e];
    }
    from.zero_grad();
  }

  int shards_;
  std::vector<std::vector<Tensor>> params_;  // [shard][parameter]
  std::unique_ptr<Fold[]> folds_;
  std::unordered_map<const float*, size_t> index_;
};

}  // namespace

float backward_in_shards(const std::vector<Module*>& models,
                         const std::function<Tensor(int shard)>& loss_of) {
  const int shards = static_cast<int>(models.size());
  if (shards < 1) throw std::invalid_argument("backward_in_shards: no model");
  // A replica starts every step without gradients, whatever an earlier step that threw left.
  for (int s = 1; s < shards; ++s) models[static_cast<size_t>(s)]->zero_grad();
  std::vector<Tensor> losses(static_cast<size_t>(shards));
  std::vector<float> values(static_cast<size_t>(shards), 0.f);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(shards));
  std::unique_ptr<GradientFolds> folds;
  if (shards > 1) folds = std::make_unique<GradientFolds>(models);
  auto forward = [&](int s) {
    try {
      losses[s] = loss_of(s);
      values[s] = losses[s].item();
    } catch (...) {
      errors[s] = std::current_exception();
    }
  };
  auto all_finite = [&] {
    for (int s = 0; s < shards; ++s)
      if (errors[s] || !std::isfinite(values[s])) return false;
    return true;
  };
  auto backward = [&](int s) {
    try {
      if (losses[s].requires_grad())  // else a constant: no gradient
        run_backward(losses[s], Tensor(), false, [&](const Tensor& leaf) {
          if (folds) folds->final(s, leaf);
        });
      losses[s] = Tensor();  // the graph (the shard's activations) is freed by its own thread
    } catch (...) {
      errors[s] = std::current_exception();
    }
  };
  const int threads = std::min(shards, omp_get_max_threads());
  if (threads == 1) {
    // One shard, or one thread: no region of our own. (A region of one thread would make
    // every kernel's region a nested one, and libgomp starts new threads for those each time.)
    for (int s = 0; s < shards; ++s) forward(s);
    const bool go = all_finite();
    for (int s = 0; go && s < shards; ++s) backward(s);
  } else {
    // Every region the kernels open inside a shard must have one thread: the shards are the
    // parallelism, and a GEMM's split of the sum (gemm.cpp) keeps its buffers for one team at a
    // time. One active level is OpenMP's default; a user's OMP_MAX_ACTIVE_LEVELS would change it.
    const int levels = omp_get_max_active_levels();
    omp_set_max_active_levels(1);
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), n = omp_get_num_threads();
      for (int s = t; s < shards; s += n) forward(s);
#pragma omp barrier
      const bool go = all_finite();  // every thread reads every shard's outcome, after the barrier
      for (int s = t; go && s < shards; s += n) backward(s);
    }
    omp_set_max_active_levels(levels);
  }
  for (const auto& e : errors) {
    if (!e) continue;
    for (int s = 1; s < shards; ++s)
      models[static_cast<size_t>(s)]->zero_grad();  // not carried over
    std::rethrow_exception(e);
  }
  float sum = 0.f;
  for (float v : values) sum += v;
  if (!std::isfinite(sum)) return sum;
  if (folds) folds->finish();
  return sum;
}

}  // namespace qkv::nn
