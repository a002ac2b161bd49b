// The graph writer (autograd/graph_writer.h, chapter 02): the DOT text of a small graph
// checked exactly, the gradient on each arrow against the engine's own .grad, folds, and
// the SVG well formed and the same bytes every time.
#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/engine.h"
#include "autograd/graph_writer.h"
#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "tests/catch.h"
#include "tests/svg_check.h"

using namespace qkv;

namespace {

double norm(const Tensor& t) {
  double s = 0;
  for (float v : t.to_vector()) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

// out = sum((x @ w) * c): x and w need gradients, c is a constant.
struct Small {
  Tensor x = Tensor::from_vector({1, 0, 0, 1}, {2, 2}, true);
  Tensor w = Tensor::from_vector({1, 2, 3, 4}, {2, 2}, true);
  Tensor c = Tensor::from_vector({1, -1, 2, 0.5f}, {2, 2});
  Tensor h = matmul(x, w);
  Tensor out = sum(h * c);
};

}  // namespace

TEST_CASE("graph writer: the DOT text of a small graph, before and after backward",
          "[ch02][graph]") {
  Small s;
  GraphWriter g(s.out);
  g.name(s.x, "x").name(s.w, "w").name(s.c, "c").name(s.h, "h");
  const std::string head =
      "digraph qkv {\n"
      "  node [shape=box, fontname=\"monospace\", fontsize=11];\n"
      "  edge [fontname=\"monospace\", fontsize=10];\n"
      "  b0 [label=\"x\\n[2, 2]\", style=filled, fillcolor=\"#ffe9a8\"];\n"
      "  b1 [label=\"w\\n[2, 2]\", style=filled, fillcolor=\"#ffe9a8\"];\n"
      "  b2 [label=\"h = matmul\\n[2, 2]\"];\n"
      "  b3 [label=\"c\\n[2, 2]\", style=dashed, fontcolor=\"#666666\"];\n"
      "  b4 [label=\"mul\\n[2, 2]\"];\n"
      "  b5 [label=\"sum\\n[]\", peripheries=2];\n";
  CHECK(g.dot() == head +
                       "  b0 -> b2;\n"
                       "  b1 -> b2;\n"
                       "  b2 -> b4;\n"
                       "  b3 -> b4 [style=dashed, color=\"#999999\"];\n"
                       "  b4 -> b5;\n"
                       "}\n");
  s.out.backward();
  // By hand: d out/d mul = ones (norm 2); d/dh = c (norm √6.25 = 2.5);
  // d/dx = c·wᵀ = [[-1, -1], [3, 8]] (norm √75 = 8.66); d/dw = xᵀ·c = c (norm 2.5).
  CHECK(g.dot() == head +
                       "  b0 -> b2 [label=\" |g| 8.66\"];\n"
                       "  b1 -> b2 [label=\" |g| 2.5\"];\n"
                       "  b2 -> b4 [label=\" |g| 2.5\"];\n"
                       "  b3 -> b4 [style=dashed, color=\"#999999\"];\n"
                       "  b4 -> b5 [label=\" |g| 2\"];\n"
                       "}\n");
  const auto d = g.drawing();
  REQUIRE(d.arrows.size() == 5);
  CHECK(d.arrows[0].grad_norm == Approx(norm(s.x.grad())).epsilon(1e-6));
  CHECK(d.arrows[1].grad_norm == Approx(norm(s.w.grad())).epsilon(1e-6));
  CHECK(d.arrows[3].measured == false);
}

TEST_CASE("graph writer: watching backward changes no gradient", "[ch02][graph]") {
  Small plain, watched;
  plain.out.backward();
  GraphWriter g(watched.out);
  watched.out.backward();
  CHECK(plain.x.grad().to_vector() == watched.x.grad().to_vector());
  CHECK(plain.w.grad().to_vector() == watched.w.grad().to_vector());
}

TEST_CASE("graph writer: a tensor read by two ops gets one arrow per op, each with its share",
          "[ch02][graph]") {
  // a feeds b = 3a and c = a + b: backward sends 1 to a from the add, 3 from the mul.
  Tensor x = Tensor::scalar(1.f, true);
  Tensor a = x * 2.f;
  Tensor b = a * 3.f;
  Tensor c = a + b;
  GraphWriter g(c);
  c.backward();
  const auto d = g.drawing();
  // boxes: x, a = mul, b = mul, c = add
  REQUIRE(d.boxes.size() == 4);
  double to_b = -1, to_c = -1;
  for (const auto& arrow : d.arrows)
    if (arrow.from == 1) (arrow.to == 2 ? to_b : to_c) = arrow.grad_norm;
  CHECK(to_b == 3.0);
  CHECK(to_c == 1.0);
  CHECK(x.grad().item() == 8.f);
}

TEST_CASE("graph writer: a fold draws a module as one box and sums what it sends back",
          "[ch02][graph]") {
  Small s;
  GraphWriter g(s.out);
  // The "module" h * c, then sum, read x·w: fold everything after h.
  g.fold(s.out, {s.h}, "head");
  s.out.backward();
  const auto d = g.drawing();
  REQUIRE(d.boxes.size() == 4);  // x, w, h, the fold (c is read only inside it)
  CHECK(d.boxes[3].kind == GraphWriter::Box::kModule);
  CHECK(d.boxes[3].lines == std::vector<std::string>{"head", "[]", "2 ops"});
  REQUIRE(d.arrows.size() == 3);
  CHECK(d.arrows[2].from == 2);
  CHECK(d.arrows[2].grad_norm == Approx(2.5));
  CHECK_THROWS_WITH(g.fold(s.out, {}, "again"), Catch::Contains("overlaps \"head\""));
  CHECK_THROWS_WITH(g.fold(s.x, {}, "leaf"), Catch::Contains("is a leaf"));
  CHECK_THROWS_WITH(g.name(Tensor::zeros({3}), "z"), Catch::Contains("[3] is not in the graph"));
}

TEST_CASE("graph writer: the SVG is well formed, the same bytes every time, and holds no cycle",
          "[ch02][graph]") {
  const int64_t baseline = TensorImpl::live_count();
  std::string first;
  for (int run = 0; run < 2; ++run) {
    Small s;
    GraphWriter g(s.out);
    g.name(s.x, "x <in> & \"out\"");  // escaped in both writers
    s.out.backward();
    const std::string svg = g.svg("sum((x @ w) * c)");
    CHECK(qkv::test::svg_problem(svg) == "");
    CHECK(svg.find("x &lt;in&gt; &amp; \"out\"") != std::string::npos);
    CHECK(g.dot().find("x <in> & \\\"out\\\"") != std::string::npos);
    if (run == 0) first = svg;
    CHECK(svg == first);
  }
  // The wrapped closures hold the writer's state weakly: everything is freed.
  CHECK(TensorImpl::live_count() == baseline);
  CHECK(qkv::test::svg_problem("<svg><g></svg>") != "");
  CHECK(qkv::test::svg_problem("<svg><text>a < b</text></svg>") != "");
  CHECK(qkv::test::svg_problem("<svg x=1/>") != "");
}
