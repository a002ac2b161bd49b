// qkv's one random source, the same numbers on every compiler and standard library
// (std::normal_distribution and std::shuffle are not: their algorithms are unspecified).
// One algorithm is under every random number: splitmix64. Generator (tensors, dropout) draws
// from xoshiro256** and seeds its state with splitmix64; the data layer (data/rng.h: corpus
// split, shuffles, batch order, the toy corpus) draws from splitmix64 directly, because the
// committed corpora and every number trained on them were drawn that way (chapter 12).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace qkv {

// splitmix64 (Steele, Lea, Flood 2014): a counter through a strong 64-bit mixer.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
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

// xoshiro256** for bits, its state spread from the seed by splitmix64, Box-Muller for normals.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { manual_seed(seed); }

  void manual_seed(uint64_t seed) {
    SplitMix64 spread(seed);
    for (auto& s : s_) s = spread.next();
    has_spare_ = false;
  }

  // The whole state, as torch.Generator's get_state()/set_state(): a generator set to a
  // saved state continues the saved one's stream (a training checkpoint keeps them).
  struct State {
    uint64_t s[4];
    bool has_spare;  // normal() makes two numbers at a time and keeps the second
    float spare;
  };
  State get_state() const { return {{s_[0], s_[1], s_[2], s_[3]}, has_spare_, spare_}; }
  void set_state(const State& state) {
    for (int i = 0; i < 4; ++i) s_[i] = state.s[i];
    has_spare_ = state.has_spare;
    spare_ = state.spare;
  }

  // A state as one line of text, "s0 s1 s2 s3 spare": xoshiro's four words in 16 hex digits
  // each, then normal()'s kept number as the 8 hex digits of its float bits, or "-" if none
  // (exact, and the same on every machine). state_from_text throws std::invalid_argument
  // for anything else, and for xoshiro's one impossible state, all zeros.
  static std::string state_to_text(const State& g) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%016llx %016llx %016llx %016llx ",
                  static_cast<unsigned long long>(g.s[0]), static_cast<unsigned long long>(g.s[1]),
                  static_cast<unsigned long long>(g.s[2]), static_cast<unsigned long long>(g.s[3]));
    std::string out = buf;
    if (!g.has_spare) return out + "-";
    uint32_t bits;
    std::memcpy(&bits, &g.spare, 4);
    std::snprintf(buf, sizeof buf, "%08x", bits);
    return out + buf;
  }
  static State state_from_text(const std::string& text) {
    auto fail = [&] {
      return std::invalid_argument(
          "malformed generator state '" + text +
          "' (expected four 16-digit hex words, then '-' or 8 hex digits)");
    };
    auto hex = [&](const std::string& word, size_t digits) {
      if (word.size() != digits || word.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw fail();
      return std::stoull(word, nullptr, 16);
    };
    std::istringstream in(text);
    std::string w[5], extra;
    if (!(in >> w[0] >> w[1] >> w[2] >> w[3] >> w[4]) || (in >> extra)) throw fail();
    State g{};
    for (int i = 0; i < 4; ++i) g.s[i] = hex(w[i], 16);
    if ((g.s[0] | g.s[1] | g.s[2] | g.s[3]) == 0) throw fail();
    g.has_spare = w[4] != "-";
    if (g.has_spare) {
      const uint32_t bits = static_cast<uint32_t>(hex(w[4], 8));
      std::memcpy(&g.spare, &bits, 4);
    }
    return g;
  }

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 24 random bits: exactly representable as a float.
  float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [0, n), without modulo bias worth noticing for n << 2^64.
  uint64_t randint(uint64_t n) { return n == 0 ? 0 : next_u64() % n; }

  float normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // Box-Muller in double: u1 in (0, 1] so log(u1) is finite.
    const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    const double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 6.283185307179586476925 * u2;
    spare_ = static_cast<float>(r * std::sin(theta));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(theta));
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  bool has_spare_ = false;
  float spare_ = 0.f;
};

}  // namespace qkv
