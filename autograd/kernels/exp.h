// exp for float that the compiler can vectorise (chapter 14).
//
// The C library's expf is one scalar call per element; g++ only swaps in a vector version
// under -ffast-math, which qkv does not use. softmax, cross-entropy and attention call exp
// once per score, so it was their bottleneck. The textbook method instead:
//
//   x = k·ln2 + r  with k = round(x / ln2), |r| ≤ ln2/2   (ln2 in two parts, so r is exact)
//   eʳ ≈ 1 + r + r²·P(r), P of degree 5 (Cephes' minimax coefficients for expf)
//   eˣ = 2ᵏ·eʳ, 2ᵏ put into the float's exponent bits with integer arithmetic
//
// Every step is a plain arithmetic or bit operation with no branch, so a loop over exp_fast
// becomes vector code; every multiply-add is a std::fma, so vector and scalar code (and every
// thread) give the same bits. Accuracy, tested against std::exp (test_exp.cpp): at most 2 ulp
// apart on [−87.3, 88.3], where both are normal floats. Outside: x < −87.33 gives 0
// (std::exp gives subnormals down to −103.9), x > 88.37 gives +inf (std::exp overflows
// only above 88.72), −inf gives 0 and NaN stays NaN. qkv's callers take exp of x − max ≤ 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace qkv::kernels {

inline float exp_fast(float x) {
  constexpr float kLo = -87.33654f;  // ≈ −126·ln2: 2ᵏ stays a normal float
  constexpr float kHi = 88.376262f;  // ≈ 127.5·ln2: 2ᵏ·eʳ stays finite with k ≤ 127
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi =
      0.693359375f;  // ln2 = kLn2Hi − kLn2Lo; kLn2Hi has 9 bits, k·kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.f;  // 1.5·2²³: adding it rounds to an integer
  // Clamp (NaN passes through both: a comparison with NaN is false).
  const float xc = x < kLo ? kLo : (x > kHi ? kHi : x);
  const float t = std::fma(xc, kLog2e, kRound);  // kRound + k: k sits in the low mantissa bits
  const float kf = t - kRound;                   // round(x / ln2), exactly
  float r = std::fma(kf, -kLn2Hi, xc);
  r = std::fma(kf, -kLn2Lo, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  const float e = std::fma(p, r * r, r + 1.f);  // eʳ, in [0.7, 1.5)
  // ·2ᵏ: add k to the exponent field. k is read from t's bits rather than converted from kf
  // (a float → int conversion of NaN is undefined); unsigned, so no overflow is undefined.
  uint32_t tb, eb;
  std::memcpy(&tb, &t, sizeof tb);
  std::memcpy(&eb, &e, sizeof eb);
  constexpr uint32_t kRoundBits = 0x4B400000u;  // the bits of kRound
  eb += (tb - kRoundBits) << 23;
  float y;
  std::memcpy(&y, &eb, sizeof y);
  y = x < kLo ? 0.f : y;
  y = x > kHi ? std::numeric_limits<float>::infinity() : y;
  return x == x ? y : x;  // NaN in, NaN out
}

}  // namespace qkv::kernels
