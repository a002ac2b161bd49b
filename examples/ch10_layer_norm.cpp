// Chapter 10: Add&Norm.
//
//   1. LayerNorm forward by hand, and the two conventions tutorials get wrong
//      (unbiased variance; eps outside the square root)
//   2. the backward: the fused kernel against the formula, against the same function
//      composed from small autograd ops, and against finite differences (gradcheck)
//   3. post-norm versus pre-norm: the same small model, seed and data, trained twice
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "examples/cli.h"
#include "examples/plot/figure_file.h"
#include "examples/plot/line_chart.h"
#include "examples/report.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "nn/transformer.h"

using namespace qkv;

namespace {

using report::bound;

float max_abs_diff(const Tensor& a, const Tensor& b) {
  float m = 0.f;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::fmax(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}

void print_row(const char* name, const float* v, int64_t n) {
  std::printf("  %-22s", name);
  for (int64_t j = 0; j < n; ++j) std::printf(" %9.5f", v[j]);
  std::printf("\n");
}

// LayerNorm composed from small ops, so autograd differentiates it step by step.
Tensor layer_norm_composed(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
  Tensor mu = mean(x, -1, true);             // μ        [rows, 1]
  Tensor xc = sub(x, mu);                    // x − μ
  Tensor var = mean(mul(xc, xc), -1, true);  // σ² (biased: divide by D)
  Tensor rstd = pow(add(var, eps), -0.5f);   // 1/√(σ² + eps)
  return add(mul(mul(xc, rstd), w), b);      // x̂·w + b
}

void forward_by_hand() {
  std::printf("== 1. forward, D = 4, weight 1, bias 0, eps 1e-5 ==\n");
  const float eps = 1e-5f;
  Tensor x = Tensor::from_vector({1, 2, 3, 4,  //
                                  1, 1.002f, 0.998f, 1},
                                 {2, 4});
  Tensor y = layer_norm(x, Tensor(), Tensor(), eps);
  for (int64_t r = 0; r < 2; ++r) {
    const float* xr = x.data() + r * 4;
    double mu = 0, var = 0, ss = 0;
    for (int j = 0; j < 4; ++j) mu += xr[j] / 4.0;
    for (int j = 0; j < 4; ++j) ss += (xr[j] - mu) * (xr[j] - mu);
    var = ss / 4.0;
    std::printf("row %lld: mean %.4f, variance (÷D) %.3g, variance (÷(D−1)) %.3g\n",
                static_cast<long long>(r), mu, var, ss / 3.0);
    float hand[4], unbiased[4], eps_out[4];
    for (int j = 0; j < 4; ++j) {
      hand[j] = static_cast<float>((xr[j] - mu) / std::sqrt(var + eps));
      unbiased[j] = static_cast<float>((xr[j] - mu) / std::sqrt(ss / 3.0 + eps));
      eps_out[j] = static_cast<float>((xr[j] - mu) / (std::sqrt(var) + eps));
    }
    print_row("x", xr, 4);
    print_row("layer_norm (qkv)", y.data() + r * 4, 4);
    print_row("by hand, as torch", hand, 4);
    print_row("unbiased variance", unbiased, 4);
    print_row("eps outside the sqrt", eps_out, 4);
  }
  std::printf("\n");
}

void backward_checks() {
  std::printf("== 2. backward, x [3, 6], random weight and bias ==\n");
  const float eps = 1e-5f;
  Generator gen(10);
  Tensor x = Tensor::randn({3, 6}, gen, 0.f, 1.f, true),
         w = Tensor::randn({6}, gen, 1.f, 0.5f, true), b = Tensor::randn({6}, gen, 0.f, 0.5f, true);
  Tensor dy = Tensor::randn({3, 6}, gen);
  Tensor x2 = x.detach().clone().set_requires_grad(true),
         w2 = w.detach().clone().set_requires_grad(true),
         b2 = b.detach().clone().set_requires_grad(true);
  Tensor y = layer_norm(x, w, b, eps);
  Tensor y2 = layer_norm_composed(x2, w2, b2, eps);
  sum(mul(y, dy)).backward();
  sum(mul(y2, dy)).backward();
  // The formula, computed here in double: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·w.
  Tensor dx_formula = Tensor::zeros({3, 6});
  double sum_dx = 0, sum_dx_xhat = 0, predicted = 0;
  for (int64_t r = 0; r < 3; ++r) {
    const float* xr = x.data() + r * 6;
    double mu = 0, var = 0;
    for (int j = 0; j < 6; ++j) mu += xr[j] / 6.0;
    for (int j = 0; j < 6; ++j) var += (xr[j] - mu) * (xr[j] - mu) / 6.0;
    const double rstd = 1.0 / std::sqrt(var + eps);
    double g_mean = 0, gx_mean = 0, xhat[6], g[6];
    for (int j = 0; j < 6; ++j) {
      xhat[j] = (xr[j] - mu) * rstd;
      g[j] = dy.data()[r * 6 + j] * w.data()[j];
      g_mean += g[j] / 6.0;
      gx_mean += g[j] * xhat[j] / 6.0;
    }
    // Σⱼ dxⱼ·x̂ⱼ = rstd·(D·mean(g·x̂) − mean(g·x̂)·Σx̂²) and Σx̂² = D·σ²/(σ² + eps): not quite D.
    predicted += rstd * gx_mean * 6.0 * eps / (var + eps);
    for (int j = 0; j < 6; ++j) {
      dx_formula.data()[r * 6 + j] = static_cast<float>(rstd * (g[j] - g_mean - xhat[j] * gx_mean));
      sum_dx += x.grad().data()[r * 6 + j];
      sum_dx_xhat += x.grad().data()[r * 6 + j] * xhat[j];
    }
  }
  std::printf("fused kernel vs the formula in double:        max |Δdx| %s\n",
              bound(max_abs_diff(x.grad(), dx_formula)).c_str());
  std::printf("fused kernel vs composed ops (mean, sub, mul, pow, add):\n");
  std::printf("  max |Δy| %s   max |Δdx| %s   max |Δdw| %s   max |Δdb| %s\n",
              bound(max_abs_diff(y, y2)).c_str(), bound(max_abs_diff(x.grad(), x2.grad())).c_str(),
              bound(max_abs_diff(w.grad(), w2.grad())).c_str(),
              bound(max_abs_diff(b.grad(), b2.grad())).c_str());
  std::printf("Σ dx over the rows %s (zero: shifting x changes nothing)\n", bound(sum_dx).c_str());
  std::printf("Σ dx·x̂ over the rows: %.1e, predicted from eps alone: %.1e (zero only if eps = 0)\n",
              sum_dx_xhat, predicted);
  GradcheckResult r = gradcheck(
      [eps](const std::vector<Tensor>& v) { return layer_norm(v[0], v[1], v[2], eps); },
      {x.detach().clone().set_requires_grad(true), w.detach().clone().set_requires_grad(true),
       b.detach().clone().set_requires_grad(true)});
  std::printf(
      "gradcheck (central differences, eps 1e-2): %s, worst |analytic − numeric| / tolerance = "
      "%.2f\n\n",
      r.ok ? "passed" : "FAILED", r.worst_ratio);
}

// The reverse task: source "5 9 3 ...", target "... 3 9 5". Ids 0, 1, 2 are <pad> <bos> <eos>.
struct Batch {
  Tensor src, src_keep, tgt_in, tgt_keep, tgt_out;
};
Batch reverse_batch(Generator& gen, int64_t B, int64_t L, int64_t symbols) {
  std::vector<float> src(B * L), tin(B * (L + 1)), tout(B * (L + 1));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < L; ++t) src[b * L + t] = static_cast<float>(3 + gen.randint(symbols));
    tin[b * (L + 1)] = 1;
    for (int64_t t = 0; t < L; ++t) {
      tin[b * (L + 1) + t + 1] = src[b * L + (L - 1 - t)];
      tout[b * (L + 1) + t] = src[b * L + (L - 1 - t)];
    }
    tout[b * (L + 1) + L] = 2;
  }
  return {Tensor::from_vector(src, {B, L}), Tensor::ones({B, L}),
          Tensor::from_vector(tin, {B, L + 1}), Tensor::ones({B, L + 1}),
          Tensor::from_vector(tout, {B * (L + 1)})};
}

// With warmup_schedule, the paper's schedule (40 warm-up steps, peak 32^-½·40^-½ ≈ 0.028); else
// 3e-3.
std::vector<float> train(bool norm_first, bool warmup_schedule, int64_t steps,
                         const std::vector<int64_t>& report, std::vector<float>* every = nullptr) {
  nn::Seq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = 13;
  c.d_model = 32;
  c.heads = 4;
  c.d_ff = 64;
  c.encoder_layers = c.decoder_layers = 2;
  c.max_len = 16;
  c.dropout = 0.f;
  c.norm_first = norm_first;
  Generator gen(42);
  nn::Seq2SeqTransformer model(c, gen);
  nn::Adam opt(model.parameters(), 0.f, 0.9f, 0.98f, 1e-9f);
  Generator data(7);
  std::vector<float> losses;
  nn::LoopOptions loop;
  loop.lr = [&](int64_t step) {
    return warmup_schedule ? nn::noam_lr(step, c.d_model, 40) : 3e-3f;
  };
  loop.on_step = [&](const nn::StepResult& r) {
    for (int64_t s : report)
      if (s == r.step) losses.push_back(r.loss);
    if (every) every->push_back(r.loss);
  };
  nn::fit(
      opt, steps,
      [&](int64_t) {
        Batch b = reverse_batch(data, 16, 6, 10);
        Tensor logits = model.forward(b.src, b.src_keep, b.tgt_in, b.tgt_keep);
        return cross_entropy(reshape(logits, {-1, c.tgt_vocab}), b.tgt_out, 0);
      },
      loop);
  return losses;
}

// With `svg`, also draws every step's loss of the four runs (docs/img/ch10_post_vs_pre_norm.svg).
void post_versus_pre(const std::string& svg) {
  std::printf(
      "== 3. post-norm versus pre-norm: reverse 6 symbols, 2+2 layers, d_model 32, same seed and "
      "data ==\n");
  const std::vector<int64_t> report = {1, 30, 60, 90, 120};
  std::printf("%-49s", "cross-entropy at step");
  for (int64_t s : report) std::printf(" %6lld", static_cast<long long>(s));
  std::printf("\n");
  std::vector<plot::Series> curves;
  for (bool schedule : {false, true})
    for (bool nf : {false, true}) {
      std::vector<float> every;
      std::vector<float> l = train(nf, schedule, report.back(), report, &every);
      plot::Series c;
      c.name = std::string(nf ? "pre-norm" : "post-norm") +
               (schedule ? ", warm-up to lr 0.028" : ", constant lr 0.003");
      for (size_t i = 0; i < every.size(); ++i) {
        c.x.push_back(static_cast<double>(i + 1));
        c.y.push_back(every[i]);
      }
      c.colour = nf ? "#2ca02c" : "#d62728";
      c.dashed = schedule;
      c.width = 1.5;
      curves.push_back(c);
      std::printf("%s, %-38s", nf ? "pre-norm " : "post-norm",
                  schedule ? "warm-up 40 to lr 0.028, then 1/sqrt" : "constant lr 0.003");
      for (float v : l) std::printf(" %6.2f", v);
      std::printf("\n");
    }
  if (svg.empty()) return;
  plot::LineChartStyle st;
  st.x_label = "training step";
  st.y_label = "cross-entropy (every step)";
  st.notes = {
      "reverse 6 symbols, 2+2 layers, d_model 32, the same seed and batches for all four "
      "runs; drawn by build/ch10_layer_norm train --svg",
      "a g++ -O3 -march=native build (the same digits on the AMD EPYC Zen 5 and the Intel "
      "Xeon); clang++ rounds differently in the last bits"};
  const size_t slash = svg.find_last_of('/');
  plot::write_figure(slash == std::string::npos ? "." : svg.substr(0, slash),
                     svg.substr(slash == std::string::npos ? 0 : slash + 1),
                     plot::line_chart_svg(curves, st, "post-norm against pre-norm, step by step"));
}

// `ch10_layer_norm` prints sections 1-2; `ch10_layer_norm train` runs section 3. Training
// curves drift in their last digits from compiler to compiler (rounding differences grow
// over many steps), so the docs check sections 1-2 byte for byte and quote section 3.
int run(int argc, char** argv) {
  app::ArgParser args("ch10_layer_norm",
                      "LayerNorm by hand and its backward against finite differences (sections "
                      "1-2),\nor post-norm against pre-norm in training (section 3: `train`).");
  args.positional("train", "run section 3 instead");
  std::string svg;
  args.option("--svg", "PATH", "with train: draw the four loss curves into PATH", svg);
  if (!args.parse(argc, argv)) return 0;
  const auto& pos = args.positionals();
  if (pos.size() > 1 || (pos.size() == 1 && pos[0] != "train"))
    throw app::UsageError("the only argument is 'train'");
  if (!pos.empty()) {
    post_versus_pre(svg);
    return 0;
  }
  forward_by_hand();
  backward_checks();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return app::run_app("ch10_layer_norm", run, argc, argv, /*runtime_settings=*/false);
}
