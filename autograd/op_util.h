// Small helpers shared by the op files (not part of the public API).
#pragma once

#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/tensor.h"

namespace qkv {

// Where a backward rule puts one input's gradient (chapter 14). data is nullptr when the
// input needs none. A tensor used twice receives the sum of both contributions, but the first
// one need not be added to zeros: add == false means the buffer is new and uninitialised, so
// the rule must write every element (`=` instead of `+=`, GEMM beta = 0, a copy instead of an
// add); add == true means an earlier consumer left its share there and the rule adds. Ask
// before a parallel region opens, never inside it.
struct GradOut {
  float* data = nullptr;
  bool add = true;
};

// `others` are the rule's other inputs. If `t` is one of them too (add(x, x), linear(w, w)),
// two writes of one rule could not tell which is first: t gets the zero-filled buffer and
// both add, as every rule did before. Rules that write with `+=` only call grad_buffer().
inline GradOut grad_out(const Tensor& t, std::initializer_list<Tensor> others = {}) {
  if (!needs_grad(t)) return {};
  for (const Tensor& o : others)
    if (o.defined() && o.is_same(t)) return {t.grad_buffer().data(), true};
  bool fresh = false;
  float* data = t.grad_buffer_for_write(&fresh).data();
  return {data, !fresh};
}

// input.grad += scale · g   (g already has input's shape), or input.grad = scale · g when
// it is the first contribution: a tensor used twice receives the sum of both.
inline void accumulate_grad(const Tensor& input, const Tensor& g, float scale = 1.f) {
  const GradOut d = grad_out(input);
  if (!d.data) return;
  if (scale == 1.f)
    kernels::write_or_add(d.data, g.data(), g.numel(), d.add);
  else
    kernels::write_or_axpy(d.data, scale, g.data(), g.numel(), d.add);
}

// The backward of y = x·Wᵀ + b from dy [rows, out]: dx += dy·W, dW += dyᵀ·x, db += Σ_rows dy
// (ch04; each written instead, GEMM beta = 0, when its buffer is new: grad_out), the three in
// one parallel region (chapter 14: a region per product woke the other thread three times),
// each thread on its share of each, or, two threads on small products, one product each. Inputs
// that need no gradient are skipped; bias may be undefined. `before(t, threads)`, if given, runs
// first in the region, each thread on its share, followed by a barrier: linear_relu_dropout
// computes dy there.
void linear_backward(const float* dy, const Tensor& x, const Tensor& weight, const Tensor& bias,
                     int64_t rows, const std::function<void(int t, int threads)>& before = {});

// Row-major strides of a contiguous tensor of shape s.
std::vector<int64_t> contiguous_strides(const Shape& s);
// Strides of `in` walked in the index space of `out`: 0 where `in` broadcasts.
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// "op: message [shapes]": every op error names the op and the shapes at fault.
[[noreturn]] inline void op_error(const char* op, const std::string& message) {
  throw std::invalid_argument(std::string(op) + ": " + message);
}

inline void require_defined(const Tensor& t, const char* op, const char* what) {
  if (!t.defined()) op_error(op, std::string(what) + " is an undefined tensor");
}

}  // namespace qkv
