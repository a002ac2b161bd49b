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
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "examples/cli.h"
#include "examples/plot/diagram.h"
#include "examples/plot/figure_file.h"
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

// docs/img/ch07_heads_shape_flow.svg: the shapes of one multi-head self-attention forward,
// x [1, 4, 8] with 2 heads of width 4, each shape read off the tensors the ops return.
void write_figures(const std::string& dir) {
  const int64_t B = 1, T = 4, D = 8, H = 2, dh = D / H;
  Generator gen(7);
  nn::MultiHeadAttention mha(nn::MultiHeadAttentionOptions{D, D, H, dh}, gen);
  Tensor x = Tensor::randn({B, T, D}, gen);
  NoGradGuard no_grad;
  Tensor q = mha.w_q->forward(x);         // [B, T, D]
  Tensor q4 = reshape(q, {B, T, H, dh});  // [B, T, h, d_h]
  Tensor qh = permute(q4, {0, 2, 1, 3});  // [B, h, T, d_h]
  Tensor kh = permute(reshape(mha.w_k->forward(x), {B, T, H, dh}), {0, 2, 1, 3});
  Tensor vh = permute(reshape(mha.w_v->forward(x), {B, T, H, dh}), {0, 2, 1, 3});
  nn::AttentionResult a = nn::scaled_dot_product_attention(qh, kh, vh);  // [B, h, T, d_h]
  Tensor back = permute(a.output, {0, 2, 1, 3});                         // [B, T, h, d_h]
  Tensor cat = reshape(back, {B, T, D});                                 // [B, T, D]
  Tensor out = mha.w_o->forward(cat);                                    // [B, T, D]
  Tensor full = mha.forward(x, x, x);
  float diff = 0;
  for (int64_t i = 0; i < out.numel(); ++i)
    diff = std::max(diff, std::fabs(out.data()[i] - full.data()[i]));
  if (diff > 1e-5f) throw std::logic_error("the spelled-out forward differs from forward()");

  auto sh = [](const Tensor& t) { return shape_str(t.shape()); };
  plot::Diagram d(1010, 400,
                  "multi-head self-attention, x [B, T, D] = [1, 4, 8], h = 2 heads of d_h = 4");
  const char* blue = "#dbe8f6";
  const char* yellow = "#ffe9a8";
  const char* green = "#e5f5e0";
  d.box(20, 170, 90, 50, yellow, {"x", sh(x)}, "#b8860b", true);
  const char* names[3] = {"Q = x·W_Qᵀ", "K = x·W_Kᵀ", "V = x·W_Vᵀ"};
  for (int i = 0; i < 3; ++i) {
    const double y = 80 + 90.0 * i;
    d.arrow(110, 195, 148, y + 25);
    d.box(150, y, 120, 50, blue, {names[i], sh(q)}, "#444", true);
    d.arrow(270, y + 25, 318, y + 25, "");
    // The split: reshape [B, T, h, d_h], then permute the head axis forward.
    d.box(320, y, 150, 50, "white", {"reshape " + sh(q4), "permute " + sh(qh)});
    d.arrow(470, y + 25, 528, i == 0 ? 150 : i == 1 ? 175 : 200);
  }
  d.text(320, 70, "split into heads", "start", 11, "#555");
  for (int h = 0; h < H; ++h) {
    const double y = 90 + 130.0 * h;
    d.box(530, y, 200, 70, green,
          {"head " + std::to_string(h + 1) + " of " + std::to_string(H),
           "softmax(Q_i·K_iᵀ/√d_h)·V_i", "weights [1, 4, 4], out [1, 4, 4]"},
          "#444", true);
  }
  d.text(530, 75, "all heads at once: " + sh(a.output), "start", 11, "#555");
  d.arrow(730, 125, 778, 185);
  d.arrow(730, 255, 778, 205);
  d.box(780, 170, 120, 50, "white", {"permute " + sh(back), "reshape " + sh(cat)});
  d.text(780, 160, "concatenate", "start", 11, "#555");
  d.arrow(840, 220, 840, 268);
  d.box(780, 270, 120, 50, blue, {"out = concat·W_Oᵀ", sh(out)}, "#444", true);
  d.text(20, 360,
         "every shape above is read off the tensors the ops returned; the spelled-out forward "
         "equals MultiHeadAttention::forward.",
         "start", 11, "#555");
  d.text(20, 378,
         "the heads are one more batch axis of matmul: no loop over heads, and the split and "
         "the concatenation are reshapes and permutes.",
         "start", 11, "#555");
  plot::write_figure(dir, "ch07_heads_shape_flow.svg", d.str());
}

int run(int argc, char** argv) {
  bool small = false, timing = false;
  app::ArgParser args("ch07_head_cost",
                      "Counts the multiply-accumulates of one attention head against eight.");
  args.flag("--small", "x [2, 64, 512] instead of the published x [32, 1024, 512]", small);
  args.flag("--time", "also print the wall-clock time of each forward (not deterministic)", timing);
  std::string figures;
  args.option("--figures", "DIR", "write the chapter's figure (the heads' shape flow) into DIR",
              figures);
  if (!args.parse(argc, argv)) return 0;
  if (!figures.empty()) {
    write_figures(figures);
    return 0;
  }
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
  return app::run_app("ch07_head_cost", run, argc, argv, /*runtime_settings=*/false);
}
