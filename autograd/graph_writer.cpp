#include "autograd/graph_writer.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "autograd/engine.h"
#include "autograd/tensor_access.h"

namespace qkv {

struct GraphWriter::State {
  struct Vertex {
    Tensor t;
    std::string op;    // the op that made it ("matmul"), empty for a leaf; kept because
                       // backward frees the nodes
    std::string name;  // given by the caller, or empty
    int group = -1;    // the fold it is drawn in, or -1
  };
  struct Edge {
    int from = 0, to = 0;      // vertex indices: `from` is an input of the op that made `to`
    bool measured = false;     // a backward pass has sent a gradient along it
    std::vector<double> sent;  // what it sent (summed over backward passes)
  };
  struct Group {
    std::string label;
    int output = 0;  // the vertex whose shape the box shows
    int ops = 0;
  };
  std::vector<Vertex> vertices;  // inputs before outputs
  std::vector<Edge> edges;       // by consumer, then by input position
  std::vector<Group> groups;
  std::unordered_map<TensorImpl*, int> index;

  int find(const Tensor& t, const char* what) const {
    auto it = t.defined() ? index.find(TensorAccess::impl(t)) : index.end();
    if (it == index.end())
      throw std::invalid_argument(std::string("GraphWriter::") + what + ": the tensor " +
                                  (t.defined() ? shape_str(t.shape()) : "(undefined)") +
                                  " is not in the graph");
    return it->second;
  }
};

namespace {

// The wrapped backward of one node: run the original, then record what it added to the
// gradient buffer of each input (after minus before).
void measure(GraphWriter::State& st, const std::vector<int>& edges,
             const std::function<void(const Tensor&)>& original, const Tensor& grad_output) {
  std::vector<std::vector<float>> before(edges.size());
  for (size_t k = 0; k < edges.size(); ++k) {
    const Tensor& in = st.vertices[st.edges[edges[k]].from].t;
    if (in.requires_grad() && TensorAccess::impl(in)->grad)
      before[k] = Tensor(TensorAccess::impl(in)->grad).to_vector();
  }
  original(grad_output);
  for (size_t k = 0; k < edges.size(); ++k) {
    auto& e = st.edges[edges[k]];
    const Tensor& in = st.vertices[e.from].t;
    if (!in.requires_grad() || !TensorAccess::impl(in)->grad) continue;
    const float* after = TensorAccess::impl(in)->grad->storage->data();
    const size_t n = static_cast<size_t>(in.numel());
    e.sent.resize(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      e.sent[i] += static_cast<double>(after[i]) - (before[k].empty() ? 0.0 : before[k][i]);
    e.measured = true;
  }
}

std::string format_norm(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string dot_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

GraphWriter::GraphWriter(const Tensor& root) : state_(std::make_shared<State>()) {
  if (!root.defined()) throw std::invalid_argument("GraphWriter: the root tensor is undefined");
  State& st = *state_;
  // Iterative depth-first search, inputs before outputs (as topological_order, but
  // following inputs that need no gradient too, so that they can be drawn).
  std::vector<std::pair<Tensor, size_t>> stack{{root, 0}};
  std::unordered_map<TensorImpl*, bool> seen{{TensorAccess::impl(root), true}};
  while (!stack.empty()) {
    Node* node = TensorAccess::impl(stack.back().first)->grad_fn.get();
    size_t& next = stack.back().second;
    if (node && next < node->inputs.size()) {
      const Tensor& child = node->inputs[next++];
      if (child.defined() && seen.emplace(TensorAccess::impl(child), true).second)
        stack.emplace_back(child, 0);
    } else {
      st.index[TensorAccess::impl(stack.back().first)] = static_cast<int>(st.vertices.size());
      const Tensor& t = stack.back().first;
      st.vertices.push_back({t, t.grad_fn() ? t.grad_fn()->name : "", "", -1});
      stack.pop_back();
    }
  }
  // One edge per distinct input of each op (x * x reads x once as far as the drawing goes),
  // and each node's backward wrapped to measure what it sends along its edges. The wrapper
  // holds the state weakly: the state holds the tensors, which hold the nodes.
  std::weak_ptr<State> weak = state_;
  for (size_t v = 0; v < st.vertices.size(); ++v) {
    const std::shared_ptr<Node>& node = TensorAccess::impl(st.vertices[v].t)->grad_fn;
    if (!node) continue;
    std::vector<int> edges;
    for (const Tensor& in : node->inputs) {
      if (!in.defined()) continue;
      const int from = st.index.at(TensorAccess::impl(in));
      bool repeated = false;
      for (int e : edges) repeated = repeated || st.edges[e].from == from;
      if (repeated) continue;
      edges.push_back(static_cast<int>(st.edges.size()));
      st.edges.push_back({from, static_cast<int>(v), false, {}});
    }
    auto original = std::move(node->backward);
    node->backward = [original, edges, weak](const Tensor& grad_output) {
      if (auto st = weak.lock())
        measure(*st, edges, original, grad_output);
      else
        original(grad_output);
    };
  }
}

GraphWriter& GraphWriter::name(const Tensor& t, const std::string& label) {
  state_->vertices[state_->find(t, "name")].name = label;
  return *this;
}

GraphWriter& GraphWriter::fold(const Tensor& output, const std::vector<Tensor>& inputs,
                               const std::string& label) {
  State& st = *state_;
  const int out = st.find(output, "fold");
  if (st.vertices[out].op.empty())
    throw std::invalid_argument("GraphWriter::fold: the output of \"" + label +
                                "\" is a leaf, not an op");
  std::vector<bool> boundary(st.vertices.size(), false), member(st.vertices.size(), false);
  for (const Tensor& t : inputs) boundary[st.find(t, "fold")] = true;
  // The ops: everything `output` was computed from, stopping at the inputs and the leaves.
  std::vector<std::vector<int>> inputs_of(st.vertices.size()), consumers(st.vertices.size());
  for (const auto& e : st.edges) {
    inputs_of[e.to].push_back(e.from);
    consumers[e.from].push_back(e.to);
  }
  std::vector<int> work{out};
  member[out] = true;
  while (!work.empty()) {
    const int v = work.back();
    work.pop_back();
    for (int u : inputs_of[v])
      if (!member[u] && !boundary[u] && !st.vertices[u].op.empty()) {
        member[u] = true;
        work.push_back(u);
      }
  }
  int ops = 0;
  for (size_t v = 0; v < member.size(); ++v) ops += member[v] ? 1 : 0;
  // The leaves: those read only by these ops (the module's parameters).
  for (size_t u = 0; u < st.vertices.size(); ++u) {
    if (boundary[u] || !st.vertices[u].op.empty() || consumers[u].empty()) continue;
    bool only_here = true;
    for (int c : consumers[u]) only_here = only_here && member[c];
    member[u] = only_here;
  }
  const int g = static_cast<int>(st.groups.size());
  for (size_t v = 0; v < member.size(); ++v) {
    if (!member[v]) continue;
    if (st.vertices[v].group >= 0)
      throw std::invalid_argument("GraphWriter::fold: \"" + label + "\" overlaps \"" +
                                  st.groups[st.vertices[v].group].label + "\"");
    st.vertices[v].group = g;
  }
  st.groups.push_back({label, out, ops});
  return *this;
}

GraphWriter::Drawing GraphWriter::drawing() const {
  const State& st = *state_;
  Drawing d;
  std::vector<int> box_of(st.vertices.size(), -1), box_of_group(st.groups.size(), -1);
  // A fold's box takes the place of its output, which comes after everything it read.
  for (size_t v = 0; v < st.vertices.size(); ++v) {
    const auto& x = st.vertices[v];
    const int g = x.group;
    if (g >= 0 && st.groups[g].output != static_cast<int>(v)) continue;
    Box b;
    const std::string shape = shape_str(x.t.shape());
    if (g >= 0) {
      b.kind = Box::kModule;
      b.lines = {st.groups[g].label, shape,
                 std::to_string(st.groups[g].ops) + (st.groups[g].ops == 1 ? " op" : " ops")};
      box_of_group[g] = static_cast<int>(d.boxes.size());
    } else if (!x.op.empty()) {
      b.kind = Box::kOp;
      b.lines = {x.name.empty() ? x.op : x.name + " = " + x.op, shape};
    } else {
      b.kind = x.t.requires_grad() ? Box::kLeafGrad : Box::kLeafConst;
      b.lines = {x.name.empty() ? (x.t.requires_grad() ? "leaf" : "constant") : x.name, shape};
    }
    b.root = v + 1 == st.vertices.size();
    d.boxes.push_back(b);
    box_of[v] = static_cast<int>(d.boxes.size()) - 1;
  }
  for (size_t v = 0; v < st.vertices.size(); ++v)
    if (st.vertices[v].group >= 0) box_of[v] = box_of_group[st.vertices[v].group];
  // One arrow per (source tensor, consumer box): the gradients a fold sends to one input
  // along several internal edges add up, as they do in the input's .grad.
  std::map<std::pair<int, int>, size_t> arrow_of;
  std::vector<std::vector<double>> sums;
  for (const auto& e : st.edges) {
    const int from = box_of[e.from], to = box_of[e.to];
    if (from == to) continue;
    auto [it, fresh] = arrow_of.emplace(std::make_pair(e.from, to), d.arrows.size());
    if (fresh) {
      Arrow a;
      a.from = from;
      a.to = to;
      a.grad = st.vertices[e.from].t.requires_grad();
      d.arrows.push_back(a);
      sums.emplace_back();
    }
    if (!e.measured) continue;
    Arrow& a = d.arrows[it->second];
    std::vector<double>& s = sums[it->second];
    s.resize(e.sent.size(), 0.0);
    for (size_t i = 0; i < s.size(); ++i) s[i] += e.sent[i];
    a.measured = true;
  }
  for (size_t i = 0; i < d.arrows.size(); ++i) {
    double sq = 0;
    for (double x : sums[i]) sq += x * x;
    d.arrows[i].grad_norm = std::sqrt(sq);
  }
  return d;
}

std::string GraphWriter::dot() const {
  const Drawing d = drawing();
  std::string o =
      "digraph qkv {\n"
      "  node [shape=box, fontname=\"monospace\", fontsize=11];\n"
      "  edge [fontname=\"monospace\", fontsize=10];\n";
  for (size_t i = 0; i < d.boxes.size(); ++i) {
    const Box& b = d.boxes[i];
    std::string label;
    for (const auto& l : b.lines) label += (label.empty() ? "" : "\\n") + dot_escape(l);
    o += "  b" + std::to_string(i) + " [label=\"" + label + "\"";
    if (b.kind == Box::kLeafGrad) o += ", style=filled, fillcolor=\"#ffe9a8\"";
    if (b.kind == Box::kLeafConst) o += ", style=dashed, fontcolor=\"#666666\"";
    if (b.kind == Box::kModule) o += ", style=\"filled,bold\", fillcolor=\"#dbe8f6\"";
    if (b.root) o += ", peripheries=2";
    o += "];\n";
  }
  for (const Arrow& a : d.arrows) {
    o += "  b" + std::to_string(a.from) + " -> b" + std::to_string(a.to);
    if (!a.grad)
      o += " [style=dashed, color=\"#999999\"]";
    else if (a.measured)
      o += " [label=\" |g| " + format_norm(a.grad_norm) + "\"]";
    o += ";\n";
  }
  return o + "}\n";
}

}  // namespace qkv
