// Chapter 07: what do 8 heads cost compared with one?
//
// Runs a self-attention block of width 512 on x [32, 1024, 512] with the multiply-accumulate
// counter on (autograd/counters.h), under NoGradGuard, and reproduces the published fvcore
// counts: one head without W_O, eight heads with W_O, eight heads without W_O. Then shows
// how the cost splits per head, and how it grows with sequence length for self-attention
// (n²) against cross-attention (n·m).
//
//   build/ch07_head_cost            the full-size run (about 69 G multiply-accumulates each)
//   build/ch07_head_cost --small    the same study at x [2, 64, 512]: fast, for the docs test
//   build/ch07_head_cost --time     also print how long each full-size forward took
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "examples/cli.h"
#include "nn/attention.h"

using namespace qkv;

namespace {

// 68719476736 → "68,719,476,736"
std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct Count {
  int64_t macs;
  double seconds;
};

// Self-attention of width D with `heads` heads on x [B, T, D]: the MACs of one forward.
Count self_attention_macs(int64_t B, int64_t T, int64_t D, int64_t heads, bool out_proj) {
  Generator gen(7);
  nn::MultiHeadAttentionOptions o;
  o.query_dim = D;
  o.heads = heads;
  o.out_proj = out_proj;
  nn::MultiHeadAttention mha(o, gen);
  Tensor x = Tensor::randn({B, T, D}, gen);
  NoGradGuard no_grad;  // inference only: no graph, intermediates freed as soon as possible
  reset_macs();
  const auto t0 = std::chrono::steady_clock::now();
  Tensor y = mha.forward(x, x, x);
  const auto t1 = std::chrono::steady_clock::now();
  return {macs(), std::chrono::duration<double>(t1 - t0).count()};
}

// Cross-attention: n queries of width D attend to m keys/values of width D.
int64_t cross_attention_macs(int64_t n, int64_t m, int64_t D, int64_t heads) {
  Generator gen(8);
  nn::MultiHeadAttention mha(D, heads, gen);
  Tensor x = Tensor::randn({1, n, D}, gen), y = Tensor::randn({1, m, D}, gen);
  NoGradGuard no_grad;
  reset_macs();
  mha.forward(x, y, y);
  return macs();
}

// Only the attention core softmax(QKᵀ/√d)·V, no projections: q [1, n, d], k and v [1, m, d].
int64_t core_macs(int64_t n, int64_t m, int64_t d) {
  Generator gen(9);
  Tensor q = Tensor::randn({1, n, d}, gen), k = Tensor::randn({1, m, d}, gen),
         v = Tensor::randn({1, m, d}, gen);
  NoGradGuard no_grad;
  reset_macs();
  nn::scaled_dot_product_attention(q, k, v);
  return macs();
}

int run(int argc, char** argv) {
  bool small = false, timing = false;
  app::ArgParser args("ch07_head_cost",
                      "Counts the multiply-accumulates of one attention head against eight.");
  args.flag("--small", "x [2, 64, 512] instead of the published x [32, 1024, 512]", small);
  args.flag("--time", "also print the wall-clock time of each forward (not deterministic)", timing);
  if (!args.parse(argc, argv)) return 0;
  const int64_t B = small ? 2 : 32, T = small ? 64 : 1024, D = 512;

  std::printf(
      "== One head against eight: self-attention, width D = %lld, x [%lld, %lld, %lld] ==\n",
      (long long)D, (long long)B, (long long)T, (long long)D);
  struct Config {
    const char* name;
    int64_t heads;
    bool out_proj;
  };
  const Config configs[] = {{"1 head,  no W_O  ", 1, false},
                            {"8 heads, with W_O", 8, true},
                            {"8 heads, no W_O  ", 8, false}};
  for (const Config& c : configs) {
    Count r = self_attention_macs(B, T, D, c.heads, c.out_proj);
    std::printf("%s  %20s multiply-accumulates\n", c.name, with_commas(r.macs).c_str());
    if (timing) std::printf("    (%.2f s, %.1f GMAC/s)\n", r.seconds, r.macs / r.seconds * 1e-9);
  }
  const int64_t proj = 3 * B * T * D * D, qk = B * T * T * D, av = B * T * T * D,
                wo = B * T * D * D;
  std::printf("\nwhere they go (the same for any number of heads h, head width D/h):\n");
  std::printf("  Q, K, V projections  3·B·T·D²  = %20s\n", with_commas(proj).c_str());
  std::printf("  scores Q·Kᵀ          B·T²·D    = %20s  (h heads × B·T²·(D/h))\n",
              with_commas(qk).c_str());
  std::printf("  weights · V          B·T²·D    = %20s  (h heads × B·T²·(D/h))\n",
              with_commas(av).c_str());
  std::printf("  output W_O           B·T·D²    = %20s  (absent in the first and third rows)\n",
              with_commas(wo).c_str());
  std::printf("  sum without W_O                = %20s\n", with_commas(proj + qk + av).c_str());
  std::printf("  sum with W_O                   = %20s\n",
              with_commas(proj + qk + av + wo).c_str());

  // Per head: measured on a smaller input so that every head count runs quickly.
  const int64_t b = 2, t = 64;
  std::printf("\n== Per head, x [%lld, %lld, %lld], with W_O (measured) ==\n", (long long)b,
              (long long)t, (long long)D);
  std::printf(
      "heads  head width  Q·Kᵀ+A·V per head  Q·Kᵀ+A·V all heads  projections+W_O        total\n");
  for (int64_t h : {1, 2, 4, 8, 16, 32}) {
    const int64_t total = self_attention_macs(b, t, D, h, true).macs;
    const int64_t core_all = 2 * b * t * t * D, lin = 4 * b * t * D * D;
    std::printf("%5lld  %10lld  %17s  %18s  %14s  %11s\n", (long long)h, (long long)(D / h),
                with_commas(core_all / h).c_str(), with_commas(core_all).c_str(),
                with_commas(lin).c_str(), with_commas(total).c_str());
  }

  std::printf("\n== How the attention core grows: softmax(Q·Kᵀ/√d)·V, d = 64 (measured) ==\n");
  std::printf("self-attention, n queries and n keys: 2·n²·d\n");
  std::printf("    n             MACs   vs n = 64\n");
  const int64_t d = 64;
  const int64_t self0 = core_macs(64, 64, d);
  for (int64_t n : {64, 128, 256, 512}) {
    const int64_t c = core_macs(n, n, d);
    std::printf("%5lld  %15s   ×%lld\n", (long long)n, with_commas(c).c_str(),
                (long long)(c / self0));
  }
  std::printf("cross-attention, n = 64 queries and m keys: 2·n·m·d\n");
  std::printf("    m             MACs   vs m = 64\n");
  for (int64_t m : {64, 128, 256, 512}) {
    const int64_t c = core_macs(64, m, d);
    std::printf("%5lld  %15s   ×%lld\n", (long long)m, with_commas(c).c_str(),
                (long long)(c / self0));
  }
  std::printf(
      "whole cross-attention block (8 heads, D = 512, W_O), n = 64: n·D² (Q) + 2·m·D² (K, V)"
      " + 2·n·m·D + n·D² (W_O)\n");
  std::printf("    m             MACs\n");
  for (int64_t m : {64, 128, 256, 512})
    std::printf("%5lld  %15s\n", (long long)m,
                with_commas(cross_attention_macs(64, m, 512, 8)).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return app::run_app("ch07_head_cost", run, argc, argv, /*passive_wait=*/false);
}
