// The data layer's random numbers (chapter 12): splitmix64, the algorithm under every random
// number in qkv (autograd/random.h), drawn from directly.
//
// std::shuffle and std::uniform_int_distribution are free to use different algorithms in
// libstdc++ and libc++, so the same seed could give a different corpus split or batch
// order on another machine. splitmix64 gives the same numbers everywhere. The data layer does
// not use Generator's xoshiro256** stream on top of it: the committed corpora
// (data/corpora/*.tsv), the shuffles and the batch orders every quoted run trained on were
// drawn from splitmix64 itself, and would all change.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autograd/random.h"

namespace qkv::data {

using Rng = SplitMix64;

// Fisher–Yates: walk down from the end, swap each slot with a random earlier-or-same one.
template <typename T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
}

template <typename T>
void shuffle(std::vector<T>& items, uint64_t seed) {
  Rng rng(seed);
  shuffle(items, rng);
}

// A seeded 64-bit hash of bytes, stable across platforms (std::hash is not): FNV-1a over
// the bytes, then the splitmix64 mixer so that every output bit depends on every input bit.
inline uint64_t stable_hash(const std::string& bytes, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return Rng(h ^ seed).next();
}

}  // namespace qkv::data
