// Drawing the graph behind a tensor (chapter 02): every op with its output shape, every
// leaf and whether it needs a gradient, and — once backward has run — the norm of the
// gradient sent back along each edge. Written as Graphviz DOT (`dot -Tsvg g.dot`) or as a
// self-contained SVG laid out here (layers by topological depth), so no Graphviz is needed.
//
//   Tensor loss = sum(matmul(x, w));
//   GraphWriter g(loss);            // before backward: backward frees the graph
//   g.name(x, "x"); g.name(w, "w");
//   loss.backward();                // the edges now carry ‖gradient‖
//   write(g.svg("loss = sum(x @ w)"));
//
// How the edge norms are measured: the constructor wraps each node's backward closure; the
// wrapper copies each input's gradient buffer before the original closure runs and takes
// the norm of what the closure added. Values and order of the backward pass are unchanged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace qkv {

class GraphWriter {
 public:
  // Walks every tensor `root` was computed from, inputs that need no gradient included.
  explicit GraphWriter(const Tensor& root);

  // Give a tensor of the graph a name to show ("x", "W_q", "scores"). Throws if it is not
  // in the graph.
  GraphWriter& name(const Tensor& t, const std::string& label);

  // Draw every op between `inputs` and `output` as one box called `label` (a module: "self-
  // attention"), with the leaves only those ops read (its parameters). Throws if `output`
  // is not an op of the graph or if two folds overlap.
  GraphWriter& fold(const Tensor& output, const std::vector<Tensor>& inputs,
                    const std::string& label);

  std::string dot() const;
  std::string svg(const std::string& title = "") const;

  // The drawn graph, after names and folds: what both writers print.
  struct Box {
    std::vector<std::string> lines;  // "matmul", "[2, 2]"
    enum Kind { kOp, kModule, kLeafGrad, kLeafConst } kind;
    bool root = false;
  };
  struct Arrow {
    int from = 0, to = 0;   // Box indices; `from` feeds `to`
    bool grad = false;      // the source needs a gradient
    bool measured = false;  // backward has sent a gradient along it
    double grad_norm = 0;
  };
  struct Drawing {
    std::vector<Box> boxes;  // inputs before outputs
    std::vector<Arrow> arrows;
  };
  Drawing drawing() const;

  struct State;  // what the wrapped backward closures write into (shared with them)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace qkv
