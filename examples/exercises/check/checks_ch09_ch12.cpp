// Checks of the exercises of chapters 09–12: sinusoidal positions, LayerNorm, Adam and
// clipping by the global norm.
#include "autograd/ops.h"
#include "examples/exercises/check/checks.h"
#include "examples/exercises/check/harness.h"
#include "nn/layers.h"
#include "nn/optim.h"

namespace qkv::exercises::checks {

void sinusoidal_encoding(const Answers& a) {
  // An odd width ends with a sine; one position and one dim; positions up to 63.
  for (const auto& [len, dim] :
       std::vector<std::pair<int64_t, int64_t>>{{5, 8}, {3, 7}, {1, 1}, {64, 6}})
    expect_close("sinusoidal_encoding(" + std::to_string(len) + ", " + std::to_string(dim) + ")",
                 nn::sinusoidal_positions(len, dim), a.sinusoidal_encoding(len, dim));
}

namespace {
// x [..., D]: D = 1 (every row is its own mean), and rows far from zero, where the variance
// as E[x²] − E[x]² loses every digit in float.
std::vector<Inputs> layer_norm_cases(uint64_t seed, bool offset) {
  std::vector<Inputs> cases;
  for (const Shape& s : {Shape{4, 6}, Shape{2, 1, 5}, Shape{3, 1}}) {
    const int64_t D = s.back();
    Tensor x = random_tensor(s, seed, -2, 2, true);
    if (offset && s[0] == 4)
      for (int64_t j = 0; j < D; ++j) x.at({1, j}) += 300.f;
    cases.push_back({{"x", "weight", "bias"},
                     {x, random_tensor({D}, seed + 1, 0.5, 1.5, true),
                      random_tensor({D}, seed + 2, -1, 1, true)}});
    seed += 3;
  }
  return cases;
}
constexpr float kEps = 1e-5f;
}  // namespace

void layer_norm_forward(const Answers& a) {
  for (const Inputs& in : layer_norm_cases(300, true)) {
    const auto& x = in.values;
    expect_close("layer_norm_forward(x " + shape_str(x[0].shape()) + ")",
                 qkv::layer_norm(x[0].detach(), x[1].detach(), x[2].detach(), kEps),
                 a.layer_norm_forward(x[0].clone(), x[1].clone(), x[2].clone(), kEps),
                 {1e-4, 1e-4});
  }
}

void layer_norm_backward(const Answers& a) {
  for (const Inputs& in : layer_norm_cases(310, false))
    expect_backward(
        "layer_norm_backward", in,
        [](const std::vector<Tensor>& x) { return qkv::layer_norm(x[0], x[1], x[2], kEps); },
        [&](const std::vector<Tensor>& x, const Tensor& dy) {
          const LayerNormGrads g = a.layer_norm_backward(x[0], x[1], kEps, dy);
          return std::vector<Tensor>{g.dx, g.dweight, g.dbias};
        });
}

void adam_step(const Answers& a) {
  struct Case {
    Shape shape;
    float lr, beta1, beta2, eps;
    int steps;
  };
  uint64_t seed = 320;
  for (const Case& c :
       {Case{{3, 4}, 0.01f, 0.9f, 0.999f, 1e-8f, 3}, Case{{1}, 0.1f, 0.8f, 0.98f, 1e-6f, 4}}) {
    Tensor ref = random_tensor(c.shape, seed++, -1, 1, true);
    nn::Adam adam({ref}, c.lr, c.beta1, c.beta2, c.eps);
    Tensor p = ref.clone(), m = Tensor::zeros(c.shape), v = Tensor::zeros(c.shape);
    for (int t = 1; t <= c.steps; ++t) {
      Tensor g = random_tensor(c.shape, seed++, -1, 1);
      g.data()[0] = t == 2 ? 0.f : g.data()[0];  // a zero gradient: only the moments move p
      ref.zero_grad();
      sum(mul(ref, g)).backward();  // ref.grad = g
      adam.step();
      a.adam_step(p, g.clone(), m, v, t, c.lr, c.beta1, c.beta2, c.eps);
      expect_close("adam_step: param " + shape_str(c.shape) + " after step " + std::to_string(t) +
                       " (lr " + std::to_string(c.lr).substr(0, 4) + ")",
                   ref.detach(), p, {1e-6, 1e-5});
    }
  }
}

void clip_by_global_norm(const Answers& a) {
  const std::vector<Shape> shapes = {{3, 4}, {1}, {2, 3, 1}};
  uint64_t seed = 340;
  // (gradient scale, max_norm): clipped; left alone; all gradients zero.
  for (const auto& [scale, max_norm] :
       std::vector<std::pair<float, double>>{{3.f, 1.0}, {0.1f, 5.0}, {0.f, 1.0}}) {
    std::vector<Tensor> params, grads;
    for (const Shape& s : shapes) {
      Tensor p = random_tensor(s, seed++, -1, 1, true);
      const Tensor g = mul(random_tensor(s, seed++, -1, 1), scale);
      sum(mul(p, g)).backward();  // p.grad = g
      params.push_back(p);
      grads.push_back(g.clone());
    }
    const double expected = nn::clip_grad_norm(params, max_norm);
    const std::string what =
        "clip_by_global_norm(max_norm " + std::to_string(max_norm).substr(0, 3) + ")";
    expect_close(what + " returned norm", expected, a.clip_by_global_norm(grads, max_norm),
                 {1e-6, 1e-5});
    for (size_t i = 0; i < params.size(); ++i)
      expect_close(what + ": gradient " + std::to_string(i), params[i].grad(), grads[i],
                   {1e-6, 1e-5});
  }
}

}  // namespace qkv::exercises::checks
