// The fast GEMM against the triple-loop reference (chapter 03).
//
// Tolerance, per element: a float sum of K products, however it is ordered or blocked,
// is within about (K + 2)·u·Σ_k |a_ik·b_kj| of the exact sum (u = 2^-24, the float unit
// roundoff; each addition or FMA rounds once). With alpha and beta:
//   |C - C_ref| <= (K + 4)·u·(|alpha|·Σ_k |a_ik·b_kj| + |beta·C_old|) + u·|C_ref|
// (the last term: the reference itself is exact in double, then rounded to float once).
// This is a worst-case bound, not a fudge factor; it is never loosened to make a test pass.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "autograd/kernels/gemm.h"
#include "autograd/random.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using qkv::kernels::gemm;
using qkv::kernels::gemm_batched;
using qkv::kernels::gemm_reference;
using qkv::test::ThreadCountGuard;

namespace {

constexpr double kUnit = 1.0 / (1 << 24);  // float unit roundoff

std::vector<float> random_matrix(int64_t n, uint32_t seed) {
  qkv::Generator rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  float alpha = 1.f, beta = 0.f;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // extra floats per stored row
  bool nan_c = false;                       // fill C with NaN before the call
};

// Runs gemm and gemm_reference on the same inputs; checks every element of C against the
// bound above and that the padding between rows of C was not touched.
void check_case(const Case& t, uint32_t seed = 1) {
  // Stored shapes: A is [M, K] or, transposed, [K, M]; likewise B.
  const int64_t a_rows = t.ta ? t.K : t.M, a_cols = t.ta ? t.M : t.K;
  const int64_t b_rows = t.tb ? t.N : t.K, b_cols = t.tb ? t.K : t.N;
  const int64_t lda = a_cols + t.pad_a, ldb = b_cols + t.pad_b, ldc = t.N + t.pad_c;
  const auto A = random_matrix(std::max<int64_t>(1, a_rows * lda), seed);
  const auto B = random_matrix(std::max<int64_t>(1, b_rows * ldb), seed + 1);
  auto C0 = random_matrix(std::max<int64_t>(1, t.M * ldc), seed + 2);
  if (t.nan_c)
    for (float& x : C0) x = std::numeric_limits<float>::quiet_NaN();
  auto C = C0, R = C0;
  gemm(t.ta, t.tb, t.M, t.N, t.K, t.alpha, A.data(), lda, B.data(), ldb, t.beta, C.data(), ldc);
  gemm_reference(t.ta, t.tb, t.M, t.N, t.K, t.alpha, A.data(), lda, B.data(), ldb, t.beta, R.data(),
                 ldc);
  for (int64_t i = 0; i < t.M; ++i) {
    for (int64_t j = 0; j < t.N; ++j) {
      double abs_sum = 0;
      for (int64_t k = 0; k < t.K; ++k) {
        const float a = t.ta ? A[k * lda + i] : A[i * lda + k];
        const float b = t.tb ? B[j * ldb + k] : B[k * ldb + j];
        abs_sum += std::fabs(static_cast<double>(a) * b);
      }
      const double c_old =
          t.beta == 0.f ? 0.0 : std::fabs(static_cast<double>(t.beta) * C0[i * ldc + j]);
      const double ref = R[i * ldc + j];
      const double bound =
          (t.K + 4) * kUnit * (std::fabs(t.alpha) * abs_sum + c_old) + kUnit * std::fabs(ref);
      const double err = std::fabs(static_cast<double>(C[i * ldc + j]) - ref);
      if (!(err <= bound)) {  // also catches NaN; reports the first bad element
        INFO("M=" << t.M << " N=" << t.N << " K=" << t.K << " ta=" << t.ta << " tb=" << t.tb
                  << " alpha=" << t.alpha << " beta=" << t.beta << " at [" << i << ", " << j
                  << "]: got " << C[i * ldc + j] << ", reference " << ref << ", bound " << bound);
        REQUIRE(err <= bound);
      }
    }
    for (int64_t j = t.N; j < ldc; ++j) {  // the padding between rows is not C's
      if (t.nan_c)
        REQUIRE(std::isnan(C[i * ldc + j]));
      else
        REQUIRE(C[i * ldc + j] == C0[i * ldc + j]);
    }
  }
}

bool bit_identical(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [](float a, float b) {
           return std::memcmp(&a, &b, sizeof a) == 0;
         });
}

}  // namespace

TEST_CASE("gemm matches the reference for every transpose and odd sizes", "[ch03][gemm]") {
  const int64_t sizes[] = {1, 7, 63, 65, 129};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int64_t M : sizes)
        for (int64_t N : sizes)
          for (int64_t K : sizes) check_case({ta == 1, tb == 1, M, N, K});
}

TEST_CASE("gemm matches the reference on narrow products (their own tiles)", "[ch03][gemm]") {
  // N <= 16 and N <= 32 use narrower, taller register tiles than the 6×64 one: sizes around
  // their edges (12×16 and 8×32), and K past one cache slice (KC = 256).
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int64_t N : {15, 16, 17, 20, 32, 33})
        for (int64_t M : {1, 8, 12, 13, 20, 65})
          for (int64_t K : {1, 16, 20, 300}) check_case({ta == 1, tb == 1, M, N, K, 1.f, 0.5f});
}

TEST_CASE("gemm covers several cache blocks in M, N and K", "[ch03][gemm]") {
  // Sizes past the block sizes (MC = 384 rows, KC = 256 terms, NC = 2048 columns), so C is
  // built from several k slices and the threads split several blocks.
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      check_case({ta == 1, tb == 1, 401, 70, 300});
      check_case({ta == 1, tb == 1, 13, 2100, 260, 1.f, 0.5f});
    }
  // The Transformer's skinny shapes.
  check_case({false, false, 640, 256, 64});
  check_case({false, false, 640, 64, 256});
  check_case({false, true, 640, 64, 256, 1.f, 1.f});
  check_case({true, false, 64, 256, 640, 1.f, 1.f});
}

TEST_CASE("gemm respects lda, ldb and ldc wider than the rows", "[ch03][gemm]") {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int64_t pad : {1, 5, 64}) {
        Case t{ta == 1, tb == 1, 67, 45, 131};
        t.pad_a = pad;
        t.pad_b = pad + 2;
        t.pad_c = pad + 3;
        check_case(t);
        t.beta = 1.f;
        check_case(t);
      }
}

TEST_CASE("gemm applies alpha and beta; beta = 0 ignores NaN in C", "[ch03][gemm]") {
  const float alphas[] = {1.f, 2.5f, -0.5f, 0.f};
  const float betas[] = {0.f, 1.f, -2.f, 0.25f};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (float alpha : alphas)
        for (float beta : betas) {
          Case t{ta == 1, tb == 1, 70, 65, 140, alpha, beta};
          check_case(t);
          t.M = 5;  // a single partial row tile
          t.N = 9;
          check_case(t);
        }
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (float alpha : {1.f, 3.f}) {
        Case t{ta == 1, tb == 1, 65, 129, 63, alpha, 0.f};
        t.nan_c = true;
        t.pad_c = 3;
        check_case(t);
      }
}

TEST_CASE("gemm with K = 0 scales C by beta", "[ch03][gemm]") {
  std::vector<float> C = {1.f, 2.f, 3.f, 4.f};
  gemm(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.5f, C.data(), 2);
  REQUIRE(C == std::vector<float>{0.5f, 1.f, 1.5f, 2.f});
  std::vector<float> D(4, std::numeric_limits<float>::quiet_NaN());
  gemm(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.f, D.data(), 2);
  REQUIRE(D == std::vector<float>(4, 0.f));
}

TEST_CASE("gemm_batched matches per-matrix references, with stride 0 broadcasting",
          "[ch03][gemm]") {
  struct Shape {
    int64_t batch, M, N, K;
  };
  // Attention-sized (many small products, split across the batch) and a big one (each
  // product split across the threads).
  for (Shape s : {Shape{24, 20, 20, 16}, Shape{7, 13, 9, 33}, Shape{3, 150, 130, 70}})
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int bcast = 0; bcast < 3; ++bcast) {  // 0: none, 1: A shared, 2: B shared
          const int64_t a_size = s.M * s.K, b_size = s.K * s.N, c_size = s.M * s.N;
          const int64_t sa = bcast == 1 ? 0 : a_size, sb = bcast == 2 ? 0 : b_size;
          const int64_t lda = ta ? s.M : s.K, ldb = tb ? s.K : s.N;
          const auto A = random_matrix(std::max<int64_t>(a_size, s.batch * sa), 11);
          const auto B = random_matrix(std::max<int64_t>(b_size, s.batch * sb), 12);
          auto C = random_matrix(s.batch * c_size, 13), R = C;
          const float alpha = 0.7f, beta = bcast == 0 ? 0.f : 1.f;
          gemm_batched(s.batch, ta, tb, s.M, s.N, s.K, alpha, A.data(), lda, sa, B.data(), ldb, sb,
                       beta, C.data(), s.N, c_size);
          for (int64_t b = 0; b < s.batch; ++b)
            gemm_reference(ta, tb, s.M, s.N, s.K, alpha, A.data() + b * sa, lda, B.data() + b * sb,
                           ldb, beta, R.data() + b * c_size, s.N);
          // |a|, |b| <= 1 and |C_old| <= 1, so Σ|a·b| <= K: the bound of the header with
          // that worst case.
          const double bound = (s.K + 4) * kUnit * (alpha * s.K + std::fabs(beta)) +
                               kUnit * (alpha * s.K + std::fabs(beta));
          for (int64_t i = 0; i < s.batch * c_size; ++i) {
            const double err = std::fabs(static_cast<double>(C[i]) - R[i]);
            if (!(err <= bound)) {
              INFO("batch " << s.batch << " M=" << s.M << " N=" << s.N << " K=" << s.K << " ta="
                            << ta << " tb=" << tb << " broadcast=" << bcast << " at " << i);
              REQUIRE(err <= bound);
            }
          }
        }
}

TEST_CASE("a row of C has the same bits however many rows C has (B read in place or packed)",
          "[ch03][gemm]") {
  // With few rows of C and B not transposed, gemm reads B's rows in place (gemm.cpp,
  // reads_b_in_place); with many it packs B first. Both feed the micro-kernel the same values
  // in the same order, so the first rows of a tall product equal the short product bit for
  // bit: K past one slice (300), N past whole panels (130 = 2·64 + 2), and a transposed A.
  ThreadCountGuard guard;
  omp_set_num_threads(1);
  for (bool ta : {false, true})
    for (int64_t short_m : {6, 30, 90}) {
      const int64_t tall_m = 600, N = 130, K = 300;
      const auto A = random_matrix(tall_m * K, 41), B = random_matrix(K * N, 42);
      // The short product's A: the tall one's first rows (ta: its first columns, lda = tall_m).
      std::vector<float> tall(tall_m * N), shorter(short_m * N);
      gemm(ta, false, tall_m, N, K, 1.f, A.data(), ta ? tall_m : K, B.data(), N, 0.f, tall.data(),
           N);
      gemm(ta, false, short_m, N, K, 1.f, A.data(), ta ? tall_m : K, B.data(), N, 0.f,
           shorter.data(), N);
      INFO("ta=" << ta << " short M=" << short_m);
      REQUIRE(bit_identical(shorter, std::vector<float>(tall.begin(), tall.begin() + short_m * N)));
    }
}

TEST_CASE("gemm results are bit-identical on 1 and 2 threads", "[ch03][gemm]") {
  ThreadCountGuard guard;
  struct Shape {
    bool ta, tb;
    int64_t M, N, K;
  };
  for (Shape s : {Shape{false, false, 640, 256, 64}, Shape{false, false, 640, 64, 256},
                  Shape{false, true, 512, 300, 333}, Shape{true, false, 300, 512, 640},
                  Shape{true, true, 97, 2100, 129}, Shape{false, false, 7, 4000, 40}}) {
    const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    const auto A = random_matrix(s.M * s.K, 21), B = random_matrix(s.K * s.N, 22);
    const auto C0 = random_matrix(s.M * s.N, 23);
    auto run = [&](int threads) {
      omp_set_num_threads(threads);
      auto C = C0;
      gemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 1.f, C.data(), s.N);
      return C;
    };
    const auto one = run(1), two = run(2);
    INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " ta=" << s.ta << " tb=" << s.tb);
    REQUIRE(bit_identical(one, two));
  }
  // gemm_batched, small matrices (split across the batch) and big (split within each).
  for (int64_t n : {20, 200}) {
    const int64_t batch = 8;
    const auto A = random_matrix(batch * n * n, 31), B = random_matrix(n * n, 32);
    auto run = [&](int threads) {
      omp_set_num_threads(threads);
      std::vector<float> C(batch * n * n);
      gemm_batched(batch, false, true, n, n, n, 0.25f, A.data(), n, n * n, B.data(), n, 0, 0.f,
                   C.data(), n, n * n);
      return C;
    };
    const auto one = run(1), two = run(2);
    INFO("gemm_batched, n=" << n);
    REQUIRE(bit_identical(one, two));
  }
}

TEST_CASE("gemm's bias and ReLU epilogue equals a separate pass after the product",
          "[ch03][gemm]") {
  // K = 600 crosses two k slices: the bias must go on once, after the whole sum.
  for (int64_t K : {0, 37, 600})
    for (bool relu : {false, true}) {
      const int64_t M = 50, N = 70;
      const auto A = random_matrix(M * K, 41), B = random_matrix(N * K, 42);
      const auto bias = random_matrix(N, 43);
      std::vector<float> fused(M * N, std::numeric_limits<float>::quiet_NaN()), apart(M * N);
      qkv::kernels::gemm({false, true, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, fused.data(), N,
                          bias.data(), relu});
      gemm(false, true, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, apart.data(), N);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          const float v = apart[i * N + j] + bias[j];
          apart[i * N + j] = relu ? (v > 0.f ? v : 0.f) : v;
        }
      INFO("K=" << K << " relu=" << relu);
      REQUIRE(bit_identical(fused, apart));
    }
}

TEST_CASE("gemm_part on 1, 2 and 3 threads of one region equals gemm bit for bit", "[ch03][gemm]") {
  struct Shape {
    bool ta, tb;
    int64_t M, N, K;
  };
  for (Shape s : {Shape{false, false, 640, 64, 256}, Shape{true, false, 256, 64, 640},
                  Shape{false, true, 97, 2100, 129}, Shape{false, false, 5, 3, 2}}) {
    const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    const auto A = random_matrix(s.M * s.K, 51), B = random_matrix(s.K * s.N, 52);
    const auto C0 = random_matrix(s.M * s.N, 53);
    auto whole = C0;
    gemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 1.f, whole.data(), s.N);
    for (int threads : {1, 2, 3}) {
      auto parts = C0;
      const qkv::kernels::Gemm g(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 1.f,
                                 parts.data(), s.N);
      // The threads of a region, one after another: each writes only its own rectangle.
      for (int t = 0; t < threads; ++t) qkv::kernels::gemm_part(g, t, threads);
      INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " threads=" << threads);
      REQUIRE(bit_identical(whole, parts));
    }
  }
}

TEST_CASE("gemm shares big products by each thread's pace, and the result stays the same bits",
          "[ch14][gemm]") {
  // 2^26 multiply-adds and up are shared by pace; 9 and 172 tiles to cut with the AVX-512
  // tile (33 and 172 without), with a remainder.
  struct Shape {
    bool ta, tb;
    int64_t M, N, K;
  };
  const int saved = omp_get_max_threads();
  for (Shape s : {Shape{false, true, 512, 520, 256}, Shape{true, false, 1030, 130, 512}}) {
    const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    const auto A = random_matrix(s.M * s.K, 61), B = random_matrix(s.K * s.N, 62);
    const auto C0 = random_matrix(s.M * s.N, 63);
    auto whole = C0;
    qkv::kernels::gemm_set_paces({});
    omp_set_num_threads(1);
    gemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 1.f, whole.data(), s.N);
    const qkv::kernels::Gemm g0(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 1.f,
                                nullptr, s.N);
    const std::vector<std::vector<double>> paces{{1, 3}, {3, 1}, {1, 1, 2}, {2, 1, 1}};
    for (const auto& pace : paces) {
      const int threads = static_cast<int>(pace.size());
      omp_set_num_threads(threads);
      qkv::kernels::gemm_set_paces(pace);
      qkv::kernels::gemm_prepare_parts();
      INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " threads=" << threads << " first pace "
                << pace[0]);
      // beta = 1: an element two threads both computed would be added twice, one nobody
      // computed not at all; either would differ from the one-thread result.
      auto parts = C0;
      qkv::kernels::Gemm g = g0;
      g.C = parts.data();
      for (int t = 0; t < threads; ++t) qkv::kernels::gemm_part(g, t, threads);
      REQUIRE(bit_identical(whole, parts));
      // Thread 0 alone: its share of C follows its pace (to whole tiles).
      auto first = C0;
      g.C = first.data();
      qkv::kernels::gemm_part(g, 0, threads);
      int64_t changed = 0;
      for (size_t i = 0; i < first.size(); ++i) changed += first[i] != C0[i];
      double total = 0;
      for (double x : pace) total += x;
      REQUIRE(static_cast<double>(changed) / first.size() == Approx(pace[0] / total).margin(0.07));
      // In a real region of as many threads, shared by the paces set: the same bits.
      auto threaded = C0;
      g.C = threaded.data();
      qkv::kernels::gemm_set_paces(pace);
      qkv::kernels::gemm_prepare_parts();
#pragma omp parallel num_threads(threads)
      qkv::kernels::gemm_part(g, omp_get_thread_num(), omp_get_num_threads());
      REQUIRE(bit_identical(whole, threaded));
      // gemm() itself, shared by the paces the products above measured: the same bits.
      auto by_gemm = C0;
      gemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 1.f, by_gemm.data(), s.N);
      REQUIRE(bit_identical(whole, by_gemm));
    }
  }
  // Paces 10 apart: each is held within 2x of the mean (5.5), so 2.75 : 10, and thread 0 gets
  // 0.216 of the work, not 0.09. With 2 tiles each way at most (8×32 tiles with AVX-512, 6×16
  // without) that rounds to no tiles at all for thread 0: thread 1 computes the whole product.
  {
    const int64_t M = 12, N = 32, K = 174763;  // 2^26 multiply-adds, just
    const auto A = random_matrix(M * K, 67), B = random_matrix(K * N, 68);
    const auto C0 = random_matrix(M * N, 69);
    auto whole = C0;
    omp_set_num_threads(1);
    gemm(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 1.f, whole.data(), N);
    omp_set_num_threads(2);
    qkv::kernels::gemm_set_paces({1, 10});
    qkv::kernels::gemm_prepare_parts();
    auto first = C0, parts = C0;
    qkv::kernels::Gemm g(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 1.f, first.data(),
                         N);
    qkv::kernels::gemm_part(g, 0, 2);
    REQUIRE(first == C0);  // thread 0: nothing
    g.C = parts.data();
    for (int t = 0; t < 2; ++t) qkv::kernels::gemm_part(g, t, 2);
    REQUIRE(bit_identical(whole, parts));
    // The clamp, on a product with tiles enough to see it: 0.216 of 172 row tiles.
    const Shape s{true, false, 1030, 130, 512};
    const auto A2 = random_matrix(s.M * s.K, 70), B2 = random_matrix(s.K * s.N, 71);
    const auto C2 = random_matrix(s.M * s.N, 72);
    auto share = C2;
    qkv::kernels::gemm_set_paces({1, 10});
    qkv::kernels::gemm_prepare_parts();
    const qkv::kernels::Gemm g2(true, false, s.M, s.N, s.K, 1.f, A2.data(), s.M, B2.data(), s.N,
                                1.f, share.data(), s.N);
    qkv::kernels::gemm_part(g2, 0, 2);
    int64_t changed = 0;
    for (size_t i = 0; i < share.size(); ++i) changed += share[i] != C2[i];
    REQUIRE(static_cast<double>(changed) / share.size() == Approx(2.75 / 12.75).margin(0.03));
  }
  // A thread without a pace yet (say a product too small to split ran on one thread only):
  // equal shares, not a share of nothing for it.
  {
    const Shape s{false, true, 512, 520, 256};
    const auto A = random_matrix(s.M * s.K, 64), B = random_matrix(s.K * s.N, 65);
    const auto C0 = random_matrix(s.M * s.N, 66);
    auto first = C0;
    omp_set_num_threads(2);
    qkv::kernels::gemm_set_paces({1e9, 0});
    qkv::kernels::gemm_prepare_parts();
    const qkv::kernels::Gemm g(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), s.K, B.data(), s.K, 1.f,
                               first.data(), s.N);
    qkv::kernels::gemm_part(g, 0, 2);
    int64_t changed = 0;
    for (size_t i = 0; i < first.size(); ++i) changed += first[i] != C0[i];
    REQUIRE(static_cast<double>(changed) / first.size() == Approx(0.5).margin(0.07));
  }
  qkv::kernels::gemm_set_paces({});
  omp_set_num_threads(saved);
}

TEST_CASE(
    "gemm splits the sum over k of a small C among the threads, and the result stays the "
    "same bits",
    "[ch14][gemm]") {
  // Weight-gradient shapes, dW = dyᵀ·x: C at most 256 columns or rows per thread, K over 2 to 7
  // KC = 256 slices, so 2 and 3 threads each sum their own slices and add them in order; N of
  // 16 and 32 take the narrow tiles, and C is also stored with rows wider than N. beta = 1 and
  // 0.5 add onto C; beta = 0 over NaN must ignore C. alpha = 0.5 and a bias take the usual split
  // (the slices could not be added unrounded): the same bits too.
  ThreadCountGuard guard;
  struct Shape {
    bool ta, tb;
    int64_t M, N, K, pad_c;
  };
  using qkv::kernels::gemm_products_split_by_k;
  for (Shape s : {Shape{true, false, 128, 128, 640, 0}, Shape{true, false, 64, 64, 513, 0},
                  Shape{true, false, 100, 64, 1792, 0}, Shape{false, false, 5, 256, 1000, 0},
                  Shape{false, true, 300, 200, 1100, 0}, Shape{true, true, 31, 500, 768, 0},
                  Shape{true, false, 64, 16, 1100, 0}, Shape{true, false, 64, 64, 300, 0},
                  Shape{false, false, 70, 32, 640, 5}, Shape{true, false, 128, 100, 520, 3}})
    for (float beta : {0.f, 1.f, 0.5f})
      for (float alpha : {1.f, 0.5f}) {
        const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N, ldc = s.N + s.pad_c;
        const auto A = random_matrix(s.M * s.K, 81), B = random_matrix(s.K * s.N, 82);
        auto C0 = random_matrix(s.M * ldc, 83);
        if (beta == 0.f) std::fill(C0.begin(), C0.end(), std::numeric_limits<float>::quiet_NaN());
        auto one = C0;
        omp_set_num_threads(1);
        gemm(s.ta, s.tb, s.M, s.N, s.K, alpha, A.data(), lda, B.data(), ldb, beta, one.data(), ldc);
        // A second, different and larger product, run after the first in one region: the
        // threads' buffers are written again (and grow) while no thread may still read them.
        const int64_t M2 = s.M + 37;
        const int64_t lda2 = s.ta ? M2 : s.K;
        const auto A2 = random_matrix(M2 * s.K, 87), B2 = random_matrix(s.K * s.N, 88);
        const auto C2 = random_matrix(M2 * s.N, 89);
        auto one2 = C2;
        gemm(s.ta, s.tb, M2, s.N, s.K, alpha, A2.data(), lda2, B2.data(), ldb, 1.f, one2.data(),
             s.N);
        for (int threads : {2, 3}) {
          INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " ta=" << s.ta << " tb=" << s.tb
                    << " ldc=" << ldc << " alpha=" << alpha << " beta=" << beta
                    << " threads=" << threads);
          omp_set_num_threads(threads);
          const int64_t split_before = gemm_products_split_by_k();
          auto by_gemm = C0;
          gemm(s.ta, s.tb, s.M, s.N, s.K, alpha, A.data(), lda, B.data(), ldb, beta, by_gemm.data(),
               ldc);
          REQUIRE(bit_identical(one, by_gemm));
          // Split by k exactly when alpha is 1 and there is a slice for every thread (every
          // shape here is small enough).
          const int64_t kc = qkv::kernels::gemm_blocks().KC, slices = (s.K + kc - 1) / kc;
          REQUIRE(gemm_products_split_by_k() - split_before ==
                  (alpha == 1.f && slices >= threads ? 1 : 0));
          auto first = C0, second = C2;
          const qkv::kernels::Gemm g1(s.ta, s.tb, s.M, s.N, s.K, alpha, A.data(), lda, B.data(),
                                      ldb, beta, first.data(), ldc);
          const qkv::kernels::Gemm g2(s.ta, s.tb, M2, s.N, s.K, alpha, A2.data(), lda2, B2.data(),
                                      ldb, 1.f, second.data(), s.N);
          qkv::kernels::gemm_prepare_parts();
#pragma omp parallel num_threads(threads)
          {
            qkv::kernels::gemm_part(g1, omp_get_thread_num(), omp_get_num_threads());
            qkv::kernels::gemm_part(g2, omp_get_thread_num(), omp_get_num_threads());
          }
          REQUIRE(bit_identical(one, first));
          REQUIRE(bit_identical(one2, second));
        }
      }
  // With a bias (the linear layers' forward): never split by k, the same bits.
  {
    const int64_t M = 64, N = 64, K = 640;
    const auto A = random_matrix(M * K, 84), B = random_matrix(N * K, 85),
               bias = random_matrix(N, 86);
    std::vector<float> one(M * N), two(M * N);
    omp_set_num_threads(1);
    qkv::kernels::gemm({false, true, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, one.data(), N,
                        bias.data(), true});
    omp_set_num_threads(2);
    const int64_t split_before = qkv::kernels::gemm_products_split_by_k();
    qkv::kernels::gemm({false, true, M, N, K, 1.f, A.data(), K, B.data(), K, 0.f, two.data(), N,
                        bias.data(), true});
    REQUIRE(qkv::kernels::gemm_products_split_by_k() == split_before);
    REQUIRE(bit_identical(one, two));
  }
}

TEST_CASE("a sum of products that are all -0 is +0, as a sum started from zero gives",
          "[ch03][gemm]") {
  // 0 · (−1) = −0, and +0 + (−0) = +0: the micro-kernel's first step is fma(a, b, +0), not a·b,
  // so a tile whose every product is −0 comes out +0, as the reference (and one accumulator
  // started at zero, then added to) gives. One term, three, and over two KC slices.
  for (int64_t K : {1, 3, 300}) {
    const int64_t M = 13, N = 70;
    const std::vector<float> A(M * K, 0.f), B(K * N, -1.f);
    std::vector<float> C(M * N, 5.f), R(M * N, 5.f);
    gemm(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    gemm_reference(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, R.data(), N);
    INFO("K=" << K);
    for (size_t i = 0; i < C.size(); ++i) {
      REQUIRE(C[i] == 0.f);
      REQUIRE_FALSE(std::signbit(C[i]));
      REQUIRE_FALSE(std::signbit(R[i]));
    }
  }
}

TEST_CASE("gemm_part with claims: whichever thread claims which rows, the bits of gemm()",
          "[ch03][gemm]") {
  struct Shape {
    bool ta, tb;
    int64_t M, N, K;
    bool claimed;  // split by rows, B packed in at most 1 MB: shared by claims
  };
  // A Linear's forward ([640, 64]·[64, 64]ᵀ) and input gradient, rows that are not a whole
  // number of tiles, the narrow tiles (N <= 16, N <= 32), a bias, two tiles in all (one claim),
  // sums of two and three slices (K > 256: each claim sums its tiles slice after slice);
  // and, not claimed, a B too big to pack whole (2 slices × 1152 columns) and a product split
  // by columns. Written over NaN (β = 0) and added to C (β = 1, as a second consumer's
  // gradient is).
  for (Shape s : {Shape{false, true, 640, 64, 64, true}, Shape{false, false, 640, 64, 128, true},
                  Shape{false, true, 301, 128, 100, true}, Shape{false, false, 200, 16, 64, true},
                  Shape{true, false, 150, 32, 64, true}, Shape{false, true, 20, 16, 64, true},
                  Shape{false, true, 640, 64, 300, true}, Shape{false, false, 640, 128, 512, true},
                  Shape{true, true, 701, 100, 600, true}, Shape{false, true, 640, 1100, 300, false},
                  Shape{false, false, 12, 640, 64, false}}) {
    const int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    const auto A = random_matrix(s.M * s.K, 61), B = random_matrix(s.K * s.N, 62);
    const auto bias = random_matrix(s.N, 63);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (float beta : {0.f, 1.f}) {
      // β = 0 over NaN: a row no thread computed stays NaN. β = 1 adds to C0.
      const std::vector<float> c0 = beta == 0.f
                                        ? std::vector<float>(static_cast<size_t>(s.M * s.N), nan)
                                        : random_matrix(s.M * s.N, 64);
      std::vector<float> whole = c0;
      auto product = [&](std::vector<float>& c) {
        return qkv::kernels::Gemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb,
                                  beta, c.data(), s.N, beta == 0.f ? bias.data() : nullptr);
      };
      {  // the reference: gemm() on one thread, the plain loop nest, no claims
        ThreadCountGuard guard;
        omp_set_num_threads(1);
        qkv::kernels::gemm(product(whole));
      }
      INFO("M=" << s.M << " N=" << s.N << " K=" << s.K << " beta " << beta);
      // Thread 0 first: it claims every row. Thread 1 first: it does. Then a real region.
      for (int order : {0, 1, 2}) {
        INFO("order " << order);
        std::vector<float> parts = c0;
        const qkv::kernels::Gemm g = product(parts);
        qkv::kernels::GemmClaims claims;
        const int64_t before = qkv::kernels::gemm_products_claimed();
        if (order < 2) {
          qkv::kernels::gemm_part(g, order, 2, &claims);
          qkv::kernels::gemm_part(g, 1 - order, 2, &claims);
        } else {
#pragma omp parallel num_threads(2)
          qkv::kernels::gemm_part(g, omp_get_thread_num(), omp_get_num_threads(), &claims);
        }
        REQUIRE(bit_identical(whole, parts));
        // (A runtime that gives the region one thread shares nothing.)
        if (order < 2 || omp_get_max_threads() >= 2)
          CHECK(qkv::kernels::gemm_products_claimed() - before == (s.claimed ? 1 : 0));
      }
    }
  }
}
