// The comparisons every check is made of (see checker.h).
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/tensor.h"

namespace qkv::exercises {

// A check that found a wrong answer; what() says where.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);

// Fixed-seed uniform values in [lo, hi); `grad` sets requires_grad.
Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f,
                     bool grad = false);
// Integer ids in [0, n) stored as floats.
Tensor random_ids(const Shape& shape, uint64_t seed, int64_t n);

// "[2, 0, 5]": the multi-index of flat element i of a tensor of `shape`.
std::string index_str(const Shape& shape, int64_t i);

struct Tolerance {
  double atol = 1e-5, rtol = 1e-4;
};

// `got` must have expected's shape and every element within atol + rtol·|expected|, with
// NaN never equal to anything. `what` names the value ("softmax_forward(x [3, 1, 7])").
void expect_close(const std::string& what, const Tensor& expected, const Tensor& got,
                  Tolerance tol = {});
void expect_close(const std::string& what, double expected, double got, Tolerance tol = {});

// The inputs of an op under test, named for the report; those with requires_grad are the
// ones whose gradient is checked.
struct Inputs {
  std::vector<std::string> names;
  std::vector<Tensor> values;
};

// Check a hand-written backward. `forward` is qkv's own op (autograd differentiates it);
// `backward` is the answer: given the inputs (detached) and dL/d(output), it returns one
// gradient per input (undefined for inputs that are not checked). First the shapes; then
// gradcheck of qkv's forward against the answer's backward (the worst element by central
// differences); then the answer against qkv's own backward at float tolerance.
using ForwardFn = std::function<Tensor(const std::vector<Tensor>&)>;
using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&, const Tensor&)>;
void expect_backward(const std::string& op, const Inputs& in, const ForwardFn& forward,
                     const BackwardFn& backward, GradcheckOptions gc = {},
                     Tolerance tol = {1e-5, 1e-3});

// Check a forward the answer builds from autograd ops (so autograd gives its gradient):
// its values against qkv's `reference`, then gradcheck of the answer itself, then its
// gradients against those of `reference`.
void expect_same_op(const std::string& op, const Inputs& in, const ForwardFn& reference,
                    const ForwardFn& answer, Tolerance tol = {}, GradcheckOptions gc = {});

}  // namespace qkv::exercises
