// Dropout's mask (chapter 04, chapter 14 for the 16 lanes).
//
// The mask is random but must not depend on the thread count. The caller draws one number,
// `base`, from its Generator; block b of the mask (4,096 elements) is then filled from
// generators seeded by (base, b). Blocks can be filled by any thread in any order and the
// mask is the same.
//
// Inside a block, 16 xoshiro256** generators run side by side, element i taking lane i % 16:
// one generator is a serial chain of dependent operations, 16 independent ones are a loop
// the compiler turns into vector instructions.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "autograd/kernels/intrinsics.h"
#include "autograd/kernels/parallel.h"
#include "autograd/random.h"

namespace qkv::kernels {

constexpr int64_t kDropoutBlock = 4096;  // elements per block of the mask, each seeded alone

// Block b of dropout_mask's mask (below), only its elements in [begin, end) written (the
// block's random numbers are drawn from its start either way).
template <class Mask>
void dropout_block(Mask* m, int64_t n, float p, uint64_t base, const float* x, float* y, int64_t b,
                   int64_t begin, int64_t end) {
  static_assert(std::is_same<Mask, float>::value || std::is_same<Mask, uint8_t>::value,
                "a float mask (0 or 1/(1-p)) or a byte mask (0 or 1)");
  const float keep_scale = 1.f / (1.f - p);
  // Compare 24 random bits against p·2²⁴: the same test as uniform() < p, without floats.
  const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(p) * 16777216.0);
  constexpr int kLanes = 16;
  uint64_t s0[kLanes], s1[kLanes], s2[kLanes], s3[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    Generator seeder(base ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(b * kLanes + l + 1)));
    s0[l] = seeder.next_u64();
    s1[l] = seeder.next_u64();
    s2[l] = seeder.next_u64();
    s3[l] = seeder.next_u64();
  }
  const int64_t block_end = std::min({n, (b + 1) * kDropoutBlock, end});
#if defined(__AVX512F__)
  // The 16 generators' state in eight vector registers for the whole block, 8 lanes in each
  // (chapter 14, the ninth round). Written as a loop over the arrays, g++ vectorised each step
  // but, with its SLP pass off (Makefile), sent the state through memory at every step; the
  // block took about twice as long. x·5 and x·9 are shifts and adds: the same bits, without
  // the slow 64-bit vector multiply.
  __m512i a0 = _mm512_loadu_si512(s0), a1 = _mm512_loadu_si512(s1);
  __m512i a2 = _mm512_loadu_si512(s2), a3 = _mm512_loadu_si512(s3);
  __m512i b0 = _mm512_loadu_si512(s0 + 8), b1 = _mm512_loadu_si512(s1 + 8);
  __m512i b2 = _mm512_loadu_si512(s2 + 8), b3 = _mm512_loadu_si512(s3 + 8);
  auto step = [](__m512i& v0, __m512i& v1, __m512i& v2, __m512i& v3) {  // one xoshiro256**
    const __m512i r = _mm512_add_epi64(v1, _mm512_slli_epi64(v1, 2));   // s1·5
    const __m512i q = _mm512_rol_epi64(r, 7);
    const __m512i out = _mm512_add_epi64(q, _mm512_slli_epi64(q, 3));  // ·9
    const __m512i t = _mm512_slli_epi64(v1, 17);
    v2 = _mm512_xor_si512(v2, v0);
    v3 = _mm512_xor_si512(v3, v1);
    v1 = _mm512_xor_si512(v1, v2);
    v0 = _mm512_xor_si512(v0, v3);
    v2 = _mm512_xor_si512(v2, t);
    v3 = _mm512_rol_epi64(v3, 45);
    return out;
  };
#endif
  for (int64_t i0 = b * kDropoutBlock; i0 < block_end; i0 += kLanes) {
    uint64_t bits[kLanes];
#if defined(__AVX512F__)
    const __m512i bits_lo = step(a0, a1, a2, a3), bits_hi = step(b0, b1, b2, b3);
#else
    for (int l = 0; l < kLanes; ++l) {  // one xoshiro256** step in every lane
      const uint64_t r = s1[l] * 5;
      bits[l] = ((r << 7) | (r >> 57)) * 9;
      const uint64_t t = s1[l] << 17;
      s2[l] ^= s0[l];
      s3[l] ^= s1[l];
      s1[l] ^= s2[l];
      s0[l] ^= s3[l];
      s2[l] ^= t;
      s3[l] = (s3[l] << 45) | (s3[l] >> 19);
    }
#endif
    if (i0 + kLanes <= begin) continue;  // before the range: drawn, not written
    const int64_t count = std::min<int64_t>(kLanes, block_end - i0);
    const int64_t first = std::max<int64_t>(0, begin - i0);
    const Mask kept = std::is_same<Mask, float>::value ? Mask(keep_scale) : Mask(1);
#if defined(__AVX512F__)
    // A whole vector of 16: the same test on all 16 lanes at once, into a mask register, and
    // the same products. g++'s own vectors for the loops below narrowed the 64-bit lanes to
    // bytes word by word: the byte mask took twice as long to draw as this (chapter 14).
    if (first == 0 && count == kLanes && threshold < (uint64_t{1} << 24)) {
      // bits >> 40 < threshold exactly when bits < threshold·2⁴⁰ (which needs threshold < 2²⁴,
      // p < 1: every caller checks p, and p = 1 takes the loops below, dropping everything)
      const __m512i t = _mm512_set1_epi64(static_cast<long long>(threshold << 40));
      const __mmask16 keep = static_cast<__mmask16>(_mm512_cmpge_epu64_mask(bits_lo, t) |
                                                    (_mm512_cmpge_epu64_mask(bits_hi, t) << 8));
      const __m512 factor = _mm512_maskz_mov_ps(keep, _mm512_set1_ps(keep_scale));  // 0 or 1/(1−p)
      if constexpr (std::is_same<Mask, float>::value) {
        if (m) _mm512_storeu_ps(m + i0, factor);
      } else if (m) {  // uint8_t: 16 bytes of 0 or 1
#if defined(__AVX512BW__) && defined(__AVX512VL__)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(m + i0), _mm_maskz_set1_epi8(keep, 1));
#else
        for (int l = 0; l < kLanes; ++l) m[i0 + l] = static_cast<Mask>((keep >> l) & 1);
#endif
      }
      if (y) _mm512_storeu_ps(y + i0, _mm512_mul_ps(_mm512_loadu_ps(x + i0), factor));
      continue;
    }
    _mm512_storeu_si512(bits, bits_lo);  // the element-by-element path below reads them
    _mm512_storeu_si512(bits + 8, bits_hi);
#endif
    if (m)
      for (int64_t l = first; l < count; ++l)
        m[i0 + l] = (bits[l] >> 40) < threshold ? Mask(0) : kept;
    if (y)
      for (int64_t l = first; l < count; ++l)
        y[i0 + l] = x[i0 + l] * ((bits[l] >> 40) < threshold ? 0.f : keep_scale);
  }
}

// Each element is dropped with probability p. Mask = float: m[i] = 0 if dropped, else
// 1/(1−p) (inverted dropout: eval needs no rescaling). Mask = uint8_t: m[i] = 0 or 1, a
// quarter of the memory for a mask kept until backward. With x and y given, also
// y[i] = x[i]·(0 or 1/(1−p)) in the same pass (y may be x); m may then be nullptr.
template <class Mask>
void dropout_mask(Mask* m, int64_t n, float p, uint64_t base, const float* x = nullptr,
                  float* y = nullptr) {
  const int64_t blocks = (n + kDropoutBlock - 1) / kDropoutBlock;
  RegionEnd end;
#pragma omp parallel if (n >= kParallelMin)
  {
#pragma omp for schedule(static) nowait
    for (int64_t b = 0; b < blocks; ++b) dropout_block(m, n, p, base, x, y, b, 0, n);
    end.done(omp_get_thread_num());
  }
}

// The same mask, only its elements [begin, end), on the calling thread: for an op that splits
// its rows among the threads of its own region (dropout_add_layer_norm). A block that straddles
// two threads' ranges is drawn by both, each writing its own part.
template <class Mask>
void dropout_mask_range(Mask* m, int64_t n, float p, uint64_t base, const float* x, float* y,
                        int64_t begin, int64_t end) {
  for (int64_t b = begin / kDropoutBlock; b * kDropoutBlock < end; ++b)
    dropout_block(m, n, p, base, x, y, b, begin, end);
}

// dx[i] += dy[i]·(0 or scale) for the byte mask above, i in [0, n), on the calling thread
// (add false: dx[i] = it, dx is new). One copy of the arithmetic for dropout's backward and
// for dropout_add_layer_norm's, which must give the same bits.
inline void dropout_backward_range(float* dx, const float* dy, const uint8_t* keep, int64_t n,
                                   float scale, bool add) {
  if (add) {
    for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (keep[i] ? scale : 0.f);
  } else {  // dx is new: write every element (Tensor::grad_buffer_for_write)
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (keep[i] ? scale : 0.f);
  }
}

// The same over all n elements, the threads taking equal shares.
inline void dropout_backward(float* dx, const float* dy, const uint8_t* keep, int64_t n,
                             float scale, bool add = true) {
  RegionEnd region_end;
#pragma omp parallel if (n >= kParallelMin)
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    dropout_backward_range(dx + begin, dy + begin, keep + begin, end - begin, scale, add);
    region_end.done(static_cast<int>(t));
  }
}

}  // namespace qkv::kernels
