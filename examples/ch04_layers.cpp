// Chapter 04: the first layers, with numbers small enough to check by hand.
//
//   Linear     y = x·Wᵀ + b and its three gradients, against the formulas
//   Init       PyTorch's default versus Xavier: what each does to the size of y
//   ReLU/GELU  values and derivatives (GELU is the exact erf form)
//   Embedding  a lookup is a one-hot matmul; scatter-add backward; the padding row
//   Dropout    inverted scaling in training, identity in evaluation
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "examples/cli.h"
#include "nn/layers.h"

using namespace qkv;

namespace {

void print_matrix(const char* name, const Tensor& t) {
  const int64_t rows = t.dim() == 1 ? 1 : t.size(0), cols = t.size(-1);
  std::printf("%s %s\n", name, shape_str(t.shape()).c_str());
  for (int64_t i = 0; i < rows; ++i) {
    std::printf("  ");
    for (int64_t j = 0; j < cols; ++j) std::printf(" %9.4f", t.data()[i * cols + j]);
    std::printf("\n");
  }
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  float m = 0.f;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::fmax(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}

float stddev(const Tensor& t) {
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s += t.data()[i];
    s2 += static_cast<double>(t.data()[i]) * t.data()[i];
  }
  const double n = static_cast<double>(t.numel()), mean = s / n;
  return static_cast<float>(std::sqrt(s2 / n - mean * mean));
}

void linear_by_hand() {
  std::printf("== Linear: y = x·Wᵀ + b ==\n");
  Generator gen(0);
  nn::Linear lin(3, 2, gen);
  // Set the weights by hand so the arithmetic can be followed.
  const std::vector<float> w = {1, 2,  3,  //
                                0, -1, 1};
  const std::vector<float> b = {0.5f, -1};
  std::copy(w.begin(), w.end(), lin.weight.data());
  std::copy(b.begin(), b.end(), lin.bias.data());
  Tensor x = Tensor::from_vector({1, 0, -1,  //
                                  2, 1, 0},
                                 {2, 3}, true);
  Tensor y = lin.forward(x);
  print_matrix("x", x);
  print_matrix("W", lin.weight);
  print_matrix("b", lin.bias);
  print_matrix("y = x·Wᵀ + b", y);
  // A loss whose gradient with respect to y is a chosen dy: L = Σ y ⊙ dy.
  Tensor dy = Tensor::from_vector({1, -1,  //
                                   2, 0.5f},
                                  {2, 2});
  sum(mul(y, dy)).backward();
  print_matrix("dy (chosen)", dy);
  print_matrix("dx = dy·W      (autograd)", x.grad());
  print_matrix("dW = dyᵀ·x     (autograd)", lin.weight.grad());
  print_matrix("db = Σ_rows dy (autograd)", lin.bias.grad());
  // The same three gradients straight from the formulas, with plain matmuls.
  Tensor W = lin.weight.detach();
  Tensor dx_formula = matmul(dy, W);
  Tensor dW_formula = matmul(transpose(dy, 0, 1), x.detach());
  Tensor db_formula = sum(dy, 0);
  std::printf("max |autograd − formula|: dx %.1e  dW %.1e  db %.1e\n\n",
              max_abs_diff(x.grad(), dx_formula), max_abs_diff(lin.weight.grad(), dW_formula),
              max_abs_diff(lin.bias.grad(), db_formula));
}

void init_study() {
  std::printf("== Initialisation: Linear(256, 256) on x ~ N(0, 1), 512 rows ==\n");
  Generator data_gen(1);
  Tensor x = Tensor::randn({512, 256}, data_gen);
  for (auto init : {nn::Init::PyTorch, nn::Init::Xavier}) {
    Generator gen(2);
    nn::Linear lin(256, 256, gen, /*bias=*/false, init);
    Tensor y = lin.forward(x);
    Tensor h = x;  // ten layers deep, without activations: does the signal survive?
    for (int layer = 0; layer < 10; ++layer) {
      nn::Linear l(256, 256, gen, false, init);
      h = l.forward(h);
    }
    const bool pt = init == nn::Init::PyTorch;
    std::printf(
        "%-8s bound %.4f  std(W) %.4f  std(y) %.4f (theory %.4f)  std after 10 layers %.4f\n",
        pt ? "PyTorch" : "Xavier", pt ? 1.0 / std::sqrt(256.0) : std::sqrt(6.0 / 512.0),
        stddev(lin.weight), stddev(y), pt ? std::sqrt(1.0 / 3.0) : 1.0, stddev(h));
  }
  std::printf("\n");
}

void activations() {
  std::printf("== ReLU and GELU (exact: x·Φ(x)) ==\n");
  const std::vector<float> xs = {-3, -1, -0.5f, 0.5f, 1, 3};
  Tensor x1 = Tensor::from_vector(xs, {6}, true), x2 = Tensor::from_vector(xs, {6}, true);
  Tensor r = relu(x1), g = gelu(x2);
  sum(r).backward();
  sum(g).backward();
  std::printf("     x     relu   relu'     gelu   gelu'  (Φ(x) + x·φ(x))\n");
  for (int i = 0; i < 6; ++i) {
    const double v = xs[i];
    const double formula = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) +
                           v * std::exp(-0.5 * v * v) / std::sqrt(2 * 3.14159265358979323846);
    std::printf("%6.2f %8.4f %7.4f %8.4f %7.4f  %7.4f\n", v, r.data()[i], x1.grad().data()[i],
                g.data()[i], x2.grad().data()[i], formula);
  }
  std::printf("\n");
}

void embedding_study() {
  std::printf("== Embedding: 5 tokens × 3 dims, padding_idx 0 ==\n");
  Generator gen(3);
  nn::Embedding emb(5, 3, gen, /*padding_idx=*/0);
  Tensor ids = Tensor::from_vector({2, 4, 2, 0}, {4});  // token 2 twice, then a pad
  Tensor y = emb.forward(ids);
  print_matrix("table (row 0 is <pad>, zeros)", emb.weight);
  print_matrix("lookup of ids [2, 4, 2, 0]", y);
  // The same thing as a matrix product: one-hot rows [4, 5] · table [5, 3].
  Tensor onehot = Tensor::zeros({4, 5});
  for (int i = 0; i < 4; ++i) onehot.data()[i * 5 + static_cast<int>(ids.data()[i])] = 1.f;
  std::printf("max |lookup − onehot·table| = %.1e\n",
              max_abs_diff(y, matmul(onehot, emb.weight.detach())));
  // Backward: give each position its own gradient and watch where it lands.
  Tensor dy = Tensor::from_vector({1, 1, 1,        //
                                   10, 10, 10,     //
                                   100, 100, 100,  //
                                   1000, 1000, 1000},
                                  {4, 3});
  sum(mul(y, dy)).backward();
  print_matrix("dy per position", dy);
  print_matrix("d table (row 2 = 1 + 100, row 4 = 10, pad row 0 gets nothing)", emb.weight.grad());
  std::printf("\n");
}

void dropout_study() {
  std::printf("== Dropout p = 0.5 on ten ones ==\n");
  nn::Dropout drop(0.5f, /*seed=*/7);
  Tensor x = Tensor::ones({10});
  drop.train();
  print_matrix("train", drop.forward(x));
  drop.eval();
  print_matrix("eval ", drop.forward(x));
  drop.train();
  Tensor big = drop.forward(Tensor::ones({100000}));
  std::printf("train-mode mean over 100000 ones: %.4f (the expectation is kept at 1)\n",
              sum(big).item() / 100000.f);
}

}  // namespace

int run_chapter() {
  linear_by_hand();
  init_study();
  activations();
  embedding_study();
  dropout_study();
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(argc, argv, "ch04_layers",
                                "Chapter 04: Linear, initialisation, ReLU/GELU, Embedding and "
                                "Dropout, with numbers small enough to check by hand.",
                                run_chapter);
}
