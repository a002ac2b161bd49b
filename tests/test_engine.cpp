// The reverse-mode engine (autograd/engine.cpp, chapter 02): order, accumulation, memory,
// and the errors a user meets first.
#include <stdexcept>
#include <vector>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "tests/catch.h"

using namespace qkv;

TEST_CASE("engine: a chain of 100,000 ops runs backward without recursion", "[ch02][engine]") {
  const int64_t baseline = TensorImpl::live_count();
  {
    Tensor x = Tensor::scalar(1.f, true);
    Tensor h = x;
    for (int i = 0; i < 100000; ++i) h = h * 1.0001f;
    h.backward();
    // Each step multiplies the gradient by 1.0001 too: dh/dx = 1.0001^100000 = h.
    REQUIRE(x.grad().item() == Approx(h.item()).epsilon(1e-4));
    REQUIRE(h.item() == Approx(std::pow(1.0001, 100000)).epsilon(1e-2));
  }
  REQUIRE(TensorImpl::live_count() == baseline);
  {
    Tensor x = Tensor::scalar(0.f, true);
    Tensor h = x;
    for (int i = 0; i < 100000; ++i) h = h + 1.f;
    REQUIRE(h.item() == 100000.f);
    h.backward();
    REQUIRE(x.grad().item() == 1.f);
  }
  REQUIRE(TensorImpl::live_count() == baseline);
}

TEST_CASE("engine: a chain of 100,000 ops dropped without backward frees iteratively",
          "[ch02][engine]") {
  const int64_t baseline = TensorImpl::live_count();
  {
    Tensor x = Tensor::scalar(1.f, true);
    Tensor h = x;
    for (int i = 0; i < 100000; ++i) h = h + 1.f;
    REQUIRE(TensorImpl::live_count() == baseline + 100001);
  }  // the destructor chain would overflow the stack if it recursed
  REQUIRE(TensorImpl::live_count() == baseline);
  {
    // Also when the chain is kept alive only through a leaf's consumer, dropped mid-way.
    Tensor x = Tensor::scalar(1.f, true);
    Tensor h = x;
    for (int i = 0; i < 100000; ++i) h = h * 1.0001f;
    Tensor keep = h;
    h = Tensor();
    keep = Tensor();
    REQUIRE(TensorImpl::live_count() == baseline + 1);  // only x is left
  }
  REQUIRE(TensorImpl::live_count() == baseline);
  {
    // A chain with a branch hanging off it, and retain_graph: still no cycle.
    Tensor x = Tensor::scalar(1.f, true);
    Tensor h = x;
    for (int i = 0; i < 100000; ++i) h = (i % 1000 == 0) ? h * x : h + 1.f;
    h.backward(Tensor(), /*retain_graph=*/true);
  }
  REQUIRE(TensorImpl::live_count() == baseline);
}

TEST_CASE("engine: the graph is freed after backward, with or without retain_graph",
          "[ch02][engine]") {
  const int64_t baseline = TensorImpl::live_count();
  Generator gen(3);
  Tensor w = Tensor::randn({4, 3}, gen, 0.f, 1.f, true);
  const int64_t with_w = TensorImpl::live_count();
  REQUIRE(with_w == baseline + 1);
  for (bool retain : {false, true}) {
    {
      Tensor x = Tensor::randn({2, 4}, gen);
      Tensor y = softmax(matmul(x, w));
      Tensor l = sum(y * y) + mean(y);
      REQUIRE(TensorImpl::live_count() > with_w + 5);
      l.backward(Tensor(), retain);
      if (!retain) {
        REQUIRE(l.grad_fn() == nullptr);
        REQUIRE(y.grad_fn() == nullptr);
      } else {
        REQUIRE(l.grad_fn() != nullptr);
      }
    }
    // w and its gradient are all that remain.
    REQUIRE(TensorImpl::live_count() == with_w + 1);
    w.zero_grad();
    REQUIRE(TensorImpl::live_count() == with_w);
  }
  {
    // Dropping the outputs without any backward frees everything too.
    Tensor x = Tensor::randn({2, 4}, gen);
    Tensor l = sum(relu(matmul(x, w)));
    (void)l;
  }
  REQUIRE(TensorImpl::live_count() == with_w);
}

TEST_CASE("engine: backward twice needs retain_graph, and then doubles the gradient",
          "[ch02][engine]") {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}, true);
  SECTION("without retain_graph the second call throws, naming the fix") {
    Tensor l = sum(x * x);
    l.backward();
    REQUIRE(x.grad().to_vector() == std::vector<float>{2, 4, 6});
    REQUIRE_THROWS_WITH(l.backward(),
                        Catch::Contains("already freed") && Catch::Contains("retain_graph=true"));
    REQUIRE(x.grad().to_vector() == std::vector<float>{2, 4, 6});  // untouched by the failure
  }
  SECTION("with retain_graph the second call adds the same gradient again") {
    Tensor l = sum(x * x);
    l.backward(Tensor(), true);
    l.backward(Tensor(), true);
    REQUIRE(x.grad().to_vector() == std::vector<float>{4, 8, 12});
    l.backward();  // the last call may free the graph
    REQUIRE(x.grad().to_vector() == std::vector<float>{6, 12, 18});
    x.zero_grad();
    REQUIRE_FALSE(x.grad().defined());
    sum(x * x).backward();
    REQUIRE(x.grad().to_vector() == std::vector<float>{2, 4, 6});
  }
}

TEST_CASE("engine: backward of a non-scalar needs a gradient argument", "[ch02][engine]") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2}, true);
  Tensor y = x * x;
  REQUIRE_THROWS_WITH(y.backward(),
                      Catch::Contains("[2, 2]") && Catch::Contains("explicit gradient"));
  REQUIRE_THROWS_WITH(y.backward(Tensor::ones({4})), Catch::Contains("gradient shape [4]") &&
                                                         Catch::Contains("output shape [2, 2]"));
  y.backward(Tensor::from_vector({1, 0, 0.5f, 2}, {2, 2}));
  REQUIRE(x.grad().to_vector() == std::vector<float>{2, 0, 3, 16});  // 2x·g
  // A one-element tensor of any rank counts as a scalar.
  Tensor z = Tensor::from_vector({3}, {1, 1}, true);
  (z * z).backward();
  REQUIRE(z.grad().item() == 6.f);
}

TEST_CASE("engine: backward on something that needs no gradient says so", "[ch02][engine]") {
  Tensor c = Tensor::from_vector({1, 2}, {2});
  REQUIRE_THROWS_WITH(sum(c).backward(), Catch::Contains("does not require grad"));
  REQUIRE_THROWS_WITH(Tensor().backward(), Catch::Contains("undefined"));
}

TEST_CASE("engine: a tensor used twice receives the sum of both gradients", "[ch02][engine]") {
  Tensor x = Tensor::from_vector({1, -2, 3}, {3}, true);
  sum(x * x).backward();
  REQUIRE(x.grad().to_vector() == std::vector<float>{2, -4, 6});
  x.zero_grad();
  sum(x + x).backward();
  REQUIRE(x.grad().to_vector() == std::vector<float>{2, 2, 2});
  x.zero_grad();
  // Used three times along paths of different length: d/dx (x·x·x + x) = 3x² + 1.
  sum(x * x * x + x).backward();
  REQUIRE(x.grad().to_vector() == std::vector<float>{4, 13, 28});
  x.zero_grad();
  // The diamond of chapter 02: a = 2x, b = 3a, c = a + b  ⇒  dc/dx = 8.
  Tensor s = Tensor::scalar(1.f, true);
  Tensor a = s * 2.f;
  Tensor c = a + a * 3.f;
  c.backward();
  REQUIRE(s.grad().item() == 8.f);
}

TEST_CASE("engine: topological order puts every tensor after its inputs", "[ch02][engine]") {
  Tensor s = Tensor::scalar(1.f, true);
  Tensor a = s * 2.f;
  Tensor b = a * 3.f;
  Tensor c = a + b;
  const auto order = topological_order(c);
  REQUIRE(order.size() == 4);
  auto pos = [&](const Tensor& t) {
    for (size_t i = 0; i < order.size(); ++i)
      if (order[i].is_same(t)) return static_cast<int>(i);
    return -1;
  };
  REQUIRE(pos(s) == 0);
  REQUIRE(pos(a) < pos(b));
  REQUIRE(pos(b) < pos(c));
  REQUIRE(pos(c) == 3);
}

TEST_CASE("engine: NoGradGuard records nothing", "[ch02][engine]") {
  Tensor x = Tensor::from_vector({1, 2}, {2}, true);
  REQUIRE(grad_enabled());
  {
    NoGradGuard guard;
    REQUIRE_FALSE(grad_enabled());
    Tensor y = sum(x * x);
    REQUIRE(y.grad_fn() == nullptr);
    REQUIRE_FALSE(y.requires_grad());
    REQUIRE(y.item() == 5.f);
    { NoGradGuard nested; }
    REQUIRE_FALSE(grad_enabled());  // the nested guard restores "off", not "on"
  }
  REQUIRE(grad_enabled());
  Tensor y = sum(x * x);
  REQUIRE(y.grad_fn() != nullptr);
  REQUIRE(y.grad_fn()->name == "sum");
  // Inputs that do not require grad record nothing either.
  Tensor c = Tensor::from_vector({1, 2}, {2});
  REQUIRE((c * c).grad_fn() == nullptr);
}

TEST_CASE("engine: detach shares storage and cuts the history", "[ch02][engine]") {
  Tensor x = Tensor::from_vector({1, 2}, {2}, true);
  Tensor y = x * 3.f;
  Tensor d = y.detach();
  REQUIRE(d.data() == y.data());
  REQUIRE_FALSE(d.requires_grad());
  REQUIRE(d.grad_fn() == nullptr);
  REQUIRE(d.is_leaf());
  // Gradient stops at the detached value: d/dx sum(y·d) treats d as a constant.
  sum(y * d).backward();
  REQUIRE(x.grad().to_vector() == std::vector<float>{9, 18});  // 3·d = 3·3x
}

TEST_CASE("engine: retain_grad keeps a non-leaf's gradient", "[ch02][engine]") {
  Tensor x = Tensor::from_vector({1, 2}, {2}, true);
  Tensor y = x * x;
  Tensor z = x * x;
  y.retain_grad();
  REQUIRE_FALSE(y.is_leaf());
  REQUIRE(x.is_leaf());
  sum(y * 3.f + z).backward();
  REQUIRE(y.grad().defined());
  REQUIRE(y.grad().to_vector() == std::vector<float>{3, 3});
  REQUIRE_FALSE(z.grad().defined());                           // scaffolding is dropped
  REQUIRE(x.grad().to_vector() == std::vector<float>{8, 16});  // (3 + 1)·2x
}

TEST_CASE("engine: requires_grad, leaves and set_requires_grad", "[ch02][engine]") {
  Tensor x = Tensor::from_vector({1, 2}, {2});
  REQUIRE_FALSE(x.requires_grad());
  x.set_requires_grad(true);
  REQUIRE(x.requires_grad());
  REQUIRE(x.is_leaf());
  Tensor y = x * 2.f;
  REQUIRE(y.requires_grad());
  REQUIRE_FALSE(y.is_leaf());
  REQUIRE_THROWS_WITH(y.set_requires_grad(false), Catch::Contains("detach()"));
  REQUIRE_FALSE(x.grad().defined());
}

// --- two engine bugs found by these tests, now fixed in autograd/engine.cpp ---------------

TEST_CASE("backward through a subgraph freed by another root throws", "[ch02][engine]") {
  // z1 and z2 share y = 3x. z1.backward() frees y's node; without the check, z2.backward()
  // would treat y as a leaf and silently give x no gradient from z2.
  Tensor x = Tensor::scalar(2.f, true);
  Tensor y = x * 3.f;
  Tensor z1 = y + 1.f, z2 = y * 2.f;
  z1.backward();
  REQUIRE_THROWS_WITH(z2.backward(), Catch::Contains("retain_graph"));
}

TEST_CASE("a retained non-leaf gradient does not flow back twice", "[ch02][engine]") {
  // y.retain_grad() keeps y.grad from the first call; the second call must pass down only its
  // own 3, not the running sum 6 (which would make x.grad 36 instead of 24).
  Tensor x = Tensor::scalar(2.f, true);
  Tensor y = x * x;
  y.retain_grad();
  Tensor z = y * 3.f;
  z.backward(Tensor(), true);
  z.backward();
  REQUIRE(y.grad().item() == 6.f);
  REQUIRE(x.grad().item() == 24.f);
  // Same with the root itself retained.
  Tensor a = Tensor::scalar(2.f, true);
  Tensor b = a * 5.f;
  b.retain_grad();
  b.backward(Tensor(), true);
  b.backward();
  REQUIRE(a.grad().item() == 10.f);
}

TEST_CASE("gradcheck leaves the caller's gradients as they were", "[ch02][gradcheck]") {
  Tensor x = Tensor::from_vector({1.f, 2.f}, {2}, true);
  sum(mul(x, 5.f)).backward();
  REQUIRE(gradcheck([](const std::vector<Tensor>& v) { return mul(v[0], v[0]); }, {x}).ok);
  REQUIRE(x.grad().to_vector() == std::vector<float>{5.f, 5.f});
  REQUIRE_THROWS_WITH(Tensor().set_requires_grad(false), Catch::Contains("undefined tensor"));
}
