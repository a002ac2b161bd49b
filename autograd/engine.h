// The reverse-mode engine (chapter 02): graph nodes, recording, and backward().
//
// Every op that may need a gradient records a Node on its output: the op's name, its
// inputs, and a closure that, given dL/d(output), ADDS dL/d(input) into each input's
// gradient buffer. backward() visits the nodes in reverse topological order so that a
// node runs only after every consumer of its output has added its share.
//
// Ownership runs one way: an output owns its Node, a Node owns its inputs, never its
// output. So there are no reference cycles, and a graph dies when its last output does.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace qkv {

struct Node {
  std::string name;            // the op: "matmul", "softmax", …
  std::vector<Tensor> inputs;  // what the op read; gradients flow back to these
  // Given the gradient of the output, accumulate (+=) into inputs[i].grad_buffer(), or, for
  // the rules that carry the volume, write (=) into a new buffer when theirs is the first
  // contribution (grad_out in op_util.h, chapter 14): either way each input gets the sum.
  // A closure may capture inputs and detached tensors, never the output itself.
  std::function<void(const Tensor& grad_output)> backward;

  ~Node();  // unlinks long chains iteratively so freeing them cannot overflow the stack
};

// Gradient recording is on by default; NoGradGuard turns it off for its scope (inference,
// optimiser updates), like `with torch.no_grad():`.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when any input requires a gradient and recording is on: only then do ops record.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attach a Node to `output` if any input requires a gradient (and grad mode is on).
void record(Tensor& output, const char* name, std::vector<Tensor> inputs,
            std::function<void(const Tensor& grad_output)> backward);

// Does this input want a gradient? Backward closures skip the work for inputs that don't.
inline bool needs_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// The engine itself (Tensor::backward calls this). With leaf_done, it also calls
// leaf_done(leaf) for every leaf that requires a gradient as soon as that gradient is final:
// right after the last op that reads the leaf has run its backward (the leaf's .grad is
// undefined if no gradient reached it). Data parallelism (nn/data_parallel.cpp) adds each
// parameter's gradients across shards then, while the rest of the backward pass runs, as
// PyTorch's DistributedDataParallel does, instead of keeping every shard's to the end.
void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph,
                  const std::function<void(const Tensor& leaf)>& leaf_done = {});

// The nodes reachable from `root`, inputs before outputs (used by backward and by tools
// that print a graph).
std::vector<Tensor> topological_order(const Tensor& root);

}  // namespace qkv
