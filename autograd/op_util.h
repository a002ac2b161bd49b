// Small helpers shared by the op files (not part of the public API).
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/kernels/elementwise.h"
#include "autograd/tensor.h"

namespace qkv {

// input.grad += scale · g   (g already has input's shape). Backward rules accumulate,
// never assign: a tensor used twice receives the sum of both contributions.
inline void accumulate_grad(const Tensor& input, const Tensor& g, float scale = 1.f) {
  if (!input.requires_grad()) return;
  Tensor buf = input.grad_buffer();
  if (scale == 1.f)
    kernels::add_into(buf.data(), g.data(), buf.numel());
  else
    kernels::axpy(buf.data(), scale, g.data(), buf.numel());
}

// The backward of y = x·Wᵀ + b from dy [rows, out]: dx += dy·W, dW += dyᵀ·x, db += Σ_rows dy
// (ch04), the three in one parallel region, each thread on its share of each (chapter 14: a
// region per product woke the other thread three times). Inputs that need no gradient are
// skipped; bias may be undefined. `before(t, threads)`, if given, runs first in the region,
// each thread on its share, followed by a barrier: linear_relu_dropout computes dy there.
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
