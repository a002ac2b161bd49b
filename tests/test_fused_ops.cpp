// Each fused op equals the composition of simple ops it replaces, forward and backward
// (MiniTorch's habit: the fast layer is held equal to the obviously correct one).
#include <omp.h>

#include <cmath>
#include <functional>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "tests/catch.h"

using namespace qkv;

namespace {
Tensor rnd(const Shape& s, uint64_t seed, float lo = -2.f, float hi = 2.f) {
  Generator g(seed);
  return Tensor::uniform(s, g, lo, hi, true);
}
// Run f on fresh copies of the inputs; return the output and the gradients of Σ out·r.
std::vector<std::vector<float>> run(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                    const std::vector<Tensor>& inputs) {
  std::vector<Tensor> xs;
  for (const auto& x : inputs) xs.push_back(x.clone().set_requires_grad(true));
  Tensor out = f(xs);
  Generator g(7);
  Tensor r = Tensor::uniform(out.shape(), g, -1.f, 1.f);
  sum(mul(out, r)).backward();
  std::vector<std::vector<float>> res{out.to_vector()};
  for (auto& x : xs) res.push_back(x.grad().to_vector());
  return res;
}
void require_close(const std::vector<std::vector<float>>& a,
                   const std::vector<std::vector<float>>& b, float tol) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].size() == b[i].size());
    for (size_t j = 0; j < a[i].size(); ++j) {
      INFO("tensor " << i << " element " << j);
      REQUIRE(a[i][j] == Approx(b[i][j]).margin(tol));
    }
  }
}
}  // namespace

TEST_CASE("softmax and log_softmax equal exp / sum compositions", "[ch05][fused]") {
  Tensor x = rnd({4, 7}, 1);
  auto composed = [](auto& v) {
    Tensor e = exp(sub(v[0], max(v[0], -1, true)));
    return div(e, sum(e, -1, true));
  };
  require_close(run([](auto& v) { return softmax(v[0], -1); }, {x}), run(composed, {x}), 1e-6f);
  auto composed_log = [](auto& v) {
    Tensor shifted = sub(v[0], max(v[0], -1, true));
    return sub(shifted, log(sum(exp(shifted), -1, true)));
  };
  require_close(run([](auto& v) { return log_softmax(v[0], -1); }, {x}), run(composed_log, {x}),
                1e-5f);
}

TEST_CASE("cross_entropy equals −Σ q·log_softmax with a smoothed target", "[ch05][fused]") {
  Tensor logits = rnd({5, 6}, 2);
  const std::vector<float> t = {0, 5, 2, 2, 3};
  const float eps = 0.1f;
  // q = (1 − ε)·onehot + ε/C, as a constant tensor; the loss is the mean over rows.
  std::vector<float> q(30, eps / 6);
  for (int r = 0; r < 5; ++r) q[r * 6 + static_cast<int>(t[r])] += 1 - eps;
  Tensor qt = Tensor::from_vector(q, {5, 6});
  auto composed = [&](auto& v) { return mul(sum(mul(log_softmax(v[0], -1), qt)), -1.f / 5); };
  auto fused = [&](auto& v) { return cross_entropy(v[0], Tensor::from_vector(t, {5}), -100, eps); };
  require_close(run(fused, {logits}), run(composed, {logits}), 1e-5f);
}

TEST_CASE("layer_norm equals its composition from mean, sub, mul and sqrt", "[ch10][fused]") {
  auto composed = [](auto& v) {
    Tensor mu = mean(v[0], -1, true);
    Tensor c = sub(v[0], mu);
    Tensor var = mean(mul(c, c), -1, true);  // biased, as torch.nn.LayerNorm
    return add(mul(div(c, sqrt(add(var, 1e-5f))), v[1]), v[2]);
  };
  for (auto shape : std::vector<Shape>{{3, 8}, {2, 5, 16}, {1, 64}}) {
    const int64_t D = shape.back();
    Tensor x = rnd(shape, 3), w = rnd({D}, 4, 0.5f, 1.5f), b = rnd({D}, 5);
    INFO("shape " << shape.size() << "-D, last " << D);
    require_close(run([](auto& v) { return layer_norm(v[0], v[1], v[2]); }, {x, w, b}),
                  run(composed, {x, w, b}), 1e-5f);
  }
}

TEST_CASE("bias_relu / bias_gelu and linear equal their unfused compositions", "[ch04][fused]") {
  Tensor x = rnd({2, 3, 5}, 6), b = rnd({5}, 7);
  require_close(run([](auto& v) { return bias_relu(v[0], v[1]); }, {x, b}),
                run([](auto& v) { return relu(add(v[0], v[1])); }, {x, b}), 1e-6f);
  require_close(run([](auto& v) { return bias_gelu(v[0], v[1]); }, {x, b}),
                run([](auto& v) { return gelu(add(v[0], v[1])); }, {x, b}), 1e-6f);
  Tensor w = rnd({4, 5}, 8), bias = rnd({4}, 9);
  require_close(
      run([](auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, bias}),
      run([](auto& v) { return add(matmul(v[0], transpose(v[1], 0, 1)), v[2]); }, {x, w, bias}),
      1e-5f);
}

TEST_CASE("linear_relu_dropout equals linear, bias_relu and dropout, mask included",
          "[ch14][fused]") {
  Tensor x = rnd({3, 4, 6}, 10), w = rnd({40, 6}, 11), b = rnd({40}, 12);
  for (float p : {0.f, 0.3f})
    for (bool training : {true, false}) {
      INFO("p " << p << " training " << training);
      auto fused = [&](auto& v) {
        Generator gen(5);
        return linear_relu_dropout(v[0], v[1], v[2], p, training, gen);
      };
      auto composed = [&](auto& v) {
        Generator gen(5);
        return dropout(bias_relu(linear(v[0], v[1]), v[2]), p, training, gen);
      };
      require_close(run(fused, {x, w, b}), run(composed, {x, w, b}), 1e-5f);
    }
}

TEST_CASE("linear_relu_dropout passes gradcheck with dropout", "[ch14][fused][gradcheck]") {
  auto f = [](const std::vector<Tensor>& v) {
    Generator gen(3);  // the same mask on every evaluation
    return linear_relu_dropout(v[0], v[1], v[2], 0.25f, true, gen);
  };
  GradcheckResult r = gradcheck(f, {rnd({2, 3, 4}, 13), rnd({5, 4}, 14), rnd({5}, 15)});
  INFO(r.message);
  REQUIRE(r.ok);
}

namespace {
// Bit for bit: a fused op that claims "the same numbers" is held to exactly that.
void require_equal(const std::vector<std::vector<float>>& a,
                   const std::vector<std::vector<float>>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].size() == b[i].size());
    for (size_t j = 0; j < a[i].size(); ++j) {
      INFO("tensor " << i << " element " << j);
      REQUIRE(a[i][j] == b[i][j]);
    }
  }
}
}  // namespace

TEST_CASE("dropout_add_layer_norm equals dropout, add and layer_norm, bit for bit",
          "[ch14][fused]") {
  const int before = omp_get_max_threads();
  // [37, 64]: one thread (below kParallelMin), rows left over from the groups of 16;
  // [640, 100]: two threads, and 4096-element mask blocks that straddle rows and threads;
  // [2, 320, 64]: a batch dimension.
  for (const Shape& shape : {Shape{37, 64}, Shape{640, 100}, Shape{2, 320, 64}})
    for (int threads : {1, 2})
      for (float p : {0.f, 0.1f, 0.3f})
        for (bool training : {true, false}) {
          INFO("shape " << shape_str(shape) << " threads " << threads << " p " << p << " training "
                        << training);
          omp_set_num_threads(threads);
          const int64_t D = shape.back();
          Tensor x = rnd(shape, 20), r = rnd(shape, 21), w = rnd({D}, 22), b = rnd({D}, 23);
          // The residual is v[res] (1: its own tensor; 0: x again), the norm's weight and bias
          // come after it.
          auto fused_with = [&](size_t res) {
            return [&, res](const std::vector<Tensor>& v) {
              Generator gen(5);
              return dropout_add_layer_norm(v[0], v[res], p, training, gen, v[res + 1], v[res + 2]);
            };
          };
          auto composed_with = [&](size_t res) {
            return [&, res](const std::vector<Tensor>& v) {
              Generator gen(5);
              return layer_norm(add(v[res], dropout(v[0], p, training, gen)), v[res + 1],
                                v[res + 2]);
            };
          };
          auto fused = fused_with(1);
          auto composed = composed_with(1);
          {
            INFO("alone");
            require_equal(run(fused, {x, r, w, b}), run(composed, {x, r, w, b}));
          }
          // The residual also used elsewhere: one of its two gradients is added to the other.
          auto fused2 = [&](auto& v) { return add(fused(v), mul(v[1], 0.5f)); };
          auto composed2 = [&](auto& v) { return add(composed(v), mul(v[1], 0.5f)); };
          {
            INFO("residual also used elsewhere");
            require_equal(run(fused2, {x, r, w, b}), run(composed2, {x, r, w, b}));
          }
          {
            INFO("one tensor in both slots");
            require_equal(run(fused_with(0), {x, w, b}), run(composed_with(0), {x, w, b}));
          }
        }
  omp_set_num_threads(before);
}

TEST_CASE("dropout_add_layer_norm passes gradcheck with dropout", "[ch14][fused][gradcheck]") {
  auto f = [](const std::vector<Tensor>& v) {
    Generator gen(3);  // the same mask on every evaluation
    return dropout_add_layer_norm(v[0], v[1], 0.25f, true, gen, v[2], v[3]);
  };
  GradcheckResult res =
      gradcheck(f, {rnd({2, 3, 5}, 24), rnd({2, 3, 5}, 25), rnd({5}, 26), rnd({5}, 27)});
  INFO(res.message);
  REQUIRE(res.ok);
}

TEST_CASE("dropout_add_layer_norm names the shape at fault", "[ch14][fused]") {
  Generator gen(1);
  Tensor x = rnd({2, 4}, 30), w = rnd({4}, 31), b = rnd({4}, 32);
  CHECK_THROWS_WITH(dropout_add_layer_norm(x, rnd({2, 3}, 33), 0.1f, true, gen, w, b),
                    Catch::Contains("residual [2, 3] does not match input [2, 4]"));
  CHECK_THROWS_WITH(dropout_add_layer_norm(x, x, 0.1f, true, gen, rnd({3}, 34), b),
                    Catch::Contains("weight [3] does not match the last dimension of [2, 4]"));
  CHECK_THROWS_WITH(dropout_add_layer_norm(x, x, 1.f, true, gen, w, b),
                    Catch::Contains("p must be in [0, 1), got 1"));
}
