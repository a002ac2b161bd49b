#include "autograd/engine.h"

#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "autograd/kernels/elementwise.h"
#include "autograd/profiler.h"
#include "autograd/tensor_access.h"

namespace qkv {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(Tensor& output, const char* name, std::vector<Tensor> inputs,
            std::function<void(const Tensor& grad_output)> backward) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  TensorAccess::impl(output)->grad_fn = std::move(node);
  TensorAccess::impl(output)->requires_grad = true;
}

// Freeing a chain of 100,000 ops naively recurses: ~Node drops an input, whose ~TensorImpl
// drops its grad_fn, whose ~Node drops its input, … one stack frame set per op. Instead we
// steal the inputs of any node that is about to die into a local worklist, so each
// destructor only ever frees a node with no inputs left.
Node::~Node() {
  std::vector<Tensor> work = std::move(inputs);
  backward = nullptr;  // closures hold copies of inputs; the worklist now keeps them alive
  while (!work.empty()) {
    Tensor t = std::move(work.back());
    work.pop_back();
    TensorImpl* impl = TensorAccess::impl(t);
    // Only unlink when this handle is the last owner of the tensor and of its node:
    // otherwise someone else still uses that part of the graph.
    if (impl && TensorAccess::impl_ptr(t).use_count() == 1 && impl->grad_fn &&
        impl->grad_fn.use_count() == 1) {
      std::shared_ptr<Node> node = std::move(impl->grad_fn);
      for (auto& in : node->inputs) work.push_back(std::move(in));
      node->inputs.clear();
      node->backward = nullptr;
    }
  }
}

std::vector<Tensor> topological_order(const Tensor& root) {
  // Iterative depth-first search (a recursive one overflows the stack on a chain of
  // 100,000 ops): a tensor is emitted after all of its inputs, so the reversed list has
  // every tensor before the inputs it was computed from.
  std::vector<Tensor> order;
  std::unordered_set<TensorImpl*> visited;
  std::vector<std::pair<Tensor, size_t>> stack;  // (tensor, next input to visit)
  stack.emplace_back(root, 0);
  visited.insert(TensorAccess::impl(root));
  while (!stack.empty()) {
    Node* node = TensorAccess::impl(stack.back().first)->grad_fn.get();
    size_t& next = stack.back().second;
    if (node && next < node->inputs.size()) {
      const Tensor& child = node->inputs[next++];
      if (child.defined() && child.requires_grad() &&
          visited.insert(TensorAccess::impl(child)).second)
        stack.emplace_back(child, 0);
    } else {
      order.push_back(std::move(stack.back().first));
      stack.pop_back();
    }
  }
  return order;
}

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph,
                  const std::function<void(const Tensor& leaf)>& leaf_done) {
  if (!root.defined()) throw std::invalid_argument("backward: called on an undefined tensor");
  if (!root.requires_grad())
    throw std::invalid_argument("backward: tensor " + shape_str(root.shape()) +
                                " does not require grad and has no grad_fn");
  if (!grad_output.defined() && root.numel() != 1)
    throw std::invalid_argument("backward: output has shape " + shape_str(root.shape()) +
                                "; a non-scalar needs an explicit gradient argument");
  if (grad_output.defined() && grad_output.shape() != root.shape())
    throw std::invalid_argument("backward: gradient shape " + shape_str(grad_output.shape()) +
                                " does not match output shape " + shape_str(root.shape()));

  if (TensorAccess::impl(root)->graph_freed)
    throw std::logic_error(
        "backward: the graph of this tensor was already freed by an earlier backward(); "
        "pass retain_graph=true to the first call to run backward twice");
  // `order` holds a handle to every tensor in the graph, so none dies before its turn.
  std::vector<Tensor> order = topological_order(root);
  // A tensor computed by an op whose node an earlier backward() freed cannot pass gradient
  // on: refuse before anything is accumulated, rather than silently treat it as a leaf.
  for (const Tensor& t : order)
    if (TensorAccess::impl(t)->graph_freed)
      throw std::logic_error("backward: part of this graph (a tensor " + shape_str(t.shape()) +
                             ") was already freed by an earlier backward(); pass retain_graph=true "
                             "to the first call to run backward through it again");
  // A non-leaf that retains its gradient still holds the one from an earlier call. This call
  // must pass on only its own gradient, so set the old one aside and add it back afterwards.
  std::unordered_map<TensorImpl*, std::shared_ptr<TensorImpl>> earlier;
  for (const Tensor& t : order) {
    TensorImpl* impl = TensorAccess::impl(t);
    if (impl->grad_fn && impl->grad) earlier[impl] = std::move(impl->grad);
  }

  // For leaf_done: the leaves whose gradient is final once the node at order[i] has run, i.e.
  // whose last reader is order[i]. Backward runs the order from its end, so a leaf's last
  // reader is the one with the smallest index: the first to read it, counting up.
  std::vector<std::vector<Tensor>> final_after;
  if (leaf_done) {
    final_after.resize(order.size());
    std::unordered_set<TensorImpl*> seen;
    for (size_t i = 0; i < order.size(); ++i) {
      const Node* node = TensorAccess::impl(order[i])->grad_fn.get();
      if (!node) continue;
      for (const Tensor& in : node->inputs)
        if (in.defined() && in.requires_grad() && !TensorAccess::impl(in)->grad_fn &&
            seen.insert(TensorAccess::impl(in)).second)
          final_after[i].push_back(in);
    }
  }

  // Seed dL/dL = 1 (or the given gradient), accumulated like any other contribution.
  Tensor seed = root.grad_buffer();
  if (grad_output.defined())
    kernels::add_into(seed.data(), grad_output.data(), seed.numel());
  else
    seed.data()[0] += 1.0f;

  NoGradGuard no_grad;  // the backward pass itself is not recorded
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* impl = TensorAccess::impl(*it);
    if (!impl->grad_fn) continue;  // a leaf: its .grad is the answer
    if (impl->grad) {
      Tensor g(impl->grad);
      ProfileScope prof(impl->grad_fn->name.c_str(), /*backward=*/true);
      impl->grad_fn->backward(g);
    }
    if (leaf_done) {
      std::vector<Tensor>& done = final_after[static_cast<size_t>(order.rend() - it - 1)];
      for (const Tensor& leaf : done) leaf_done(leaf);
      done.clear();
    }
    // A non-leaf's gradient is scaffolding: free it unless the user asked to keep it.
    if (!impl->retains_grad) {
      impl->grad.reset();
    } else if (auto it = earlier.find(impl); it != earlier.end()) {
      Tensor old(it->second);
      if (impl->grad) kernels::add_into(old.data(), impl->grad->storage->data(), old.numel());
      impl->grad = it->second;
    }
    if (!retain_graph) {
      impl->grad_fn.reset();
      impl->graph_freed = true;
      // Let go of the tensor too: its consumers ran before it, so once its own node is gone
      // nothing here needs its values, and unless the caller holds it, it is freed now
      // instead of at the end of backward. Activations are then released while parameter
      // gradients are allocated (chapter 14: 140 MB less at the peak of the base model).
      *it = Tensor();
    }
  }
}

}  // namespace qkv
