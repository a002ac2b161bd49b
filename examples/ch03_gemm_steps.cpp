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
#include <string>
#include <vector>

#include "autograd/kernels/gemm.h"
#include "autograd/random.h"
#include "examples/cli.h"
#include "examples/gemm_stages.h"
#include "examples/plot/diagram.h"
#include "examples/plot/figure_file.h"

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
  qkv::Generator rng(seed);
  Matrix v(static_cast<size_t>(n));
  for (float& x : v)
    x = integers ? static_cast<float>(static_cast<int>(rng.randint(7)) - 3)  // -3 .. 3
                 : rng.uniform(-1.f, 1.f);                                   // [-1, 1)
  return v;
}

// docs/img/ch03_gemm_blocking.svg: which blocks of A, B and C the library's gemm works on at
// one moment, and the loop nest that walks them. A schematic, not to scale; the block sizes
// named in it are the constants of autograd/kernels/gemm.cpp that chapter 03 discusses.
void write_figures(const char* dir) {
  qkv::plot::Diagram d(1000, 470,
                       "the library's GEMM, C += A·B: blocks for the caches, a tile for the "
                       "registers");
  const char* a_col = "#c6dbef";
  const char* a_dark = "#4292c6";
  const char* b_col = "#fdd0a2";
  const char* b_dark = "#e6550d";
  const char* c_col = "#c7e9c0";
  const char* c_dark = "#31a354";
  d.box(220, 40, 300, 150, "white", {}, "#444");   // B [K, N]
  d.box(40, 210, 150, 220, "white", {}, "#444");   // A [M, K]
  d.box(220, 210, 300, 220, "white", {}, "#444");  // C [M, N]
  d.text(214, 56, "B  [K, N]", "end", 13);
  d.text(115, 446, "A  [M, K]", "middle", 13);
  d.text(370, 446, "C  [M, N]", "middle", 13);
  // The KC-slice of the sum: columns of A, rows of B.
  d.box(220, 90, 200, 50, b_col, {}, b_dark);    // B block KC × NC
  d.box(260, 90, 40, 50, b_dark, {}, b_dark);    // one NR-wide panel
  d.box(90, 270, 50, 110, a_col, {}, a_dark);    // A block MC × KC
  d.box(90, 270, 50, 18, a_dark, {}, a_dark);    // one MR-tall panel
  d.box(220, 270, 200, 110, c_col, {}, c_dark);  // C block MC × NC
  d.box(260, 270, 40, 18, c_dark, {}, c_dark);   // the MR × NR tile
  d.text(425, 118, "KC × NC block", "start", 11, b_dark);
  d.text(280, 86, "NR", "middle", 10, b_dark);
  d.text(86, 282, "MR", "end", 10, a_dark);
  d.text(115, 394, "MC × KC", "middle", 11, a_dark);
  d.text(425, 330, "MC × NC block of C", "start", 11, c_dark);
  d.arrow(280, 140, 280, 266, "");
  d.arrow(140, 279, 256, 279, "");
  const char* lines[] = {"for jc in N, step NC                 (a block of columns of C)",
                         "  for pc in K, step KC               (a slice of the sum over k)",
                         "    pack B[pc:+KC, jc:+NC] into NR-wide panels      → L3",
                         "    for ic in M, step MC",
                         "      pack A[ic:+MC, pc:+KC] into MR-tall panels    → L2",
                         "      for jr in NC, step NR",
                         "        for ir in MC, step MR",
                         "          micro-kernel: the MR × NR tile of C",
                         "          += A panel (MR × KC) · B panel (KC × NR)",
                         "          accumulated in vector registers"};
  const char* colours[] = {"#222", "#222", "#e6550d", "#222",    "#4292c6",
                           "#222", "#222", "#31a354", "#31a354", "#31a354"};
  for (int i = 0; i < 10; ++i) {  // SVG collapses spaces: indent by position instead
    const std::string line = lines[i];
    const size_t indent = line.find_first_not_of(' ');
    d.text(560 + 7.0 * static_cast<double>(indent), 70 + 20.0 * i, line.substr(indent), "start", 12,
           colours[i]);
  }
  d.text(560, 300, "AVX-512 build: MR × NR = 6 × 64 (24 vector registers),", "start", 11, "#555");
  d.text(560, 316, "KC = 256, MC = 384, NC = 2048 (autograd/kernels/gemm.cpp);", "start", 11,
         "#555");
  d.text(560, 332, "packing is the only step that knows whether A or B is", "start", 11, "#555");
  d.text(560, 348, "transposed, so all four layouts share one micro-kernel.", "start", 11, "#555");
  d.text(560, 380, "A schematic, not to scale.", "start", 11, "#555");
  qkv::plot::write_figure(dir, "ch03_gemm_blocking.svg", d.str());
}

}  // namespace

int run_chapter() {
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

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch03_gemm_steps",
      "Chapter 03: the steps from the triple loop to the library's GEMM compute the same thing.",
      run_chapter, write_figures);
}
