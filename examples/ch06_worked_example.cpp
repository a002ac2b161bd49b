// Chapter 06: the two-token self-attention example, by the code, number by number.
//
// a1 = (1, 1), a2 = (1, 0) are the rows of A. Row vectors times matrices, as in the article:
// Q = A·W_q, K = A·W_k, V = A·W_v. W_q = [[1, 1], [0, 1]] gives q1 = (1, 2), q2 = (1, 1);
// W_k = W_v = A⁻¹ make K and V the identity (k1 = v1 = (1, 0), k2 = v2 = (0, 1)), so the
// output rows b1, b2 are the softmax weights themselves, easy to check by hand.
//
// Then: the gradients of L = Σ B ⊙ R for a fixed R, each beside a central finite difference
// of an independent double-precision re-implementation; the same Q, K, V scored four ways;
// "Tom chases Jerry" as weighted sums; and why the scores are divided by √d.
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/graph_writer.h"
#include "autograd/ops.h"
#include "examples/cli.h"
#include "examples/plot/figure_file.h"
#include "nn/attention_scores.h"

using namespace qkv;

namespace {

double tidy(double v) { return std::fabs(v) < 5e-5 ? 0.0 : v; }  // no "-0.0000"

// Prints "  <row name> = ( 1.0000,  2.0000)" for each row of a 2-D tensor.
void print_rows(const Tensor& t, const std::vector<std::string>& names) {
  for (int64_t i = 0; i < t.size(0); ++i) {
    std::printf("  %-6s = (", names[i].c_str());
    for (int64_t j = 0; j < t.size(1); ++j)
      std::printf("%s%7.4f", j ? ", " : "", tidy(t.data()[i * t.size(1) + j]));
    std::printf(")\n");
  }
}

// --- an independent reference: the same forward in double, plain loops ----------------
using M2 = std::array<double, 4>;  // a 2×2 matrix, row-major
M2 mm(const M2& a, const M2& b) {
  M2 c{};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) c[i * 2 + j] += a[i * 2 + k] * b[k * 2 + j];
  return c;
}
// L = Σ_ij B_ij R_ij with B = softmax(Q·Kᵀ/√2)·V
double reference_loss(const M2& A, const M2& Wq, const M2& Wk, const M2& Wv, const M2& R) {
  const M2 Q = mm(A, Wq), K = mm(A, Wk), V = mm(A, Wv);
  M2 P{};
  for (int i = 0; i < 2; ++i) {
    double s[2];
    for (int j = 0; j < 2; ++j)
      s[j] = (Q[i * 2] * K[j * 2] + Q[i * 2 + 1] * K[j * 2 + 1]) / std::sqrt(2.0);
    const double mx = std::max(s[0], s[1]);
    const double e0 = std::exp(s[0] - mx), e1 = std::exp(s[1] - mx);
    P[i * 2] = e0 / (e0 + e1);
    P[i * 2 + 1] = e1 / (e0 + e1);
  }
  const M2 B = mm(P, V);
  double L = 0;
  for (int i = 0; i < 4; ++i) L += B[i] * R[i];
  return L;
}
M2 to_m2(const Tensor& t) { return {t.data()[0], t.data()[1], t.data()[2], t.data()[3]}; }

// dL/dX by central differences of the double reference, h = 1e-6.
M2 finite_difference(int which, std::array<M2, 5> args) {
  M2 g{};
  const double h = 1e-6;
  for (int i = 0; i < 4; ++i) {
    const double saved = args[which][i];
    args[which][i] = saved + h;
    const double lp = reference_loss(args[0], args[1], args[2], args[3], args[4]);
    args[which][i] = saved - h;
    const double lm = reference_loss(args[0], args[1], args[2], args[3], args[4]);
    args[which][i] = saved;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

void print_grad_pair(const char* name, const Tensor& grad, const M2& fd, double& worst) {
  std::printf("  dL/d%-4s autograd (%7.4f, %7.4f)   finite difference (%7.4f, %7.4f)\n", name,
              tidy(grad.data()[0]), tidy(grad.data()[1]), tidy(fd[0]), tidy(fd[1]));
  std::printf("           row 2    (%7.4f, %7.4f)                     (%7.4f, %7.4f)\n",
              tidy(grad.data()[2]), tidy(grad.data()[3]), tidy(fd[2]), tidy(fd[3]));
  for (int i = 0; i < 4; ++i) worst = std::max(worst, std::fabs(grad.data()[i] - fd[i]));
}

// docs/img/ch06_worked_example_graph.svg: sections 1 and 2 as a graph, after backward.
void write_figures(const char* dir) {
  Tensor A = Tensor::from_vector({1, 1, 1, 0}, {2, 2}, true);
  Tensor Wq = Tensor::from_vector({1, 1, 0, 1}, {2, 2}, true);
  Tensor Wk = Tensor::from_vector({0, 1, 1, -1}, {2, 2}, true);
  Tensor Wv = Tensor::from_vector({0, 1, 1, -1}, {2, 2}, true);
  Tensor Q = matmul(A, Wq), K = matmul(A, Wk), V = matmul(A, Wv);
  Tensor S = nn::attention_scores(Q, K, nn::Score::ScaledDot);
  nn::AttentionResult r = nn::attend(S, V);
  Tensor R = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  Tensor L = sum(mul(r.output, R));
  GraphWriter g(L);
  g.name(A, "A").name(Wq, "W_q").name(Wk, "W_k").name(Wv, "W_v").name(Q, "Q").name(K, "K");
  g.name(V, "V").name(S, "S").name(r.weights, "P").name(r.output, "B").name(R, "R");
  g.name(L, "L");
  L.backward();
  plot::write_figure(dir, "ch06_worked_example_graph.svg",
                     g.svg("the worked example: L = sum(softmax(Q·Kᵀ/√2)·V ⊙ R), after backward"));
}

int run(int argc, char** argv) {
  app::ArgParser cli("ch06_worked_example",
                     "Prints chapter 06's two-token attention example step by step.");
  std::string figures;
  cli.option("--figures", "DIR", "write the chapter's figure (the example's graph) into DIR",
             figures);
  if (!cli.parse(argc, argv)) return 0;
  if (!figures.empty()) {
    write_figures(figures.c_str());
    return 0;
  }
  const std::vector<std::string> ab = {"a1", "a2"}, qs = {"q1", "q2"}, ks = {"k1", "k2"},
                                 vs = {"v1", "v2"}, bs = {"b1", "b2"}, rows = {"row 1", "row 2"};

  std::printf("== 1. The worked example: two tokens of width d = 2 ==\n");
  Tensor A = Tensor::from_vector({1, 1, 1, 0}, {2, 2}, true);  // rows a1, a2
  Tensor Wq = Tensor::from_vector({1, 1, 0, 1}, {2, 2}, true);
  Tensor Wk = Tensor::from_vector({0, 1, 1, -1}, {2, 2}, true);  // = A⁻¹, so K = I
  Tensor Wv = Tensor::from_vector({0, 1, 1, -1}, {2, 2}, true);  // = A⁻¹, so V = I
  std::printf("A (one token per row):\n");
  print_rows(A, ab);
  std::printf("W_q:\n");
  print_rows(Wq, rows);
  std::printf("W_k = W_v (A's inverse, so that K and V come out as unit vectors):\n");
  print_rows(Wk, rows);

  Tensor Q = matmul(A, Wq), K = matmul(A, Wk), V = matmul(A, Wv);  // [2, 2] each
  std::printf("Q = A·W_q:\n");
  print_rows(Q, qs);
  std::printf("K = A·W_k:\n");
  print_rows(K, ks);
  std::printf("V = A·W_v:\n");
  print_rows(V, vs);
  Tensor S = nn::attention_scores(Q, K, nn::Score::ScaledDot);  // Q·Kᵀ/√2
  std::printf("scores S = Q·Kᵀ/√2  (row i: query i against k1, k2):\n");
  std::printf("  α1,1 = %.4f   α1,2 = %.4f\n", S.at({0, 0}), S.at({0, 1}));
  std::printf("  α2,1 = %.4f   α2,2 = %.4f\n", S.at({1, 0}), S.at({1, 1}));
  nn::AttentionResult r = nn::attend(S, V);
  Tensor P = r.weights, Bout = r.output;
  std::printf("softmax weights P = softmax(S) by rows:\n");
  std::printf("  α̂1,1 = %.4f   α̂1,2 = %.4f\n", P.at({0, 0}), P.at({0, 1}));
  std::printf("  α̂2,1 = %.4f   α̂2,2 = %.4f\n", P.at({1, 0}), P.at({1, 1}));
  std::printf("B = P·V:\n");
  print_rows(Bout, bs);
  std::printf("rounded as in the article: b1 = (%.2f, %.2f), b2 = (%.2f, %.2f)\n", Bout.at({0, 0}),
              Bout.at({0, 1}), Bout.at({1, 0}), Bout.at({1, 1}));

  std::printf("\n== 2. Gradients of L = sum(B ⊙ R), R = [[1, 2], [3, 4]] ==\n");
  Tensor R = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  for (Tensor* t : {&Q, &K, &V, &S, &P, &Bout}) t->retain_grad();
  Tensor L = sum(mul(Bout, R));
  L.backward();
  std::printf("L = %.4f\n", L.item());
  std::printf("backwards through the graph, step by step (what a hand derivation produces):\n");
  std::printf("dL/dB = R:\n");
  print_rows(Bout.grad(), rows);
  std::printf("dL/dP = dL/dB · Vᵀ:\n");
  print_rows(P.grad(), rows);
  std::printf("dL/dS = P ⊙ (dL/dP − rowsum(P ⊙ dL/dP))   (softmax's backward):\n");
  print_rows(S.grad(), rows);
  std::printf("dL/dQ = dL/dS · K / √2:\n");
  print_rows(Q.grad(), rows);
  std::printf("dL/dK = dL/dSᵀ · Q / √2:\n");
  print_rows(K.grad(), rows);
  std::printf("dL/dV = Pᵀ · dL/dB:\n");
  print_rows(V.grad(), rows);
  std::printf(
      "the leaves, autograd beside a central difference (h = 1e-6) of a separate\n"
      "double-precision implementation of the same forward:\n");
  const std::array<M2, 5> args = {to_m2(A), to_m2(Wq), to_m2(Wk), to_m2(Wv), to_m2(R)};
  double worst = 0;
  print_grad_pair("W_q", Wq.grad(), finite_difference(1, args), worst);  // = Aᵀ·dL/dQ
  print_grad_pair("W_k", Wk.grad(), finite_difference(2, args), worst);  // = Aᵀ·dL/dK
  print_grad_pair("W_v", Wv.grad(), finite_difference(3, args), worst);  // = Aᵀ·dL/dV
  print_grad_pair("A", A.grad(), finite_difference(0, args), worst);     // three paths add up
  std::printf("largest difference below 1e-5: %s\n", worst < 1e-5 ? "yes" : "NO");

  std::printf("\n== 3. The same Q, K, V scored four ways ==\n");
  NoGradGuard no_grad;
  Generator gen(0);
  nn::AdditiveAttention additive(2, 2, 2, gen);
  // Fixed weights so the numbers can be followed by hand: W_q = W_k = I, b = 0, v = (1, 1),
  // so score(q, k) = tanh(q₁ + k₁) + tanh(q₂ + k₂).
  for (Tensor* w : {&additive.w_q->weight, &additive.w_k->weight}) {
    float* p = w->data();
    p[0] = 1, p[1] = 0, p[2] = 0, p[3] = 1;
  }
  additive.w_k->bias.data()[0] = additive.w_k->bias.data()[1] = 0.f;
  additive.v->weight.data()[0] = additive.v->weight.data()[1] = 1.f;
  for (nn::Score s :
       {nn::Score::Dot, nn::Score::ScaledDot, nn::Score::Cosine, nn::Score::Additive}) {
    Tensor scores =
        s == nn::Score::Additive ? additive.scores(Q, K) : nn::attention_scores(Q, K, s);
    nn::AttentionResult a = nn::attend(scores, V);
    std::printf(
        "%-10s  scores [[%.4f, %.4f], [%.4f, %.4f]]  b1 = (%.4f, %.4f)  b2 = (%.4f, %.4f)\n",
        nn::score_name(s), scores.at({0, 0}), scores.at({0, 1}), scores.at({1, 0}),
        scores.at({1, 1}), a.output.at({0, 0}), a.output.at({0, 1}), a.output.at({1, 0}),
        a.output.at({1, 1}));
  }

  std::printf(
      "\n== 4. \"Tom chases Jerry.\" → \"汤姆追杰瑞。\": a context vector per output word ==\n");
  // Small made-up encoder states, one row per source word  [3, 4].
  Tensor Hs = Tensor::from_vector({1.0f, 0.0f, 0.0f, 0.5f,   // h_Tom
                                   0.0f, 1.0f, 0.0f, 0.5f,   // h_chase
                                   0.0f, 0.0f, 1.0f, 0.5f},  // h_Jerry
                                  {3, 4});
  std::printf("encoder states:\n");
  print_rows(Hs, {"Tom", "chase", "Jerry"});
  // The article's weights for 杰瑞 are (0.3, 0.2, 0.5); the rows for 汤姆 and 追 are made up
  // to show that each output word gets its own mix. Scores ln(w) give back w after softmax.
  Tensor weights =
      Tensor::from_vector({0.6f, 0.2f, 0.2f, 0.2f, 0.7f, 0.1f, 0.3f, 0.2f, 0.5f}, {3, 3});
  nn::AttentionResult tj = nn::attend(log(weights), Hs);
  const char* words[] = {"汤姆", "追", "杰瑞"};  // the toy corpus's translation (chapter 12)
  for (int64_t i = 0; i < 3; ++i)
    std::printf("c(%s) = %.1f·h_Tom + %.1f·h_chase + %.1f·h_Jerry = (%.2f, %.2f, %.2f, %.2f)\n",
                words[i], tj.weights.at({i, 0}), tj.weights.at({i, 1}), tj.weights.at({i, 2}),
                tj.output.at({i, 0}), tj.output.at({i, 1}), tj.output.at({i, 2}),
                tj.output.at({i, 3}));
  std::printf(
      "without attention, every word gets the same C (e.g. the last state): (%.2f, %.2f, %.2f, "
      "%.2f)\n",
      Hs.at({2, 0}), Hs.at({2, 1}), Hs.at({2, 2}), Hs.at({2, 3}));

  std::printf("\n== 5. Why divide by √d: dot products of random vectors grow with d ==\n");
  std::printf("q, k with independent N(0, 1) components; 2000 draws; softmax over 8 keys\n");
  std::printf("     d   var(q·k)   var(q·k/√d)   mean largest weight: q·k   q·k/√d\n");
  Generator g(2024);
  for (int d : {2, 8, 32, 128, 512}) {
    const int draws = 2000, keys = 8;
    double sum_raw = 0, sum_sq_raw = 0, max_raw = 0, max_scaled = 0;
    std::vector<double> q(d), s(keys);
    for (int n = 0; n < draws; ++n) {
      for (auto& x : q) x = g.normal();
      for (int j = 0; j < keys; ++j) {
        double dot = 0;
        for (int c = 0; c < d; ++c) dot += q[c] * g.normal();
        s[j] = dot;
        if (j == 0) {
          sum_raw += dot;
          sum_sq_raw += dot * dot;
        }
      }
      for (double scale : {1.0, 1.0 / std::sqrt(static_cast<double>(d))}) {
        double mx = -1e300, z = 0;
        for (double x : s) mx = std::max(mx, x * scale);
        for (double x : s) z += std::exp(x * scale - mx);
        (scale == 1.0 ? max_raw : max_scaled) += 1.0 / z;  // the largest weight is e⁰ / z
      }
    }
    const double mean = sum_raw / draws, var = sum_sq_raw / draws - mean * mean;
    std::printf("%6d   %8.1f   %11.2f   %24.2f   %6.2f\n", d, var, var / d, max_raw / draws,
                max_scaled / draws);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return app::run_app("ch06_worked_example", run, argc, argv, /*runtime_settings=*/false);
}
