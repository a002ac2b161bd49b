// Chapter 02: reverse-mode autograd — the graph, the order it is walked in, the chain rule,
// why gradients accumulate, gradcheck, and a chain of 100,000 ops.
// Run: build/ch02_autograd   (docs/02-autograd.md shows and explains this output)
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/graph_writer.h"
#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "examples/cli.h"
#include "examples/plot/figure_file.h"

using namespace qkv;

static void heading(const char* title) {
  static bool first = true;
  std::printf("%s== %s ==\n", first ? "" : "\n", title);
  first = false;
}

// What backward() does, but visiting the nodes in the order we give it: seed dL/dL = 1,
// then hand each node the gradient its output has gathered *so far*.
static void backward_in_order(const Tensor& loss, const std::vector<Tensor>& order) {
  loss.grad_buffer().data()[0] = 1.f;
  NoGradGuard no_grad;
  for (const Tensor& t : order)
    if (t.grad_fn() && t.grad().defined()) t.grad_fn()->backward(t.grad());
}

// The chapter's first example drawn (docs/img/ch02_graph.svg): the graph, then the same
// graph after backward, each arrow labelled with the norm of the gradient it carried.
static int write_figures(const char* dir) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2}, true);
  Tensor w = Tensor::from_vector({0.5f, -1, 2, 0}, {2, 2}, true);
  Tensor y = matmul(x, w);
  Tensor loss = sum(y * y);
  GraphWriter g(loss);
  g.name(x, "x").name(w, "w").name(y, "y").name(loss, "loss");
  loss.backward();
  plot::write_figure(dir, "ch02_graph.svg", g.svg("loss = sum((x @ w) * (x @ w)), after backward"));
  return 0;
}

int run_chapter() {
  heading("a graph, and the order backward walks it");
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2}, true);
  Tensor w = Tensor::from_vector({0.5f, -1, 2, 0}, {2, 2}, true);
  Tensor y = matmul(x, w);
  Tensor z = y * y;
  Tensor loss = sum(z);
  std::printf("loss = sum((x @ w) * (x @ w)) = %g\n", loss.item());
  std::printf("topological order (inputs first):");
  for (const Tensor& t : topological_order(loss))
    std::printf(" %s", t.grad_fn() ? t.grad_fn()->name.c_str() : "leaf");
  std::printf("\nbackward visits them in reverse: sum, mul, matmul, then the leaves\n");
  loss.backward();
  std::cout << "dloss/dx =\n" << x.grad() << "\n";
  // By hand: dz = 1, dy = 2y, dx = dy·wᵀ, dw = xᵀ·dy.
  Tensor dy = mul(y.detach(), 2.f);
  std::cout << "by hand, 2y @ wT =\n" << matmul(dy, transpose(w.detach(), 0, 1)) << "\n";
  std::cout << "dloss/dw =\n" << w.grad() << "\n";
  std::cout << "by hand, xT @ 2y =\n" << matmul(transpose(x.detach(), 0, 1), dy) << "\n";

  heading("why a topological order: the diamond");
  // x → a = 2x → b = 3a → c = a + b. a feeds both b and c, so dc/da = 1 + 3 = 4 and
  // dc/dx = 2·4 = 8. A node may only pass its gradient on once all its consumers have run.
  Tensor s = Tensor::scalar(1.f, true);
  Tensor a = s * 2.f;
  Tensor b = a * 3.f;
  Tensor c = a + b;
  backward_in_order(c, {c, b, a});
  std::printf("right order (c, b, a): dc/dx = %g\n", s.grad().item());
  for (Tensor* t : {&s, &a, &b, &c}) t->zero_grad();
  backward_in_order(c, {c, a, b});
  std::printf("wrong order (c, a, b): dc/dx = %g   (a passed on 1 before b added its 3)\n",
              s.grad().item());
  for (Tensor* t : {&s, &a, &b, &c}) t->zero_grad();  // our manual runs left gradients behind
  c.backward();
  std::printf("c.backward():          dc/dx = %g\n", s.grad().item());

  heading("gradients accumulate (+=)");
  Tensor v = Tensor::from_vector({1, 2, 3}, {3}, true);
  sum(v * v).backward();
  std::cout << "d/dv sum(v*v) = 2v: " << v.grad() << "\n";
  v.zero_grad();
  sum(v + v).backward();
  std::cout << "d/dv sum(v+v) = 2:  " << v.grad() << "\n";

  heading("calling backward twice");
  v.zero_grad();
  Tensor l2 = sum(v * v);
  l2.backward(Tensor(), /*retain_graph=*/true);
  std::cout << "after 1st backward: " << v.grad() << "\n";
  l2.backward();
  std::cout << "after 2nd backward: " << v.grad() << "   (doubled: += again)\n";
  try {
    l2.backward();
  } catch (const std::logic_error& e) {
    std::printf("3rd backward throws: %s\n", e.what());
  }
  v.zero_grad();
  sum(v * v).backward();
  std::cout << "zero_grad, then a fresh backward: " << v.grad() << "\n";

  heading("gradcheck");
  Generator gen(7);
  Tensor p = Tensor::uniform({3, 4}, gen, -1.f, 1.f, true);
  Tensor q = Tensor::uniform({4, 2}, gen, -1.f, 1.f, true);
  GradcheckResult ok =
      gradcheck([](const std::vector<Tensor>& in) { return sum(matmul(in[0], in[1]), 1); }, {p, q});
  // (Which element is "worst" among errors this small is rounding noise, so we don't print it.)
  std::printf("matmul then sum: %s, all %lld elements of both inputs within tolerance\n",
              ok.ok ? "passed" : "FAILED", static_cast<long long>(p.numel() + q.numel()));
  // A deliberately wrong op: y = x², with a backward that forgot the factor 2.
  auto buggy_square = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    Tensor out = Tensor::empty(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = x.data()[i] * x.data()[i];
    record(out, "buggy_square", {x}, [x](const Tensor& g) {
      float* dx = x.grad_buffer().data();
      for (int64_t i = 0; i < x.numel(); ++i) dx[i] += g.data()[i] * x.data()[i];  // should be 2x
    });
    return out;
  };
  GradcheckResult bad = gradcheck(buggy_square, {p});
  std::printf("buggy_square: %s\n", bad.ok ? "passed" : "FAILED");
  std::printf("  worst element: input %d, index %lld, analytic %.4f, numeric %.4f\n", bad.input,
              static_cast<long long>(bad.index), bad.analytic, bad.numeric);
  std::printf("  its error is %.0f times the tolerance atol + rtol*|numeric|\n", bad.worst_ratio);

  heading("a chain of 100,000 ops");
  const int64_t before = TensorImpl::live_count();
  {
    Tensor r = Tensor::scalar(1.f, true);
    Tensor h = r;
    for (int i = 0; i < 100000; ++i) h = h * 1.00001f;
    std::printf("h = 1.00001^100000 = %.4f, tensors alive: %lld more than before\n", h.item(),
                static_cast<long long>(TensorImpl::live_count() - before));
    h.backward();
    std::printf("dh/dr = %.4f, tensors alive after backward: %lld more than before\n",
                r.grad().item(), static_cast<long long>(TensorImpl::live_count() - before));
  }
  std::printf("after the handles go out of scope: %lld more than before\n",
              static_cast<long long>(TensorImpl::live_count() - before));
  {
    Tensor r = Tensor::scalar(1.f, true);
    Tensor h = r;
    for (int i = 0; i < 100000; ++i) h = h + 1.f;
  }
  std::printf("a chain dropped without backward: %lld more than before\n",
              static_cast<long long>(TensorImpl::live_count() - before));
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(argc, argv, "ch02_autograd",
                                "Chapter 02: reverse-mode autograd: the graph, the order it is "
                                "walked in, the chain rule, gradcheck.",
                                run_chapter, write_figures);
}
