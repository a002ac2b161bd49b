// Chapter 10: LayerNorm as torch.nn.LayerNorm defines it, its fused backward, and Add&Norm.
#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using namespace qkv::test;

namespace {
Tensor composed(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
  Tensor xc = sub(x, mean(x, -1, true));
  Tensor rstd = pow(add(mean(mul(xc, xc), -1, true), eps), -0.5f);
  return add(mul(mul(xc, rstd), w), b);
}
}  // namespace

TEST_CASE("layer_norm: biased variance, eps inside the square root (torch.nn.LayerNorm)",
          "[ch10][layernorm]") {
  // torch.nn.functional.layer_norm(torch.tensor([[1., 2., 3., 4.]]), (4,)) = [-1.3416, -0.4472,
  // 0.4472, 1.3416]
  Tensor y = layer_norm(Tensor::from_vector({1, 2, 3, 4}, {1, 4}), Tensor(), Tensor(), 1e-5f);
  CHECK(y.data()[0] == Approx(-1.3416355).margin(1e-5));
  CHECK(y.data()[1] == Approx(-0.4472118).margin(1e-5));
  // A row of tiny variance shows where eps sits: x̂ = (x − μ)/√(σ² + eps), σ² = 2e-6.
  Tensor t =
      layer_norm(Tensor::from_vector({1, 1.002f, 0.998f, 1}, {1, 4}), Tensor(), Tensor(), 1e-5f);
  CHECK(t.data()[1] == Approx(0.002 / std::sqrt(2e-6 + 1e-5)).epsilon(1e-3));
}

TEST_CASE("layer_norm: fused forward and backward equal the composition of small ops",
          "[ch10][layernorm]") {
  for (auto shape : std::vector<Shape>{{3, 6}, {2, 5, 16}, {1, 64}}) {
    Generator gen(shape.back());
    const int64_t D = shape.back();
    Tensor x = Tensor::randn(shape, gen, 0.5f, 2.f, true),
           w = Tensor::randn({D}, gen, 1.f, 0.5f, true),
           b = Tensor::randn({D}, gen, 0.f, 0.5f, true);
    Tensor x2 = x.detach().clone().set_requires_grad(true),
           w2 = w.detach().clone().set_requires_grad(true),
           b2 = b.detach().clone().set_requires_grad(true);
    Tensor dy = Tensor::randn(shape, gen);
    Tensor y = layer_norm(x, w, b, 1e-5f), y2 = composed(x2, w2, b2, 1e-5f);
    CHECK(max_abs_diff(y, y2) < 1e-5f);
    sum(mul(y, dy)).backward();
    sum(mul(y2, dy)).backward();
    CHECK(max_abs_diff(x.grad(), x2.grad()) < 1e-4f);
    CHECK(max_abs_diff(w.grad(), w2.grad()) < 1e-4f);
    CHECK(max_abs_diff(b.grad(), b2.grad()) < 1e-5f);
  }
}

TEST_CASE("layer_norm: gradcheck of the fused op and of the composition",
          "[ch10][layernorm][gradcheck]") {
  Generator gen(3);
  Tensor x = Tensor::randn({3, 6}, gen, 0, 1, true), w = Tensor::randn({6}, gen, 1, 0.5f, true),
         b = Tensor::randn({6}, gen, 0, 0.5f, true);
  auto fused = gradcheck(
      [](const std::vector<Tensor>& v) { return layer_norm(v[0], v[1], v[2], 1e-5f); }, {x, w, b});
  INFO(fused.message);
  CHECK(fused.ok);
  auto comp = gradcheck(
      [](const std::vector<Tensor>& v) { return composed(v[0], v[1], v[2], 1e-5f); }, {x, w, b});
  INFO(comp.message);
  CHECK(comp.ok);
}

TEST_CASE("layer_norm backward: each row of dx sums to zero", "[ch10][layernorm]") {
  Generator gen(4);
  Tensor x = Tensor::randn({4, 8}, gen, 0, 1, true);
  sum(mul(layer_norm(x, Tensor(), Tensor(), 1e-5f), Tensor::randn({4, 8}, gen))).backward();
  for (int r = 0; r < 4; ++r) {
    double s = 0;
    for (int j = 0; j < 8; ++j) s += x.grad().data()[r * 8 + j];
    CHECK(std::fabs(s) < 1e-5);
  }
}

TEST_CASE("AddNorm: post-norm is LayerNorm(x + f(x)), pre-norm is x + f(LayerNorm(x))",
          "[ch10][addnorm]") {
  Generator gen(5);
  Tensor x = Tensor::randn({2, 3, 8}, gen);
  nn::Linear f(8, 8, gen);
  auto sub = [&](const Tensor& t) { return f.forward(t); };
  nn::AddNorm post(8, 0.f, false, 1), pre(8, 0.f, true, 1);
  Tensor a = post.forward(x, sub), b = pre.forward(x, sub);
  CHECK(max_abs_diff(a, layer_norm(add(x, f.forward(x)), Tensor(), Tensor(), 1e-5f)) < 1e-6f);
  CHECK(max_abs_diff(b, add(x, f.forward(layer_norm(x, Tensor(), Tensor(), 1e-5f)))) < 1e-6f);
  // Post-norm output is normalised (mean 0 per row); pre-norm's residual stream is not.
  double m = 0;
  for (int j = 0; j < 8; ++j) m += a.data()[j];
  CHECK(std::fabs(m / 8) < 1e-5);
  // The default is post-norm, as in the paper.
  CHECK_FALSE(nn::TransformerOptions{}.norm_first);
  CHECK_FALSE(nn::Seq2SeqConfig{}.norm_first);
  // Pre-norm stacks end with one more LayerNorm; post-norm stacks do not need one.
  nn::TransformerOptions o;
  o.d_model = 8;
  o.heads = 2;
  o.d_ff = 16;
  nn::Encoder enc_post(o, 2, gen);
  o.norm_first = true;
  nn::Encoder enc_pre(o, 2, gen);
  CHECK(enc_post.final_norm == nullptr);
  CHECK(enc_pre.final_norm != nullptr);
}
