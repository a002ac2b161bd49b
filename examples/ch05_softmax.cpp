// Chapter 05: softmax, log-softmax and cross-entropy — the stable way, the gradient
// softmax − onehot, padding with ignore_index, and label smoothing.
// Run: build/ch05_softmax   (docs/05-softmax-cross-entropy.md shows and explains this output)
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "examples/cli.h"
#include "examples/plot/bar_chart.h"
#include "examples/plot/figure_file.h"

using namespace qkv;

static void heading(const char* title) {
  static bool first = true;
  std::printf("%s== %s ==\n", first ? "" : "\n", title);
  first = false;
}

static void print_row(const char* label, const std::vector<float>& v) {
  std::printf("%s", label);
  // NaN is printed as "nan" whatever its sign bit (printf would show "-nan" for some).
  for (float x : v) std::isnan(x) ? std::printf(" %9s", "nan") : std::printf(" %9.4f", x);
  std::printf("\n");
}

// docs/img/ch05_label_smoothing.svg: for 5 classes and target class 0, the one-hot target,
// the smoothed target (eps = 0.1) and a model's softmax, class by class.
static void write_figures(const char* dir) {
  const float eps = 0.1f;
  const int64_t C = 5;
  Tensor logits = Tensor::from_vector({2.0f, 1.0f, 0.1f, -1.0f, 0.5f}, {1, C});
  const std::vector<float> p = softmax(logits, -1).to_vector();
  Tensor t0 = Tensor::from_vector({0}, {1});
  std::vector<plot::Bar> bars;
  for (int64_t c = 0; c < C; ++c) {
    const float onehot = c == 0 ? 1.f : 0.f, smooth = (1 - eps) * onehot + eps / C;
    const std::string cls = "class " + std::to_string(c) + (c == 0 ? " (target)" : "");
    char buf[3][16];
    std::snprintf(buf[0], 16, "%.2f", onehot);
    std::snprintf(buf[1], 16, "%.2f", smooth);
    std::snprintf(buf[2], 16, "%.3f", p[static_cast<size_t>(c)]);
    bars.push_back({cls + ": one-hot", onehot, buf[0], "#bdbdbd"});
    bars.push_back({cls + ": smoothed", smooth, buf[1], "#2ca02c"});
    bars.push_back({cls + ": softmax(x)", p[static_cast<size_t>(c)], buf[2], "#4292c6"});
  }
  char note[2][200];
  std::snprintf(note[0], 200,
                "logits x = [2, 1, 0.1, -1, 0.5]; eps = 0.1 moves 0.1 of the target's mass onto "
                "all 5 classes: 0.92 and 0.02 each");
  std::snprintf(note[1], 200,
                "cross-entropy of softmax(x) against the one-hot target %.3f, against the "
                "smoothed target %.3f",
                cross_entropy(logits, t0).item(), cross_entropy(logits, t0, -100, eps).item());
  plot::write_figure(dir, "ch05_label_smoothing.svg",
                     plot::bar_chart_svg(bars, "probability",
                                         "the target with and without label smoothing, and a "
                                         "model's softmax",
                                         {note[0], note[1]}));
}

int run_chapter() {
  heading("softmax");
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}, true);
  Tensor y = softmax(x);
  print_row("x           =", x.to_vector());
  print_row("softmax(x)  =", y.to_vector());
  std::printf("sum         = %.4f\n", sum(y).item());
  print_row("softmax(x+100) =", softmax(x.detach() + 100.f).to_vector());

  heading("the backward of softmax is a Jacobian-vector product");
  // dx = J·dy with J = diag(y) − y·yᵀ; the op computes it as y ⊙ (dy − ⟨dy, y⟩) without J.
  Tensor dy = Tensor::from_vector({1, 0, -1}, {3});
  y.backward(dy);
  print_row("dy                 =", dy.to_vector());
  print_row("x.grad (the op)    =", x.grad().to_vector());
  const std::vector<float> yv = y.to_vector(), gv = dy.to_vector();
  std::vector<float> by_hand(3, 0.f);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) by_hand[i] += ((i == j ? yv[i] : 0.f) - yv[i] * yv[j]) * gv[j];
  print_row("J*dy (full matrix) =", by_hand);

  heading("the log-sum-exp trick");
  Tensor big = Tensor::from_vector({10000, 0, -10000}, {3});
  Tensor e = exp(big);
  print_row("exp(x)                    =", e.to_vector());
  print_row("naive exp(x) / sum exp(x) =", (e / sum(e)).to_vector());
  print_row("softmax(x)                =", softmax(big).to_vector());
  print_row("naive log(softmax(x))     =", log(softmax(big)).to_vector());
  print_row("log_softmax(x)            =", log_softmax(big).to_vector());
  Tensor masked = Tensor::full({3}, -INFINITY);
  print_row("softmax of a row all -inf =", softmax(masked).to_vector());

  heading("cross-entropy");
  // Two rows of three logits; the right classes are 0 and 1.
  Tensor logits = Tensor::from_vector({2.0f, 1.0f, 0.1f, 0.5f, 2.5f, 0.3f}, {2, 3}, true);
  Tensor targets = Tensor::from_vector({0, 1}, {2});
  Tensor loss = cross_entropy(logits, targets);
  Tensor lse = log(sum(exp(logits.detach()), 1));
  std::printf("log-sum-exp of each row     = %.4f %.4f\n", lse.at({0}), lse.at({1}));
  std::printf("by hand: mean(lse - x_t)    = (%.4f + %.4f) / 2 = %.4f\n", lse.at({0}) - 2.0f,
              lse.at({1}) - 2.5f, (lse.at({0}) - 2.0f + lse.at({1}) - 2.5f) / 2);
  std::printf("cross_entropy(logits, t)    = %.4f\n", loss.item());
  loss.backward();
  Tensor p = softmax(logits.detach());
  std::cout << "softmax(logits) =\n" << p << "\n";
  std::cout << "logits.grad = (softmax - onehot) / 2 =\n" << logits.grad() << "\n";

  heading("ignore_index: padding positions do not count");
  const int64_t pad = 0;
  Tensor logits3 =
      Tensor::from_vector({2.0f, 1.0f, 0.1f, 0.5f, 2.5f, 0.3f, 9.f, -9.f, 3.f}, {3, 3}, true);
  Tensor with_pad = Tensor::from_vector({1, 1, pad}, {3});
  Tensor l3 = cross_entropy(logits3, with_pad, /*ignore_index=*/pad);
  Tensor l1 = cross_entropy(slice(logits3.detach(), 0, 1, 2), Tensor::from_vector({1}, {1}));
  Tensor l0 = cross_entropy(slice(logits3.detach(), 0, 0, 1), Tensor::from_vector({1}, {1}));
  std::printf("targets [1, 1, <pad>]: loss = %.4f = mean of the two real rows (%.4f + %.4f) / 2\n",
              l3.item(), l0.item(), l1.item());
  l3.backward();
  std::cout << "the padded row gets no gradient:\n" << logits3.grad() << "\n";

  heading("label smoothing");
  const float eps = 0.1f;
  const int64_t C = 3;
  std::printf("eps = %.1f, C = %lld: target for class 0 is (1 - eps) * onehot + eps / C =", eps,
              static_cast<long long>(C));
  for (int64_t c = 0; c < C; ++c) std::printf(" %.4f", (c == 0 ? 1 - eps : 0.f) + eps / C);
  std::printf("\n");
  Tensor one = Tensor::from_vector({2.0f, 1.0f, 0.1f}, {1, 3}, true);
  Tensor t0 = Tensor::from_vector({0}, {1});
  std::printf("loss without smoothing = %.4f, with = %.4f\n", cross_entropy(one, t0).item(),
              cross_entropy(one, t0, -100, eps).item());
  Tensor extreme = Tensor::from_vector({10000, -10000, 0}, {1, 3}, true);
  Tensor ls = cross_entropy(extreme, t0, -100, eps);
  ls.backward();
  // Two decimals: the last float digits of this loss depend on the compiler's flags.
  std::printf("logits [1e4, -1e4, 0], smoothed loss = %.2f (finite)\n", ls.item());
  print_row("  its gradient softmax - q =", extreme.grad().to_vector());
  // The way not to do it: smooth the loss with log(softmax), where a probability of 0 gives
  // log 0 = -inf, and 0.0333 * -inf = -inf.
  Tensor logp = log(softmax(extreme.detach()));
  Tensor q = Tensor::from_vector({1 - eps + eps / C, eps / C, eps / C}, {1, 3});
  std::printf("the same with -sum(q * log(softmax(x))) = %.4f\n", -sum(q * logp).item());
  // The floor: no logits do better than log q itself, where the loss is q's entropy. V = 14
  // is train_translator's copy task, V = 516 the toy corpus's target vocabulary (chapter 12).
  for (int64_t V : {int64_t{14}, int64_t{516}}) {
    std::vector<float> best(static_cast<size_t>(V), std::log(eps / V));
    best[0] = std::log(1 - eps + eps / V);
    const float floor = cross_entropy(Tensor::from_vector(best, {1, V}), t0, -100, eps).item();
    std::printf("smallest smoothed loss, V = %lld (logits = log q): %.3f\n",
                static_cast<long long>(V), floor);
  }
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch05_softmax",
      "Chapter 05: softmax, log-softmax and cross-entropy, with label smoothing.", run_chapter,
      write_figures);
}
