// Chapter 03: the steps from the triple loop to the library's GEMM compute the same thing.
//
// Each step of examples/gemm_stages.h, and the library's gemm on 1 and 2 threads, is run
// on the same matrices and compared with gemm_reference. With small integer entries every
// product and every partial sum is an integer far below 2^24, so float arithmetic is exact
// in any order: all steps must agree with the reference to the last bit. With random
// entries they differ by rounding, within the bound the tests use. No timings here (see
// build/bench_kernels): this program's output is the same on every run and every machine.
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "autograd/kernels/gemm.h"
#include "examples/gemm_stages.h"

namespace {

using Matrix = std::vector<float>;
using StepFn = void (*)(int64_t, int64_t, int64_t, const float*, const float*, float*);

constexpr int64_t M = 128, K = 100, N = 96;  // M a multiple of 8, N of 32 (step 4), M·N·K > 1M
                                             // (big enough for gemm to use 2 threads)

void library_1(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  omp_set_num_threads(1);
  qkv::kernels::gemm(false, false, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
}
void library_2(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  omp_set_num_threads(2);
  qkv::kernels::gemm(false, false, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
}

struct Step {
  const char* name;
  StepFn fn;
};
const Step kSteps[] = {
    {"1 naive triple loop (i, j, k)", qkv::gemm_stages::naive},
    {"2 loops reordered (i, k, j)", qkv::gemm_stages::reordered},
    {"3 + cache blocking", qkv::gemm_stages::blocked},
    {"4 + register tile", qkv::gemm_stages::register_tiled},
    {"5 library gemm, 1 thread", library_1},
    {"6 library gemm, 2 threads", library_2},
};

Matrix fill(int64_t n, uint32_t seed, bool integers) {
  std::mt19937 rng(seed);
  Matrix v(static_cast<size_t>(n));
  for (float& x : v)
    x = integers ? static_cast<float>(static_cast<int>(rng() % 7) - 3)    // -3 .. 3
                 : static_cast<float>(rng()) / 4294967296.f * 2.f - 1.f;  // [-1, 1)
  return v;
}

}  // namespace

int main() {
  const int saved_threads = omp_get_max_threads();
  std::printf("C = A·B, A [%lld x %lld], B [%lld x %lld]\n\n", static_cast<long long>(M),
              static_cast<long long>(K), static_cast<long long>(K), static_cast<long long>(N));

  // 1. Integer entries: exact arithmetic, every step must match to the last bit.
  const Matrix Ai = fill(M * K, 1, true), Bi = fill(K * N, 2, true);
  Matrix ref(M * N);
  qkv::kernels::gemm_reference(false, false, M, N, K, 1.f, Ai.data(), K, Bi.data(), N, 0.f,
                               ref.data(), N);
  std::printf("integer entries in [-3, 3]: C[0][0..3] = %g %g %g %g\n", ref[0], ref[1], ref[2],
              ref[3]);
  std::printf("%-32s %s\n", "step", "max |C - reference|");
  for (const Step& s : kSteps) {
    Matrix C(M * N, -1.f);
    s.fn(M, N, K, Ai.data(), Bi.data(), C.data());
    double worst = 0;
    for (int64_t i = 0; i < M * N; ++i) worst = std::max(worst, std::fabs(double(C[i]) - ref[i]));
    std::printf("%-32s %g\n", s.name, worst);
  }

  // 2. Random entries in [-1, 1): each step is within the rounding bound of the reference,
  //    (K + 2)·u·Σ_k |a_ik·b_kj| per element (u = 2^-24), and 1 vs 2 threads agree bit for bit.
  const Matrix Ar = fill(M * K, 3, false), Br = fill(K * N, 4, false);
  qkv::kernels::gemm_reference(false, false, M, N, K, 1.f, Ar.data(), K, Br.data(), N, 0.f,
                               ref.data(), N);
  std::printf(
      "\nrandom entries in [-1, 1): is every element within (K+2)·u·Σ|a·b| of the "
      "reference?\n");
  Matrix one, two;
  for (const Step& s : kSteps) {
    Matrix C(M * N);
    s.fn(M, N, K, Ar.data(), Br.data(), C.data());
    bool ok = true;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double abs_sum = 0;
        for (int64_t k = 0; k < K; ++k) abs_sum += std::fabs(double(Ar[i * K + k]) * Br[k * N + j]);
        const double bound = (K + 2) * std::ldexp(1.0, -24) * abs_sum;
        ok = ok && std::fabs(double(C[i * N + j]) - ref[i * N + j]) <= bound;
      }
    std::printf("%-32s %s\n", s.name, ok ? "yes" : "NO");
    if (s.fn == library_1) one = C;
    if (s.fn == library_2) two = C;
  }
  const bool same = std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0;
  std::printf("\nlibrary gemm on 1 and 2 threads bit-identical: %s\n", same ? "yes" : "NO");
  omp_set_num_threads(saved_threads);
  return 0;
}
