// A tiny seeded random generator for the data layer (chapter 12).
//
// std::shuffle and std::uniform_int_distribution are free to use different algorithms in
// libstdc++ and libc++, so the same seed could give a different corpus split or batch
// order on another machine. splitmix64 is ten lines and gives the same numbers everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qkv::data {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  // splitmix64 (Steele, Lea, Flood 2014): a counter through a strong 64-bit mixer.
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). The modulo bias is below 2^-40 for the n a corpus needs.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }

 private:
  uint64_t state_;
};

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
