// The reverse-mode engine (autograd/engine.cpp, chapter 02): order, accumulation, memory,
// and the errors a user meets first.
#include <algorithm>
#include <functional>
#include <stdexcept>
#include <vector>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "tests/catch.h"
#include "tests/helpers.h"

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

// --- A gradient's first contribution is written, not added to zeros (chapter 14) ---------

namespace {

using qkv::test::rnd;

struct WriteCase {
  const char* name;
  std::vector<Tensor> inputs;  // leaves: their rules write or add exactly as an activation's
  TensorFn f;
};

// Every op whose backward writes a new gradient buffer instead of adding to zeros.
std::vector<WriteCase> write_cases() {
  const Tensor targets = Tensor::from_vector({1, 3, 0, 6, 3}, {5});
  return {
      {"linear",
       {rnd({6, 5}, 1), rnd({4, 5}, 2), rnd({4}, 3)},
       [](const std::vector<Tensor>& t) { return linear(t[0], t[1], t[2]); }},
      {"linear_relu_dropout",
       {rnd({6, 5}, 4), rnd({4, 5}, 5), rnd({4}, 6)},
       [](const std::vector<Tensor>& t) {
         Generator gen(7);
         return linear_relu_dropout(t[0], t[1], t[2], 0.3f, true, gen);
       }},
      {"layer_norm",
       {rnd({6, 8}, 8), rnd({8}, 9), rnd({8}, 10)},
       [](const std::vector<Tensor>& t) { return layer_norm(t[0], t[1], t[2]); }},
      {"fused_attention",
       {rnd({2, 3, 8}, 11), rnd({2, 4, 8}, 12), rnd({2, 4, 8}, 13)},
       [](const std::vector<Tensor>& t) {
         Generator gen(14);
         return fused_attention(t[0], t[1], t[2], 2, Tensor(), 0.2f, true, gen).output;
       }},
      {"add (same shapes)",
       {rnd({6, 5}, 15), rnd({6, 5}, 16)},
       [](const std::vector<Tensor>& t) { return t[0] + t[1]; }},
      {"add (broadcast)",
       {rnd({6, 5}, 17), rnd({5}, 18)},
       [](const std::vector<Tensor>& t) { return t[0] + t[1]; }},
      {"dropout",
       {rnd({6, 5}, 19)},
       [](const std::vector<Tensor>& t) {
         Generator gen(20);
         return dropout(t[0], 0.5f, true, gen);
       }},
      {"cross_entropy (rows ignored)",
       {rnd({5, 7}, 21)},
       [targets](const std::vector<Tensor>& t) { return cross_entropy(t[0], targets, 3, 0.1f); }},
      {"reshape",
       {rnd({6, 5}, 22)},
       [](const std::vector<Tensor>& t) { return reshape(t[0], {30}); }},
      {"mul_scalar", {rnd({6, 5}, 23)}, [](const std::vector<Tensor>& t) { return t[0] * 2.5f; }},
  };
}

// The inputs' gradients of Σ f(inputs)·R (R fixed, so the output's gradient is not uniform),
// each input's .grad beforehand absent (the rules write) or `prefill` everywhere (they add).
std::vector<std::vector<float>> grads_of(const WriteCase& c, const float* prefill) {
  for (const Tensor& x : c.inputs) {
    Tensor t = x;
    t.zero_grad();
    if (prefill) {
      Tensor g = t.grad_buffer();
      std::fill(g.data(), g.data() + g.numel(), *prefill);
    }
  }
  Tensor y = c.f(c.inputs);
  sum(y * rnd(y.shape(), 99).detach()).backward();
  std::vector<std::vector<float>> out;
  for (const Tensor& x : c.inputs) out.push_back(x.grad().to_vector());
  return out;
}

}  // namespace

TEST_CASE("engine: a new gradient written gives the same bits as zeros added to",
          "[ch14][engine]") {
  const float zero = 0.f, one = 1.f;
  for (const WriteCase& c : write_cases()) {
    INFO(c.name);
    const auto written = grads_of(c, nullptr);
    REQUIRE(written == grads_of(c, &zero));  // the old path: zeros, then +=
    // A buffer that already holds an earlier share is added to, not overwritten.
    const auto added = grads_of(c, &one);
    for (size_t i = 0; i < written.size(); ++i)
      for (size_t j = 0; j < written[i].size(); ++j)
        REQUIRE(added[i][j] == Approx(written[i][j] + 1.f).margin(1e-6));
  }
}

TEST_CASE("engine: a tensor used two and three times by written-first rules gets the sum",
          "[ch14][engine]") {
  Tensor x = rnd({4, 6}, 31), w = rnd({6, 6}, 32), b = rnd({6}, 33);
  Tensor w2 = rnd({6, 6}, 34), lw = rnd({6}, 35), lb = rnd({6}, 36);
  // x in three slots: a linear layer's input, the residual add after it, a second linear
  // layer's input. The first rule to reach x writes its gradient, the others add.
  auto f = [&](const Tensor& x1, const Tensor& x2, const Tensor& x3) {
    return layer_norm(linear(x1, w, b) + x2, lw, lb) + linear(x3, w2, Tensor());
  };
  const Tensor r = rnd({4, 6}, 37).detach();
  auto grad_x = [&](const Tensor& y) {
    x.zero_grad();
    sum(y * r).backward();
    return x.grad().to_vector();
  };
  // The reference: each use's gradient from its own graph (the other uses detached), summed.
  const Tensor d = x.detach();
  const std::vector<std::vector<float>> each = {grad_x(f(x, d, d)), grad_x(f(d, x, d)),
                                                grad_x(f(d, d, x))};
  const std::vector<float> twice = grad_x(f(x, x, d)), thrice = grad_x(f(x, x, x));
  for (size_t i = 0; i < thrice.size(); ++i) {
    REQUIRE(twice[i] == Approx(each[0][i] + each[1][i]).margin(1e-5));
    REQUIRE(thrice[i] == Approx(each[0][i] + each[1][i] + each[2][i]).margin(1e-5));
  }
  // And against finite differences.
  const GradcheckResult res =
      gradcheck([&](const std::vector<Tensor>& t) { return f(t[0], t[0], t[0]); }, {x});
  INFO(res.message);
  REQUIRE(res.ok);
}

TEST_CASE("engine: one tensor in two slots of one written-first rule gets the sum",
          "[ch14][engine]") {
  // linear(w, w), attention(x, x, x), add(x, x): the rule cannot write both slots first, so
  // such a tensor takes the zero-filled buffer and both slots add.
  Tensor w = rnd({5, 5}, 41), x = rnd({2, 3, 8}, 42), a = rnd({3, 4}, 43);
  for (const GradcheckResult& res :
       {gradcheck([](const std::vector<Tensor>& t) { return linear(t[0], t[0], Tensor()); }, {w}),
        gradcheck(
            [](const std::vector<Tensor>& t) {
              Generator gen(44);
              return fused_attention(t[0], t[0], t[0], 2, Tensor(), 0.f, false, gen).output;
            },
            {x}),
        gradcheck([](const std::vector<Tensor>& t) { return t[0] + t[0]; }, {a})}) {
    INFO(res.message);
    REQUIRE(res.ok);
  }
}

TEST_CASE("engine: a parameter's gradient adds up over two backward calls", "[ch14][engine]") {
  // Without zero_grad between them the second call finds the buffer and must add, not write.
  Tensor x = rnd({4, 6}, 51), w = rnd({5, 6}, 52), b = rnd({5}, 53);
  Tensor lw = rnd({5}, 54), lb = rnd({5}, 55);
  auto loss = [&] { return sum(layer_norm(linear(x, w, b), lw, lb) * rnd({4, 5}, 56).detach()); };
  loss().backward();
  std::vector<std::vector<float>> once;
  for (const Tensor& p : {x, w, b, lw, lb}) once.push_back(p.grad().to_vector());
  loss().backward();
  size_t k = 0;
  for (const Tensor& p : {x, w, b, lw, lb}) {
    const std::vector<float> twice = p.grad().to_vector(), first = once[k++];
    // (the LayerNorm's dw and db add row by row, so g + g only up to rounding)
    for (size_t i = 0; i < twice.size(); ++i) REQUIRE(twice[i] == Approx(2.f * first[i]));
  }
}

TEST_CASE("engine: leaf_done says when each leaf's gradient is final, once per leaf",
          "[ch02][engine]") {
  // w is read by two ops far apart in the graph, b by one near the loss, x by none that
  // needs its gradient (it does not require one).
  Tensor x = Tensor::from_vector({1.f, -2.f, 3.f}, {3});
  Tensor w = Tensor::from_vector({0.5f, 0.25f, -1.f}, {3}, true);
  Tensor b = Tensor::from_vector({2.f}, {1}, true);
  Tensor h = tanh(x * w);      // w's first reader: runs last in backward
  Tensor y = sum(h * w) + b;   // w's second reader, and b's
  Tensor loss = sum(y * y);
  std::vector<std::pair<std::string, std::vector<float>>> seen;  // name, .grad when called
  run_backward(loss, Tensor(), false, [&](const Tensor& leaf) {
    const std::string name = leaf.is_same(w) ? "w" : leaf.is_same(b) ? "b" : "other";
    seen.emplace_back(name, leaf.grad().defined() ? leaf.grad().to_vector() : std::vector<float>{});
  });
  REQUIRE(seen.size() == 2);  // w and b, once each; never x
  CHECK(seen[0].first == "b");  // b's only reader is near the loss: final first
  CHECK(seen[1].first == "w");
  // At the call, each gradient already had its final value.
  CHECK(seen[0].second == b.grad().to_vector());
  CHECK(seen[1].second == w.grad().to_vector());
}
