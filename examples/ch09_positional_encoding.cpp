// Chapter 09: positional encoding.
//
//   1. the permutation experiment: self-attention alone cannot tell a1, a2, a3 from
//      a1, a3, a2; with the sinusoidal encoding added, it can
//   2. a small table of the paper's sinusoidal encoding
//   3. PE(pos + k) is a fixed linear function (a rotation) of PE(pos), for every pos
//   4. PE(p)·PE(p + k) depends on the offset k only
//   5. learned positions: a parameter table with a row per position, and its limits
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "autograd/engine.h"
#include "examples/cli.h"
#include "examples/plot/figure_file.h"
#include "examples/plot/heatmap.h"
#include "examples/report.h"
#include "nn/attention.h"
#include "nn/layers.h"

using namespace qkv;
using namespace qkv::nn;

namespace {

using report::bound;

void print_rows(const char* name, const Tensor& t, int64_t rows, int64_t cols, int decimals = 4) {
  std::printf("%s\n", name);
  for (int64_t i = 0; i < rows; ++i) {
    std::printf("  ");
    for (int64_t j = 0; j < cols; ++j)
      std::printf(" %*.*f", decimals + 4, decimals, t.data()[i * cols + j]);
    std::printf("\n");
  }
}

// max over the d entries of |row i of a − row j of b|
float row_delta(const Tensor& a, int64_t i, const Tensor& b, int64_t j, int64_t d) {
  float m = 0.f;
  for (int64_t c = 0; c < d; ++c)
    m = std::fmax(m, std::fabs(a.data()[i * d + c] - b.data()[j * d + c]));
  return m;
}

void permutation_experiment() {
  std::printf("== 1. the permutation experiment (one head, embed_dim 2) ==\n");
  Generator gen(2017);
  MultiHeadAttention attn(2, 1, gen);
  Tensor t1 = Tensor::from_vector({1, 2, 2, 3, 3, 4}, {1, 3, 2});  // a1, a2, a3
  Tensor t2 = Tensor::from_vector({1, 2, 3, 4, 2, 3}, {1, 3, 2});  // a1, a3, a2
  Tensor pe = sinusoidal_positions(3, 2);
  NoGradGuard no_grad;
  for (bool with_pe : {false, true}) {
    Tensor x1 = with_pe ? add(t1, pe) : t1, x2 = with_pe ? add(t2, pe) : t2;
    Tensor b1 = attn.forward(x1, x1, x1), b2 = attn.forward(x2, x2, x2);
    std::printf("%s\n", with_pe ? "-- with sinusoidal positions added --"
                                : "-- without positional encoding --");
    print_rows("outputs for a1, a2, a3:", b1, 3, 2, 4);
    print_rows("outputs for a1, a3, a2:", b2, 3, 2, 4);
    std::printf("|b1 - b1'| %s   |b2 - b3'| %s   |b3 - b2'| %s\n",
                bound(row_delta(b1, 0, b2, 0, 2)).c_str(),
                bound(row_delta(b1, 1, b2, 2, 2)).c_str(),
                bound(row_delta(b1, 2, b2, 1, 2)).c_str());
  }
  std::printf("\n");
}

void pe_table() {
  std::printf("== 2. PE(pos, 2i) = sin(pos/10000^(2i/d)), PE(pos, 2i+1) = cos(...), d = 8 ==\n");
  Tensor pe = sinusoidal_positions(6, 8);
  std::printf("pos       i=0 sin  i=0 cos  i=1 sin  i=1 cos  i=2 sin  i=2 cos  i=3 sin  i=3 cos\n");
  for (int64_t p = 0; p < 6; ++p) {
    std::printf("%3lld  ", static_cast<long long>(p));
    for (int64_t j = 0; j < 8; ++j) std::printf(" %8.4f", pe.data()[p * 8 + j]);
    std::printf("\n");
  }
  std::printf("wavelengths 2π·10000^(2i/d): ");
  for (int i = 0; i < 4; ++i)
    std::printf("%.1f ", 2 * 3.14159265358979 * std::pow(10000.0, 2.0 * i / 8));
  std::printf("\n\n");
}

void shift_is_linear() {
  std::printf("== 3. PE(pos + k) = M_k · PE(pos), the same M_k for every pos (d = 16) ==\n");
  const int64_t d = 16, len = 1100;
  Tensor pe = sinusoidal_positions(len, d);
  for (int64_t k : {1, 5, 50}) {
    // M_k rotates each (sin, cos) pair by the angle ω_i·k:
    //   sin(ω(p+k)) =  cos(ωk)·sin(ωp) + sin(ωk)·cos(ωp)
    //   cos(ω(p+k)) = −sin(ωk)·sin(ωp) + cos(ωk)·cos(ωp)
    float worst = 0.f;
    for (int64_t p = 0; p + k < len; ++p)
      for (int64_t i = 0; 2 * i < d; ++i) {
        const double w = 1.0 / std::pow(10000.0, 2.0 * i / d), c = std::cos(w * k),
                     s = std::sin(w * k);
        const double sp = pe.data()[p * d + 2 * i], cp = pe.data()[p * d + 2 * i + 1];
        worst = std::fmax(
            worst, std::fabs(static_cast<float>(c * sp + s * cp) - pe.data()[(p + k) * d + 2 * i]));
        worst = std::fmax(worst, std::fabs(static_cast<float>(-s * sp + c * cp) -
                                           pe.data()[(p + k) * d + 2 * i + 1]));
      }
    std::printf("k = %2lld: max |M_k·PE(p) − PE(p+k)| %s over p = 0..%lld\n",
                static_cast<long long>(k), bound(worst).c_str(),
                static_cast<long long>(len - 1 - k));
  }
  std::printf("\n");
}

void dot_products() {
  std::printf("== 4. PE(p)·PE(p+k), d = 64: a function of k alone ==\n");
  const int64_t d = 64;
  Tensor pe = sinusoidal_positions(200, d);
  auto dot = [&](int64_t a, int64_t b) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += pe.data()[a * d + j] * pe.data()[b * d + j];
    return s;
  };
  std::printf("        k=0      k=1      k=5     k=20     k=80\n");
  for (int64_t p : {0, 10, 100}) {
    std::printf("p=%-3lld", static_cast<long long>(p));
    for (int64_t k : {0, 1, 5, 20, 80}) std::printf(" %8.4f", dot(p, p + k));
    std::printf("\n");
  }
  std::printf("\n");
}

void learned_positions() {
  std::printf("== 5. learned positions: PositionalEncoding(max_len 8, dim 4, learned) ==\n");
  Generator gen(5);
  PositionalEncoding learned(8, 4, /*learned=*/true, gen);
  for (auto& [name, p] : learned.named_parameters())
    std::printf("parameter %s %s, %lld numbers to train\n", name.c_str(),
                shape_str(p.shape()).c_str(), static_cast<long long>(p.numel()));
  // Train on sequences of length 6: rows 6 and 7 never receive a gradient.
  Tensor x = Tensor::zeros({1, 6, 4});
  sum(learned.forward(x)).backward();
  std::printf("gradient reaching each row after a length-6 batch:");
  for (int64_t r = 0; r < 8; ++r) std::printf(" %g", learned.table.grad().data()[r * 4]);
  std::printf("\n");
  try {
    learned.forward(Tensor::zeros({1, 10, 4}));
  } catch (const std::invalid_argument& e) {
    std::printf("a length-10 input: %s\n", e.what());
  }
  Tensor far = sinusoidal_positions(5000, 4);
  std::printf(
      "the sinusoidal formula has a row for any position, e.g. PE(4999) = [%.4f, %.4f, %.4f, "
      "%.4f]\n",
      far.data()[4999 * 4], far.data()[4999 * 4 + 1], far.data()[4999 * 4 + 2],
      far.data()[4999 * 4 + 3]);
}

// docs/img/ch09_sinusoidal.svg: the encoding of 50 positions at d_model = 64 as a heat map.
void write_figures(const std::string& dir) {
  Tensor pe = sinusoidal_positions(50, 64);  // [50, 64]
  plot::HeatmapStyle st;
  st.cell_w = 8;
  st.cell_h = 6;
  st.label_every = 8;
  st.lo = -1;
  st.hi = 1;
  st.diverging = true;
  st.scale_label = "PE value";
  st.notes = {
      "rows: position 0 to 49 (every 8th numbered); columns: dimension 0 to 63, sin in "
      "even, cos in odd columns",
      "the left columns turn fastest (wavelength 2π), the right ones slowest (up to "
      "2π·10000^(62/64)): each position gets its own pattern"};
  plot::write_figure(dir, "ch09_sinusoidal.svg",
                     plot::heatmap_svg({{"", plot::matrix(pe)}}, st,
                                       "the sinusoidal positional encoding, 50 positions × 64 "
                                       "dimensions"));
}

}  // namespace

int run_chapter() {
  permutation_experiment();
  pe_table();
  shift_is_linear();
  dot_products();
  learned_positions();
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(argc, argv, "ch09_positional_encoding",
                                "Chapter 09: positional encoding.", run_chapter, write_figures);
}
