// The fast GEMM (chapter 03): blocked for the caches, packed panels, a register-tiled
// micro-kernel the compiler vectorises, OpenMP over disjoint tiles of C.
//
// The loop nest, outside in (the names follow BLIS and Goto's papers):
//
//   for jc in N, step NC        a block of NC columns of C
//     for pc in K, step KC      a slice of KC terms of the sum over k
//       pack op(B)[pc:pc+KC, jc:jc+NC] into NR-wide panels
//       for ic in M, step MC
//         pack op(A)[ic:ic+MC, pc:pc+KC] into MR-tall panels
//         for jr in NC, step NR
//           for ir in MC, step MR
//             micro_kernel: C[ir:ir+MR, jr:jr+NR] += A panel · B panel   (MR×NR in registers)
//
// Packing turns all four transpose combinations into one layout, so one micro-kernel
// serves them all, and it makes the micro-kernel's loads contiguous. With several threads,
// each runs this whole nest on its own rectangle of C (gemm_on). Every C element is
// summed over k in the same order whatever the thread count: k runs 0..K-1 inside a KC
// slice, the slices are added to C in order, and threads split M or N, or, for a small C
// with a long sum, whole KC slices whose sums are still added to C in order (part_split_k),
// or, two threads on a product of moderate size, claim its rows from opposite ends
// (run_claimed).
#include "autograd/kernels/gemm.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/aligned.h"
#include "autograd/kernels/parallel.h"
#include "autograd/kernels/transpose.h"

namespace qkv::kernels {
namespace {

// The register tile: MR rows × NR columns of C live in vector registers while the k loop
// runs. With AVX-512 (32 registers of 16 floats) the main tile is 6×64 = 24 zmm registers;
// per k step the kernel loads NR/16 = 4 vectors of B, broadcasts MR = 6 values of A and
// issues 24 FMAs: enough independent accumulators to keep both FMA pipes busy through the
// FMA's 4-cycle latency. Narrow products (N <= 32, attention's per-head products) use a
// narrower, taller tile so fewer lanes compute padding. Without AVX-512 (16 registers of 8
// floats) the tile is 6×16 = 12 ymm registers.
#if defined(__AVX512F__)
#define QKV_GEMM_LANES 16
#else
#define QKV_GEMM_LANES 8
#endif

// Compilers tuned for some AVX-512 CPUs (g++ and clang++ for Intel's -march=icelake-server,
// for instance) prefer 256-bit vectors in loops they vectorise on their own; the
// micro-kernel asks for full-width vectors (chapter 03 shows the 2x it is worth).
// Elsewhere these attributes change nothing.
#if defined(__clang__)
#define QKV_WIDE_VECTORS __attribute__((min_vector_width(512)))
#elif defined(__GNUC__) && defined(__x86_64__)
#define QKV_WIDE_VECTORS __attribute__((target("prefer-vector-width=512")))
#else
#define QKV_WIDE_VECTORS
#endif

// Cache blocks (for the 6×64 tile). The micro-kernel walks down the MC rows of the packed A
// block (MC×KC floats, meant to stay in L2) with one KC×NR panel of B (64 KB, L2, its current
// lines in L1); NC columns of packed B (KC×NC floats) sit in L3.
//
// KC is fixed, not derived from the machine: it sets where the sum over k is cut into slices,
// so it decides the rounding of every product with K > KC, and the same program must print
// the same numbers on every machine the project runs on. KC = 128 would keep the B panel in
// a 48 KB L1 as the textbook rule says, but 256 halves the passes over C when K is long and
// measured a few per cent faster (chapter 03).
//
// MC and NC only decide how M and N are cut into blocks, which changes no sum, so they come
// from the cache sizes the machine reports (cache_blocks below): the packed A block fills 3/8
// of L2 (384 rows with the 1 MB L2 of the AMD EPYC Zen 5, 768 with the 2 MB of the Intel Xeon
// of chapter 14), and the packed B block a quarter of L3, capped at 4096 columns (8 MB; an L3
// shared by many cores is not ours alone).
constexpr int64_t KC = 256;
constexpr int64_t kRowMultiple = 24;  // a multiple of every MR below
constexpr int64_t kColMultiple = 64;  // a multiple of every NR below
// C with at most this many rows reads a B that is not transposed in place (reads_b_in_place).
#ifndef QKV_DIRECT_B_ROWS
#define QKV_DIRECT_B_ROWS 128
#endif
constexpr int64_t kDirectBRows = QKV_DIRECT_B_ROWS;

// A cache's size in bytes as the C library reports it, else as Linux's sysfs does, else
// `fallback`. level 1 means the data cache.
int64_t cache_bytes(int level, int64_t fallback) {
  long v = -1;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  v = sysconf(level == 1   ? _SC_LEVEL1_DCACHE_SIZE
              : level == 2 ? _SC_LEVEL2_CACHE_SIZE
                           : _SC_LEVEL3_CACHE_SIZE);
#endif
  if (v > 0) return v;
  for (int index = 0; index < 8; ++index) {  // /sys/devices/system/cpu/cpu0/cache/indexN/
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream lf(dir + "/level"), tf(dir + "/type"), sf(dir + "/size");
    int l = 0;
    std::string type, size;
    if (!(lf >> l) || !(tf >> type) || !(sf >> size)) continue;
    if (l != level || type == "Instruction") continue;
    const int64_t kb = std::atoll(size.c_str());  // "2048K"
    if (kb > 0) return kb * (size.back() == 'M' ? 1024 * 1024 : 1024);
  }
  return fallback;
}

int64_t round_down(int64_t x, int64_t multiple, int64_t lo, int64_t hi) {
  return std::min(hi, std::max(lo, x / multiple * multiple));
}

struct CacheBlocks {
  int64_t MC, NC;
};
const CacheBlocks& cache_blocks() {
  static const CacheBlocks blocks = [] {
    const int64_t l2 = cache_bytes(2, 1 << 20), l3 = cache_bytes(3, 8 << 20);
    const int64_t floats = static_cast<int64_t>(sizeof(float));
    return CacheBlocks{round_down(l2 * 3 / 8 / (KC * floats), kRowMultiple, 96, 1536),
                       round_down(l3 / 4 / (KC * floats), kColMultiple, 512, 4096)};
  }();
  return blocks;
}

// C[i, j] = alpha·acc + beta·C[i, j]; beta == 0 overwrites (NaN in C is ignored).
// One expression for every tile, full or cut short at an edge of C.
inline float combine(float alpha, float acc, float beta, float c) {
  return beta == 0.f ? alpha * acc : alpha * acc + beta * c;
}

// The epilogue of the last k slice: c[j] += bias[j], then ReLU. Two roundings, the same as
// adding the bias in a pass of its own after the product (ops_linear.cpp did that before).
inline void epilogue(float* c, const float* bias, int64_t n, bool relu) {
  if (relu) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) {
      const float v = c[j] + bias[j];
      c[j] = v > 0.f ? v : 0.f;
    }
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) c[j] += bias[j];
  }
}

#if defined(__AVX512F__)
// d[k·6 + i] = s[i·lds + k] for 6 rows and 16 values of k: a slice of a packed A panel of the
// 6×64 tile. Copied element by element, each store lands 6 floats after the last (~1 cycle a
// float, and perf put a third of the packing time there, chapter 14); here each of the 6
// output vectors is gathered from the 6 row vectors by three two-source permutes and two
// blends (~0.2 cycles a float). A copy: the packed values, and so every sum, are unchanged.
struct Interleave6 {
  int idx[6][3][16];                    // per output vector, per row pair (0,1), (2,3), (4,5)
  unsigned short from23[6], from45[6];  // lanes that come from rows 2–3, and from rows 4–5
  constexpr Interleave6() : idx(), from23(), from45() {
    for (int o = 0; o < 6; ++o)
      for (int l = 0; l < 16; ++l) {
        const int p = 16 * o + l, i = p % 6, k = p / 6;  // lane l of output o is row i, k
        for (int q = 0; q < 3; ++q) idx[o][q][l] = i == 2 * q ? k : i == 2 * q + 1 ? 16 + k : 0;
        if (i == 2 || i == 3) from23[o] = static_cast<unsigned short>(from23[o] | 1u << l);
        if (i >= 4) from45[o] = static_cast<unsigned short>(from45[o] | 1u << l);
      }
  }
};
inline void interleave6x16(const float* s, int64_t lds, float* d) {
  static constexpr Interleave6 t{};
  __m512 r[6];
  for (int i = 0; i < 6; ++i) r[i] = _mm512_loadu_ps(s + i * lds);
  for (int o = 0; o < 6; ++o) {
    __m512 v = _mm512_permutex2var_ps(r[0], _mm512_loadu_si512(t.idx[o][0]), r[1]);
    v = _mm512_mask_blend_ps(t.from23[o], v,
                             _mm512_permutex2var_ps(r[2], _mm512_loadu_si512(t.idx[o][1]), r[3]));
    v = _mm512_mask_blend_ps(t.from45[o], v,
                             _mm512_permutex2var_ps(r[4], _mm512_loadu_si512(t.idx[o][2]), r[5]));
    _mm512_storeu_ps(d + 16 * o, v);
  }
}
#endif

// Packing buffers, one set per thread (thread_scratch): no allocation once warm.
struct PackedAPanels {};
struct PackedBPanels {};

using Problem = Gemm;

// C = beta·C, for K == 0 (no products to add).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
}

// Below this many multiply-adds a GEMM runs on one thread: waking a second thread costs a
// few microseconds, the time of ~1M FMAs on one core. (2^18 and 2^22, timed step by step at
// the tiny and small models, were no faster; 2^22 was 4% slower at tiny, chapter 14.)
constexpr int64_t kParallelMacs = 1 << 20;

// ---- Shares for threads that do not run at the same speed (chapter 14, the sixth round) ----
// On a shared host the cores are not equally fast: timed product by product at the base
// model, one thread ran at 34 GMAC/s while the other ran at 45 for seconds on end, then the
// two swapped or evened out. With equal shares every product waits for the slower thread. So
// each thread's share of a product follows its recent speed: every share times itself
// (multiply-adds per second, a decaying sum over the last few dozen products), and the shares
// of the next products are set in proportion. Nothing a thread computes depends on its share:
// every share is a rectangle of whole tiles of C, and a tile is summed the same way whoever
// computes it (part() below), so the results stay the same bits whatever the speeds.
//
// All threads of a region must cut a product at the same place, so the shares they read are
// only ever changed outside parallel regions (publish_shares, from gemm() and from
// gemm_prepare_parts); inside, a thread only records its own pace in its own slot.
//
// Only products of 2^26 multiply-adds or more (half a millisecond and up on two cores) are
// shared by pace, and only they are timed for it. Sharing the small model's 10-40 million
// multiply-add products by pace too was 0.99 of the speed of equal shares, step by step: over
// so short a product the thread that wrote the operands last reads them from its own cache,
// and what the timer sees is where the data was, not how fast the core is.
constexpr int kPacedThreads = 8;     // more threads than this share equally
constexpr double kPaceDecay = 0.95;  // each product's weight in the pace, relative to the next
constexpr int64_t kPacedMacs = int64_t(1) << 26;
struct alignas(64) ThreadPace {  // one cache line per thread: no two threads write one line
  std::atomic<double> macs{0}, seconds{0};
};
ThreadPace g_pace[kPacedThreads];
std::atomic<int> g_shares_for{0};                  // the thread count the published shares are for
std::atomic<double> g_share_end[kPacedThreads]{};  // thread t's share ends at this fraction

void record_pace(int t, double macs, double seconds) {
  if (t >= kPacedThreads) return;
  ThreadPace& p = g_pace[t];  // only thread t writes it: relaxed loads and stores suffice
  p.macs.store(p.macs.load(std::memory_order_relaxed) * kPaceDecay + macs,
               std::memory_order_relaxed);
  p.seconds.store(p.seconds.load(std::memory_order_relaxed) * kPaceDecay + seconds,
                  std::memory_order_relaxed);
}

// Outside parallel regions only. Shares in proportion to each thread's pace, each pace held
// within a factor of 2 of the mean (one slow product must not starve a thread of work: two
// shares differ by 4x at most); equal shares until every thread has a pace.
void publish_shares() {
  if (omp_in_parallel()) return;
  const int n = std::min(omp_get_max_threads(), kPacedThreads);
  double pace[kPacedThreads], sum = 0;
  for (int t = 0; t < n; ++t) {
    const double s = g_pace[t].seconds.load(std::memory_order_relaxed);
    pace[t] = s > 0 ? g_pace[t].macs.load(std::memory_order_relaxed) / s : 0;
    if (!(pace[t] > 0) || !std::isfinite(pace[t])) {  // none yet, or a clock too coarse
      g_shares_for.store(0, std::memory_order_relaxed);
      return;
    }
    sum += pace[t];
  }
  const double mean = sum / n;
  sum = 0;
  for (int t = 0; t < n; ++t) {
    pace[t] = std::clamp(pace[t], mean / 2, mean * 2);
    sum += pace[t];
  }
  double end = 0;
  for (int t = 0; t < n; ++t) {
    end += pace[t] / sum;
    g_share_end[t].store(t == n - 1 ? 1.0 : end, std::memory_order_relaxed);
  }
  g_shares_for.store(n, std::memory_order_relaxed);
}

// Where thread t's share of `tiles` tiles starts, of `threads` threads: by the published shares
// when the product is paced and they are for this many threads, else equal shares.
int64_t share_start(int64_t tiles, int t, int threads, bool paced) {
  if (t <= 0) return 0;
  if (t >= threads) return tiles;
  if (!paced || g_shares_for.load(std::memory_order_relaxed) != threads) return tiles * t / threads;
  const double f = g_share_end[t - 1].load(std::memory_order_relaxed);
  return std::clamp<int64_t>(std::llround(f * static_cast<double>(tiles)), 0, tiles);
}

// Splitting k (Tiled::part_split_k): each thread's buffer of slice sums, and where the others
// find it. Thread t writes its own entry before the barrier they all read it after. One team
// at a time (qkv opens no region inside another).
struct SplitKPartials {};
float* g_partials[kPacedThreads];
std::atomic<int64_t> g_split_by_k{0};  // products split by k so far (gemm_products_split_by_k)
// With at most this many rows or columns of C per thread, a product summed over several KC
// slices splits k instead (measured shape by shape, chapter 14).
constexpr int64_t kSplitKWidth = 256;

constexpr int64_t kMinClaim = 2;  // row tiles per claim (Tiled::run_claimed; the last may be 1)
// At most this much of B, packed, per thread for a claimed product (1 MB: a [512, 128] weight
// of the small model's feed-forward, two k slices, is a quarter of it).
constexpr int64_t kClaimedPackFloats = int64_t(1) << 18;
std::atomic<int64_t> g_claimed{0};  // products shared by claims so far (gemm_products_claimed)

// Everything that depends on the tile shape.
template <int64_t MR, int64_t NR>
struct Tiled {
  static_assert(kRowMultiple % MR == 0 && kColMultiple % NR == 0, "blocks hold whole tiles");

  // Where the micro-kernel reads its MR values of op(A) at each k. Normally from a packed
  // panel (op(A)[ir+i, k] at p[k·MR + i]); for skinny products straight from A itself, at
  // p[i·rs + k·cs] (see run(): when N is small, packing A would cost as much as using it).
  struct PackedA {
    const float* p;
    float operator()(int64_t i) const { return p[i]; }
    void next() { p += MR; }
  };
  struct StridedA {
    const float* p;
    int64_t rs, cs;
    float operator()(int64_t i) const { return p[i * rs]; }
    void next() { p += cs; }
  };
  // Where it reads its NR values of op(B) at each k: a packed panel (op(B)[k, jr+j] at
  // p[k·NR + j]), or, for a B that is not transposed and a C of few rows, B itself, one row of
  // B after the other (see run(): there the copy is not paid back).
  struct PackedB {
    const float* p;
    void next() { p += NR; }
  };
  struct RowsOfB {
    const float* p;
    int64_t ldb;
    void next() { p += ldb; }
  };

  // The micro-kernel: C[0:mr, 0:nr] = alpha·(A panel · B panel) + beta·C, mr <= MR and
  // nr <= NR (a tile at the bottom or right edge of C is cut short; its packed panels are
  // zero-padded, so the k loop is always the full MR×NR one). b is the packed B panel, kc
  // steps of NR values. acc is a fixed-size array the compiler keeps in registers; std::fma
  // says "one rounding per multiply-add" in the source, so every compiler emits the same FMA
  // instruction whatever its -ffp-contract default.
  template <class APanel, class BPanel>
  QKV_WIDE_VECTORS static void micro_kernel(int64_t kc, const APanel& a_in, const BPanel& b_in,
                                            float* __restrict c, int64_t ldc, int64_t mr,
                                            int64_t nr, float alpha, float beta,
                                            const float* __restrict bias, bool relu) {
    // a_in by reference, copied here field by field: passed by value, StridedA's three words
    // went through the stack and were read back with one 16-byte load from two 8-byte stores,
    // a store-forwarding stall on every call (perf record, chapter 14).
    APanel a = a_in;
    BPanel b = b_in;
    // C's lines are asked for now, for writing, so they arrive while the k loop runs: in
    // training C was written by another op a while ago and is rarely still in L1 (4-7% of a
    // base step's GEMM time, measured by alternating the two versions call by call, ch14).
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; j += 16) __builtin_prefetch(c + i * ldc + j, 1, 3);
    float acc[MR][NR];
#if defined(__clang__)
    // clang (14) vectorises the loop below but keeps acc in memory: a load and a store around
    // every FMA, 0.2 of the peak. Spelled with vector types, the MR×NR/LANES accumulators are
    // plain values it keeps in registers (0.8 of the peak, measured with bench_kernels).
    // x·y + z in one expression is one FMA under clang's default -ffp-contract=on.
    typedef float lanes __attribute__((ext_vector_type(QKV_GEMM_LANES)));
    constexpr int64_t V = NR / QKV_GEMM_LANES;
    static_assert(NR % QKV_GEMM_LANES == 0, "a tile row is whole vectors");
    lanes vacc[MR][V] = {};
    for (int64_t k = 0; k < kc; ++k) {
      lanes bv[V];
      std::memcpy(bv, b.p, sizeof bv);
#pragma unroll
      for (int64_t i = 0; i < MR; ++i) {
        const lanes ai = a(i);
#pragma unroll
        for (int64_t v = 0; v < V; ++v) vacc[i][v] = ai * bv[v] + vacc[i][v];
      }
      a.next();
      b.next();
    }
    std::memcpy(acc, vacc, sizeof acc);
#else
    // The first k step (kc >= 1: run() never passes an empty slice) writes the accumulators,
    // fma(a, b, +0): the value adding to a zeroed accumulator gives (+0 for a product of −0
    // too), without first storing zeros for the loop to load back (perf: `rep stos`).
    for (int64_t i = 0; i < MR; ++i) {
      const float ai = a(i);
#pragma omp simd simdlen(QKV_GEMM_LANES)
      for (int64_t j = 0; j < NR; ++j) acc[i][j] = std::fma(ai, b.p[j], 0.f);
    }
    a.next();
    b.next();
    for (int64_t k = 1; k < kc; ++k) {
      const float* __restrict bk = b.p;
      for (int64_t i = 0; i < MR; ++i) {
        const float ai = a(i);
#pragma omp simd simdlen(QKV_GEMM_LANES)
        for (int64_t j = 0; j < NR; ++j) acc[i][j] = std::fma(ai, bk[j], acc[i][j]);
      }
      a.next();
      b.next();
    }
#endif
    // C[0:rows, 0:cols] = α·acc + β·C, then the bias and ReLU. A whole tile passes the constants
    // MR and NR, so that once inlined its loops have fixed bounds and update C in whole vectors.
    auto write_c = [&](int64_t rows, int64_t cols) {
      for (int64_t i = 0; i < rows; ++i) {
        float* ci = c + i * ldc;
        if (beta == 0.f) {
#pragma omp simd
          for (int64_t j = 0; j < cols; ++j) ci[j] = alpha * acc[i][j];
        } else {
#pragma omp simd
          for (int64_t j = 0; j < cols; ++j) ci[j] = combine(alpha, acc[i][j], beta, ci[j]);
        }
        if (bias) epilogue(ci, bias, cols, relu);
      }
    };
    if (mr == MR && nr == NR)
      write_c(MR, NR);
    else
      write_c(mr, nr);
  }

  // Pack op(B)[k0:k0+kc, j0:j0+nc] into ceil(nc/NR) panels of kc×NR floats, padding the last
  // panel's missing columns with zeros.
  static void pack_b(bool trans_b, const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0,
                     int64_t nc, float* dst) {
    for (int64_t p = 0; p * NR < nc; ++p) {
      float* d = dst + p * kc * NR;
      const int64_t jb = j0 + p * NR;
      const int64_t w = std::min(NR, nc - p * NR);
      if (!trans_b) {  // op(B)[k, j] = B[k·ldb + j]: each row of the panel is contiguous
        for (int64_t k = 0; k < kc; ++k) {
          const float* s = B + (k0 + k) * ldb + jb;
          float* dk = d + k * NR;
          for (int64_t j = 0; j < w; ++j) dk[j] = s[j];
          for (int64_t j = w; j < NR; ++j) dk[j] = 0.f;
        }
      } else {  // op(B)[k, j] = B[j·ldb + k]: a transpose, done 16×16 blocks at a time
        const int64_t w16 = w / 16 * 16, kc16 = kc / 16 * 16;
        for (int64_t j = 0; j < w16; j += 16)
          for (int64_t k = 0; k < kc16; k += 16)
            transpose16(B + (jb + j) * ldb + k0 + k, ldb, d + k * NR + j, NR);
        for (int64_t j = 0; j < w; ++j) {  // what the blocks left over
          const float* s = B + (jb + j) * ldb + k0;
          for (int64_t k = j < w16 ? kc16 : 0; k < kc; ++k) d[k * NR + j] = s[k];
        }
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t j = w; j < NR; ++j) d[k * NR + j] = 0.f;
      }
    }
  }

  // Pack op(A)[i0:i0+mc, k0:k0+kc] into ceil(mc/MR) panels of kc×MR floats, zero-padded.
  static void pack_a(bool trans_a, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0,
                     int64_t kc, float* dst) {
    for (int64_t p = 0; p * MR < mc; ++p) {
      float* d = dst + p * kc * MR;
      const int64_t ib = i0 + p * MR;
      const int64_t h = std::min(MR, mc - p * MR);
      if (trans_a && h == MR) {  // op(A)[i, k] = A[k·lda + i]: MR consecutive floats per k
        for (int64_t k = 0; k < kc; ++k) {  // a fixed count: a few vector moves per k
          const float* s = A + (k0 + k) * lda + ib;
          for (int64_t i = 0; i < MR; ++i) d[k * MR + i] = s[i];
        }
      } else if (trans_a) {  // the last, partial panel: zero-padded
        for (int64_t k = 0; k < kc; ++k) {
          const float* s = A + (k0 + k) * lda + ib;
          for (int64_t i = 0; i < h; ++i) d[k * MR + i] = s[i];
          for (int64_t i = h; i < MR; ++i) d[k * MR + i] = 0.f;
        }
      } else {             // op(A)[i, k] = A[i·lda + k]: read rows of A, interleave them
        int64_t done = 0;  // values of k already packed
#if defined(__AVX512F__)
        if constexpr (MR == 6)
          if (h == MR)
            for (; done + 16 <= kc; done += 16)
              interleave6x16(A + ib * lda + k0 + done, lda, d + done * MR);
#endif
        for (int64_t i = 0; i < h; ++i) {
          const float* s = A + (ib + i) * lda + k0;
          for (int64_t k = done; k < kc; ++k) d[k * MR + i] = s[k];
        }
        for (int64_t i = h; i < MR; ++i)
          for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = 0.f;
      }
    }
  }

  // Rows [m0, m1) of C against one packed block of B: columns [jc, jc + nc), k slice
  // [pc, pc + kc). pa is this thread's buffer for packed A.
  static void rows_block(const Problem& p, int64_t m0, int64_t m1, int64_t jc, int64_t nc,
                         int64_t pc, int64_t kc, const float* pb, float* pa, bool direct_a,
                         bool direct_b) {
    const int64_t a_rs = p.trans_a ? 1 : p.lda, a_cs = p.trans_a ? p.lda : 1;
    const int64_t MC = cache_blocks().MC;
    const int64_t panels = (nc + NR - 1) / NR;
    const float beta = pc == 0 ? p.beta : 1.f;  // later k slices add onto C
    const bool last = pc + kc >= p.K;           // the bias goes on after the whole sum
    for (int64_t ic = m0; ic < m1; ic += MC) {
      const int64_t mc = std::min(MC, m1 - ic);
      if (direct_a) {  // only the last, partial row tile is packed
        const int64_t full = mc / MR * MR;
        if (full < mc) pack_a(p.trans_a, p.A, p.lda, ic + full, mc - full, pc, kc, pa + full * kc);
      } else {
        pack_a(p.trans_a, p.A, p.lda, ic, mc, pc, kc, pa);
      }
      for (int64_t q = 0; q < panels; ++q) {
        const int64_t jr = q * NR;
        const int64_t nr = std::min(NR, nc - jr);
        auto sweep = [&](const auto& b) {  // the row tiles against this panel of B
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = std::min(MR, mc - ir);
            float* c = p.C + (ic + ir) * p.ldc + jc + jr;
            const float* bias = last && p.bias ? p.bias + jc + jr : nullptr;
            if (direct_a && mr == MR)
              micro_kernel(kc, StridedA{p.A + (ic + ir) * a_rs + pc * a_cs, a_rs, a_cs}, b, c,
                           p.ldc, mr, nr, p.alpha, beta, bias, p.relu);
            else
              micro_kernel(kc, PackedA{pa + ir * kc}, b, c, p.ldc, mr, nr, p.alpha, beta, bias,
                           p.relu);
          }
        };
        if (direct_b && nr == NR)
          sweep(RowsOfB{p.B + pc * p.ldb + jc + jr, p.ldb});
        else
          sweep(PackedB{pb + q * kc * NR});
      }
    }
  }

  // Packing A pays when each packed panel is reused across many NR-wide panels of B. When C
  // has few columns it is used once or twice: read A in place instead (full tiles only). A
  // transposed A is read across its rows (6 floats per k, a new cache line at each k), which
  // only pays when there is a single panel to sweep.
  static bool reads_a_in_place(const Problem& p, int64_t cols) {
    return cols <= (p.trans_a ? 1 : 2) * NR;
  }

  // Packing B pays when each packed panel is swept by many row tiles of A. When C has few
  // rows and B is not transposed (a weight gradient dW = dyᵀ·x, x read by rows), the copy
  // costs more than it saves: read B's rows in place instead (whole panels only; a last,
  // narrower panel is still packed, zero-padded).
  static bool reads_b_in_place(const Problem& p, int64_t rows) {
    return !p.trans_b && rows <= kDirectBRows;
  }
  static void pack_b_for(const Problem& p, int64_t pc, int64_t kc, int64_t jc, int64_t nc,
                         float* pb, bool direct_b) {
    if (!direct_b) return pack_b(p.trans_b, p.B, p.ldb, pc, kc, jc, nc, pb);
    const int64_t whole = nc / NR * NR;
    if (whole < nc) pack_b(p.trans_b, p.B, p.ldb, pc, kc, jc + whole, nc - whole, pb + whole * kc);
  }

  // The blocked loop nest on one thread, for the rows [m0, m1) and columns [n0, n1) of C.
  // m0 is a multiple of MR and n0 of NR, so the tiles are those of the whole C whichever
  // thread computes them: the arithmetic of each element does not depend on the split.
  static void run(const Problem& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const bool direct_a = reads_a_in_place(p, n1 - n0), direct_b = reads_b_in_place(p, m1 - m0);
    const int64_t MC = cache_blocks().MC, NC = cache_blocks().NC;
    float* pa = thread_scratch<PackedAPanels>(MC * KC);
    float* pb = thread_scratch<PackedBPanels>(KC * std::min(NC, (n1 - n0 + NR - 1) / NR * NR));
    for (int64_t jc = n0; jc < n1; jc += NC) {
      const int64_t nc = std::min(NC, n1 - jc);
      for (int64_t pc = 0; pc < p.K; pc += KC) {
        const int64_t kc = std::min(KC, p.K - pc);
        pack_b_for(p, pc, kc, jc, nc, pb, direct_b);
        rows_block(p, m0, m1, jc, nc, pc, kc, pb, pa, direct_a, direct_b);
      }
    }
  }

  // A product of one block of columns (N <= NC), its row tiles shared by two threads that
  // claim them from opposite ends, a quarter of what is left at a time (chapter 14, the eighth
  // round). Split in fixed halves, the thread woken at the region's start (6-20 µs late with
  // passive waiting) finished last, and the other waited for it; now it takes fewer tiles.
  // Each keeps to its own end, the rows it wrote in the op before if that op split its rows in
  // halves too. Each thread packs all of B, as in the split by rows, every k slice of it (at
  // most kClaimedPackFloats in all): a claim's tiles are summed slice after slice by the thread
  // that claimed them, as one thread sums them. Which thread computes a tile changes with the
  // timing; how it is computed does not.
  static bool claims_apply(const Problem& p, int threads, bool paced) {
    const int64_t slices = (p.K + KC - 1) / KC, padded_n = (p.N + NR - 1) / NR * NR;
    return threads == 2 && !paced && p.N <= cache_blocks().NC &&
           slices * KC * padded_n <= kClaimedPackFloats;
  }
  static void run_claimed(const Problem& p, int t, GemmClaims& claims) {
    const int64_t tiles = (p.M + MR - 1) / MR;  // GemmClaims::taken counts these, from both ends
    const int64_t MC = cache_blocks().MC;
    const int64_t slice_floats = KC * ((p.N + NR - 1) / NR * NR);  // one packed k slice of B
    float* pa = thread_scratch<PackedAPanels>(MC * KC);
    // B is packed at this thread's first claim: a thread that comes too late for any packs none.
    float* pb = nullptr;
    const bool direct_a = reads_a_in_place(p, p.N), direct_b = reads_b_in_place(p, p.M);
    if (t == 0) g_claimed.fetch_add(1, std::memory_order_relaxed);
    claim_from_ends(claims, tiles, t, kMinClaim, [&](int64_t r0, int64_t r1) {
      if (!pb) {
        pb = thread_scratch<PackedBPanels>((p.K + KC - 1) / KC * slice_floats);
        for (int64_t pc = 0; pc < p.K; pc += KC)
          pack_b_for(p, pc, std::min(KC, p.K - pc), 0, p.N, pb + pc / KC * slice_floats, direct_b);
      }
      for (int64_t pc = 0; pc < p.K; pc += KC)  // the slices in order, as run() sums them
        rows_block(p, r0 * MR, std::min(p.M, r1 * MR), 0, p.N, pc, std::min(KC, p.K - pc),
                   pb + pc / KC * slice_floats, pa, direct_a, direct_b);
    });
  }

  // Splits C among the threads: each thread gets a rectangle of whole tiles and runs the
  // blocked loop nest on it with its own packing buffers. No barriers, no shared writes, k not
  // split (a small C with a long sum splits k instead: part_split_k above). Splitting the rows
  // means every thread reads all of op(B); splitting the columns, all of op(A). The estimate below,
  // in multiply-adds (reading a float from memory, to pack it or in place, costs about as much as
  // 16 of them), picks the cheaper split for the busiest thread. Reading A in place is not free:
  // op(A) is usually an activation the threads have just written by rows, half of it in the other
  // core's cache (counting it as free chose the columns for small's [640, 128] products: 1.04-1.19x
  // slower, their dW 1.5-1.75x, chapter 14). part() is thread t's share of `threads`: the same
  // rectangles whether gemm() opened the region or an op did, to run several products in one
  // (gemm_part). The shares are equal, or by each thread's pace for big products (share_start
  // above), or, for a product below the paced size on two threads given `claims`, claimed as
  // the threads get to them (run_claimed).
  static void part(const Problem& p, int t, int threads, GemmClaims* claims = nullptr) {
    if (split_k_applies(p, threads)) return part_split_k(p, t, threads);
    const int64_t row_tiles = (p.M + MR - 1) / MR, col_tiles = (p.N + NR - 1) / NR;
    const int n = static_cast<int>(std::min<int64_t>(threads, std::max(row_tiles, col_tiles)));
    if (n <= 1) {
      if (t == 0) run(p, 0, p.M, 0, p.N);
      return;
    }
    if (t >= n) return;
    // The busiest thread's tiles either way (shares by pace: share_start).
    const bool paced = p.M * p.N * p.K >= kPacedMacs;
    auto largest_share = [&](int64_t tiles) {
      int64_t m = 0;
      for (int u = 0; u < n; ++u)
        m = std::max(m, share_start(tiles, u + 1, n, paced) - share_start(tiles, u, n, paced));
      return m;
    };
    const int64_t most_rows = largest_share(row_tiles), most_cols = largest_share(col_tiles);
    constexpr int64_t kPackCost = 16;
    const int64_t by_rows = most_rows * MR * p.N * p.K + kPackCost * p.K * p.N;
    const int64_t by_cols = most_cols * NR * p.M * p.K + kPackCost * p.M * p.K;
    int64_t m0 = 0, m1 = p.M, n0 = 0, n1 = p.N;
    if (by_rows <= by_cols) {
      if (claims && claims_apply(p, threads, paced)) return run_claimed(p, t, *claims);
      m0 = std::min(p.M, share_start(row_tiles, t, n, paced) * MR);
      m1 = std::min(p.M, share_start(row_tiles, t + 1, n, paced) * MR);
    } else {
      n0 = std::min(p.N, share_start(col_tiles, t, n, paced) * NR);
      n1 = std::min(p.N, share_start(col_tiles, t + 1, n, paced) * NR);
    }
    if (m0 >= m1 || n0 >= n1) return;  // a share of no tiles (few tiles, a slow thread)
    const double t0 = paced ? omp_get_wtime() : 0;
    run(p, m0, m1, n0, n1);
    if (paced)
      record_pace(t, static_cast<double>((m1 - m0) * (n1 - n0) * p.K), omp_get_wtime() - t0);
  }

  // ---- Splitting k (chapter 14, the seventh round) ----
  // A weight gradient of the small model, dW = dyᵀ·x with W [128, 128] and 640 rows in the
  // batch, is a small C summed over a long k. Split by rows (or columns), each thread packs all
  // of op(B) (or op(A)), 640 × 128 floats, for 64 rows (columns) of C: the copy costs as much
  // as the multiply-adds, and two threads were only 1.10 (dW alone) to 1.23 (the whole
  // backward) times as fast as one. Split by k, each thread packs and multiplies only its own
  // slices of the sum.
  //
  // The slices are the KC-long ones that one thread sums anyway, and each is added to C in
  // the same order: C = ((beta·C + s0) + s1) + s2, where s is a slice's sum started from zero.
  // So a slice can be summed by any thread into a buffer of its own and added later, and C
  // comes out the same bits. Thread 0 sums the first whole slices straight into C, each other
  // thread as many whole slices into its buffer, the slices left over are split among all the
  // threads by rows; after a barrier, each thread adds the buffers to its rows of C, in order,
  // and a second barrier keeps every buffer until all have read it.
  // alpha must be 1 (a slice's α·s then needs no rounding, as in one thread's C = α·s + C) and
  // there must be no bias or ReLU (they go on after the whole sum).
  static bool split_k_applies(const Problem& p, int threads) {
    const int64_t slices = (p.K + KC - 1) / KC;
    return threads > 1 && threads <= kPacedThreads && slices >= threads && p.alpha == 1.f &&
           p.bias == nullptr && omp_in_parallel() && omp_get_num_threads() == threads &&
           p.M * p.N * p.K < kPacedMacs && std::max(p.M, p.N) <= kSplitKWidth * threads;
  }

  // Slice s of the sum over k: op(A)[:, s·KC : s·KC + KC] · op(B)[s·KC : s·KC + KC, :] into
  // c (ldc) with this beta.
  static Problem slice(const Problem& p, int64_t s, int64_t count, float* c, int64_t ldc,
                       float beta) {
    Problem q = p;
    const int64_t k0 = s * KC;
    q.K = std::min(p.K, k0 + count * KC) - k0;
    q.A = p.A + (p.trans_a ? k0 * p.lda : k0);
    q.B = p.B + (p.trans_b ? k0 : k0 * p.ldb);
    q.C = c;
    q.ldc = ldc;
    q.beta = beta;
    return q;
  }

  static void part_split_k(const Problem& p, int t, int threads) {
    const int64_t slices = (p.K + KC - 1) / KC, whole = slices / threads;
    const int64_t left = slices - whole * threads, row_tiles = (p.M + MR - 1) / MR;
    const int64_t mn = p.M * p.N;                                    // one slice's sums, [M, N]
    const int64_t r0 = std::min(p.M, row_tiles * t / threads * MR);  // this thread's rows of C
    const int64_t r1 = std::min(p.M, row_tiles * (t + 1) / threads * MR), rows = r1 - r0;
    // This thread's buffer: its whole slices, [whole, M, N] (none for thread 0: its go into C),
    // then its rows of the slices left over, [left, rows, N].
    const int64_t own = t == 0 ? 0 : whole * mn;
    float* mine = thread_scratch<SplitKPartials>(own + left * rows * p.N);
    g_partials[t] = mine;
    if (t == 0) {
      g_split_by_k.fetch_add(1, std::memory_order_relaxed);
      run(slice(p, 0, whole, p.C, p.ldc, p.beta), 0, p.M, 0, p.N);
    } else {
      for (int64_t s = 0; s < whole; ++s)
        run(slice(p, t * whole + s, 1, mine + s * mn, p.N, 0.f), 0, p.M, 0, p.N);
    }
    for (int64_t s = 0; s < left && rows > 0; ++s) {
      Problem q = slice(p, threads * whole + s, 1, mine + own + s * rows * p.N, p.N, 0.f);
      q.M = rows;  // rows r0..r1 of op(A); r0 is a whole number of tiles, so the same tiles
      q.A += p.trans_a ? r0 : r0 * p.lda;
      run(q, 0, rows, 0, p.N);
    }
#pragma omp barrier
    for (int64_t i = r0; i < r1; ++i) {
      float* c = p.C + i * p.ldc;
      for (int64_t s = whole; s < slices; ++s) {  // slice s, in order
        const float* from = s < threads * whole
                                ? g_partials[s / whole] + (s % whole) * mn + i * p.N
                                : mine + own + (s - threads * whole) * rows * p.N + (i - r0) * p.N;
        // The micro-kernel's own update, C = α·s + β·C with α = β = 1 (p.alpha is 1 here; a
        // literal 1 would let the compiler drop the product and emit another instruction,
        // which keeps a different NaN when NaNs meet).
#pragma omp simd
        for (int64_t j = 0; j < p.N; ++j) c[j] = combine(p.alpha, from[j], p.alpha, c[j]);
      }
    }
    // The others' buffers are read until here: none may start the next product (and write its
    // buffer again) before all are done.
#pragma omp barrier
  }

  static void split(const Problem& p, int max_threads) {
    const int64_t tiles = std::max((p.M + MR - 1) / MR, (p.N + NR - 1) / NR);
    int n = 1;
    if (max_threads > 1 && !omp_in_parallel() && p.M * p.N * p.K >= kParallelMacs)
      n = static_cast<int>(std::min<int64_t>(max_threads, tiles));
    if (n == 1) return run(p, 0, p.M, 0, p.N);
    GemmClaims claims;
    RegionEnd end;
#pragma omp parallel num_threads(n)
    {
      part(p, omp_get_thread_num(), omp_get_num_threads(), &claims);
      end.done(omp_get_thread_num());
    }
  }
};

// Relaxed: a tally for the profiler, read between ops, never used to order memory.
std::atomic<int64_t> g_macs_done{0};
thread_local int64_t t_macs_done = 0;  // the calling thread's share (gemm_macs_done_here)
void add_macs_done(int64_t macs) {
  g_macs_done.fetch_add(macs, std::memory_order_relaxed);
  t_macs_done += macs;
}

// C = beta·C for K == 0 (no products to add), then the epilogue; on the calling thread.
void no_products(const Problem& p) {
  scale_c(p.M, p.N, p.beta, p.C, p.ldc);
  if (p.bias)
    for (int64_t i = 0; i < p.M; ++i) epilogue(p.C + i * p.ldc, p.bias, p.N, p.relu);
}

// Picks the tile for the shape (never for the thread count), then splits the work.
void gemm_on(const Problem& p, int max_threads) {
  if (p.M <= 0 || p.N <= 0) return;
  if (max_threads > 1) publish_shares();
  if (p.K <= 0) return no_products(p);
#if defined(__AVX512F__)
  if (p.N <= 16) return Tiled<12, 16>::split(p, max_threads);
  if (p.N <= 32) return Tiled<8, 32>::split(p, max_threads);
  return Tiled<6, 64>::split(p, max_threads);
#else
  return Tiled<6, 16>::split(p, max_threads);
#endif
}

// The same tile as gemm_on, thread t's share of `threads`.
void part_on(const Problem& p, int t, int threads, GemmClaims* claims) {
  if (p.M <= 0 || p.N <= 0) return;
  if (p.K <= 0) {
    if (t == 0) no_products(p);
    return;
  }
#if defined(__AVX512F__)
  if (p.N <= 16) return Tiled<12, 16>::part(p, t, threads, claims);
  if (p.N <= 32) return Tiled<8, 32>::part(p, t, threads, claims);
  return Tiled<6, 64>::part(p, t, threads, claims);
#else
  return Tiled<6, 16>::part(p, t, threads, claims);
#endif
}

}  // namespace

void count_macs(int64_t macs) { add_macs_done(macs); }

GemmBlocks gemm_blocks() { return {cache_blocks().MC, KC, cache_blocks().NC}; }

int64_t gemm_macs_done() { return g_macs_done.load(std::memory_order_relaxed); }

int64_t gemm_macs_done_here() { return t_macs_done; }

int64_t gemm_products_split_by_k() { return g_split_by_k.load(std::memory_order_relaxed); }

int64_t gemm_products_claimed() { return g_claimed.load(std::memory_order_relaxed); }

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm(Gemm{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc});
}

void gemm(const Gemm& g) {
  if (g.M > 0 && g.N > 0 && g.K > 0)
    add_macs_done(g.M * g.N * g.K);
  gemm_on(g, omp_get_max_threads());
}

bool gemm_worth_threads(int64_t macs) { return macs >= kParallelMacs; }

void gemm_prepare_parts() { publish_shares(); }

void gemm_set_paces(const std::vector<double>& macs_per_second) {
  for (int t = 0; t < kPacedThreads; ++t) {
    const double pace = t < static_cast<int>(macs_per_second.size()) ? macs_per_second[t] : 0;
    g_pace[t].macs.store(pace, std::memory_order_relaxed);
    g_pace[t].seconds.store(pace > 0 ? 1 : 0, std::memory_order_relaxed);
  }
}

void gemm_part(const Gemm& g, int thread, int threads, GemmClaims* claims) {
  if (thread == 0 && g.M > 0 && g.N > 0 && g.K > 0)
    add_macs_done(g.M * g.N * g.K);
  part_on(g, thread, threads, claims);
}

void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  float alpha, const float* A, int64_t lda, int64_t stride_a, const float* B,
                  int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc,
                  int64_t stride_c) {
  if (batch <= 0) return;
  if (M > 0 && N > 0 && K > 0) add_macs_done(batch * M * N * K);
  auto problem = [&](int64_t b) {  // matrix b of the batch
    Problem p{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
    p.A += b * stride_a;
    p.B += b * stride_b;
    p.C += b * stride_c;
    return p;
  };
  // Big matrices: one GEMM at a time, each split across the threads. Small ones (attention's
  // [T, D]·[D, S] per head): whole GEMMs per thread. Either way each C element is computed
  // by the same single-threaded arithmetic, so the result is the same.
  if (M * N * K >= kParallelMacs || batch == 1) {
    for (int64_t b = 0; b < batch; ++b) gemm_on(problem(b), omp_get_max_threads());
    return;
  }
#pragma omp parallel for schedule(static) if (batch * M * N * K >= kParallelMacs)
  for (int64_t b = 0; b < batch; ++b) gemm_on(problem(b), 1);
}

}  // namespace qkv::kernels
