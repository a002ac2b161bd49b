// Chapter 06: the two limits of a recurrent network that attention removes, measured.
//
//   1. Vanishing and exploding gradients: the gradient that reaches the FIRST input of a
//      sequence, ‖∂L/∂x_1‖ with L = r·h_T, against the length T. A recurrence multiplies it by
//      the same Jacobian at every step, so it shrinks or grows geometrically.
//   2. Sequential cost: one recurrent layer against one self-attention layer on n tokens of
//      width d. The multiply-accumulates are read from the counter (autograd/counters.h); the
//      longest chain of matrix products is read from the recorded graph: it is the number of
//      products that must run one after another, and the path from token 1 to the last output.
//
//   build/ch06_rnn_limits
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "examples/cli.h"
#include "nn/attention_scores.h"
#include "nn/gru.h"

using namespace qkv;

namespace {

constexpr int64_t kWidth = 32;  // D = H in section 1

// A random orthogonal matrix times `gain` [H, H]: every singular value is exactly `gain`, so a
// linear recurrence h_t = h_{t−1}·Wᵀ scales any vector by exactly gain per step.
Tensor scaled_orthogonal(int64_t n, float gain, Generator& gen) {
  std::vector<std::vector<double>> q(n, std::vector<double>(n));
  for (auto& row : q)
    for (auto& v : row) v = gen.normal();
  for (int64_t i = 0; i < n; ++i) {  // Gram-Schmidt on the rows, in double
    for (int64_t j = 0; j < i; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < n; ++k) dot += q[i][k] * q[j][k];
      for (int64_t k = 0; k < n; ++k) q[i][k] -= dot * q[j][k];
    }
    double norm = 0;
    for (double v : q[i]) norm += v * v;
    for (auto& v : q[i]) v /= std::sqrt(norm);
  }
  std::vector<float> w;
  for (auto& row : q)
    for (double v : row) w.push_back(static_cast<float>(gain * v));
  return Tensor::from_vector(w, {n, n});
}

double norm_of(const Tensor& t) {
  double s = 0;
  for (float v : t.to_vector()) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

// ‖∂L/∂x_1‖ for L = r·h_T, h_t = act(x_t·Uᵀ + h_{t−1}·Wᵀ), h_0 = 0; x [1, T, D].
double first_step_gradient(int64_t T, const Tensor& U, const Tensor& W, bool use_tanh,
                           const Tensor& r, uint64_t seed) {
  Generator gen(seed);
  Tensor x = Tensor::randn({1, T, kWidth}, gen);
  x.set_requires_grad(true);
  Tensor xu = matmul(x, transpose(U, 0, 1));  // the input's share, all steps at once
  Tensor h = Tensor::zeros({1, kWidth});
  for (int64_t t = 0; t < T; ++t) {
    Tensor pre = add(reshape(slice(xu, 1, t, t + 1), {1, kWidth}), matmul(h, transpose(W, 0, 1)));
    h = use_tanh ? tanh(pre) : pre;
  }
  sum(mul(h, r)).backward();
  return norm_of(slice(x.grad(), 1, 0, 1));
}

// The same for nn::GRU at PyTorch's initialisation (chapter 06, section 1).
double first_step_gradient_gru(int64_t T, const nn::GRU& gru, const Tensor& r, uint64_t seed) {
  Generator gen(seed);
  Tensor x = Tensor::randn({1, T, kWidth}, gen);
  x.set_requires_grad(true);
  sum(mul(gru.forward(x).last, r)).backward();
  return norm_of(slice(x.grad(), 1, 0, 1));
}

// The longest chain of matrix products from any leaf to `out`, along the recorded graph.
int64_t longest_product_chain(const Tensor& out) {
  std::map<const Node*, int64_t> depth;  // filled inputs first: topological order
  int64_t best = 0;
  for (const Tensor& t : topological_order(out)) {
    const Node* node = t.grad_fn().get();
    if (!node) continue;
    int64_t d = 0;
    for (const Tensor& in : node->inputs)
      if (in.grad_fn()) d = std::max(d, depth[in.grad_fn().get()]);
    if (node->name == "matmul" || node->name == "linear") ++d;
    depth[node] = d;
    best = std::max(best, d);
  }
  return best;
}

struct LayerCost {
  int64_t macs, chain;
};

// One recurrent layer, h_t = tanh(x_t·W_ihᵀ + h_{t−1}·W_hhᵀ), on x [1, n, d]; the last state.
LayerCost recurrent_layer(int64_t n, int64_t d) {
  Generator gen(3);
  Tensor x = Tensor::randn({1, n, d}, gen, 0.f, 1.f, true);
  Tensor w_ih = Tensor::randn({d, d}, gen), w_hh = Tensor::randn({d, d}, gen);
  reset_macs();
  Tensor xw = matmul(x, transpose(w_ih, 0, 1));  // [1, n, d]
  Tensor h = Tensor::zeros({1, d});
  for (int64_t t = 0; t < n; ++t)
    h = tanh(add(reshape(slice(xw, 1, t, t + 1), {1, d}), matmul(h, transpose(w_hh, 0, 1))));
  return {macs(), longest_product_chain(h)};
}

// One self-attention layer (one head, Q/K/V projections, no W_O) on x [1, n, d]; the last
// position's output.
LayerCost attention_layer(int64_t n, int64_t d) {
  Generator gen(4);
  Tensor x = Tensor::randn({1, n, d}, gen, 0.f, 1.f, true);
  Tensor w_q = Tensor::randn({d, d}, gen), w_k = Tensor::randn({d, d}, gen),
         w_v = Tensor::randn({d, d}, gen);
  reset_macs();
  Tensor q = matmul(x, w_q), k = matmul(x, w_k), v = matmul(x, w_v);
  Tensor y = nn::attend(nn::attention_scores(q, k, nn::Score::ScaledDot), v).output;
  return {macs(), longest_product_chain(slice(y, 1, n - 1, n))};
}

}  // namespace

int run_chapter() {
  std::printf("== 1. How much gradient reaches the first step ==\n");
  std::printf("L = r·h_T for a fixed random r; x_t ~ N(0, 1); width D = H = %lld; h_0 = 0\n",
              static_cast<long long>(kWidth));
  std::printf("‖∂L/∂x_1‖, the gradient on the first input, against the length T:\n");
  Generator gen(11);
  const Tensor U = scaled_orthogonal(kWidth, 1.f, gen);
  const Tensor W_small = scaled_orthogonal(kWidth, 0.8f, gen);
  const Tensor W_large = scaled_orthogonal(kWidth, 1.25f, gen);
  const Tensor r = Tensor::randn({1, kWidth}, gen);
  Generator gru_gen(12);
  const nn::GRU gru(kWidth, kWidth, gru_gen);
  std::printf("%6s %17s %17s %17s %17s\n", "T", "linear, gain 0.8", "linear, gain 1.25",
              "tanh, gain 1.25", "GRU");
  for (int64_t T : {1, 2, 4, 8, 16, 32, 64}) {
    const uint64_t seed = 100 + static_cast<uint64_t>(T);
    std::printf("%6lld %17.2e %17.2e %17.2e %17.2e\n", static_cast<long long>(T),
                first_step_gradient(T, U, W_small, false, r, seed),
                first_step_gradient(T, U, W_large, false, r, seed),
                first_step_gradient(T, U, W_large, true, r, seed),
                first_step_gradient_gru(T, gru, r, seed));
  }
  std::printf("(gain: every singular value of the recurrent matrix W; U is orthogonal)\n");

  std::printf(
      "\n== 2. One layer on n tokens of width d = 64: recurrence against self-attention ==\n");
  std::printf("MACs: multiply-accumulates counted by the matmul counter; chain: the longest\n");
  std::printf("chain of matrix products in the recorded graph (each waits for the one before)\n");
  std::printf("%6s %14s %7s %16s %7s\n", "n", "recurrent MACs", "chain", "self-attn MACs", "chain");
  const int64_t d = 64;
  for (int64_t n : {8, 32, 128, 512}) {
    const LayerCost rnn = recurrent_layer(n, d), att = attention_layer(n, d);
    std::printf("%6lld %14lld %7lld %16lld %7lld\n", static_cast<long long>(n),
                static_cast<long long>(rnn.macs), static_cast<long long>(rnn.chain),
                static_cast<long long>(att.macs), static_cast<long long>(att.chain));
  }
  std::printf(
      "formulas: recurrent 2·n·d² MACs, chain n; self-attention 3·n·d² + 2·n²·d MACs, "
      "chain 3\n");
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch06_rnn_limits",
      "Chapter 06: the two limits of a recurrent network that attention removes, measured.",
      run_chapter);
}
