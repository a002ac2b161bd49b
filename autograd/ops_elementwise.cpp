// Element-wise ops with broadcasting, each forward followed by its backward (chapter 02).
#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/kernels/bias_act.h"
#include "autograd/kernels/broadcast.h"
#include "autograd/kernels/elementwise.h"
#include "autograd/kernels/reduce.h"
#include "autograd/op_util.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"

namespace qkv {

// --- broadcasting ----------------------------------------------------------------------

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right: missing leading dimensions count as 1.
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " +
                                  shape_str(b) + " cannot broadcast (dimension " +
                                  std::to_string(i) + ": " + std::to_string(da) + " vs " +
                                  std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> contiguous_strides(const Shape& s) {
  std::vector<int64_t> strides(s.size(), 1);
  for (int64_t d = static_cast<int64_t>(s.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * s[d + 1];
  return strides;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    const size_t i_in = in.size() - 1 - k, i_out = out.size() - 1 - k;
    strides[i_out] = in[i_in] == 1 ? 0 : stride;
    stride *= in[i_in];
  }
  return strides;
}

template <class F>
static Tensor broadcast_raw(const Tensor& a, const Tensor& b, const char* op, F f) {
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), op));
  if (a.shape() == b.shape()) {
    kernels::map2(out.data(), a.data(), b.data(), out.numel(), f);
  } else {
    kernels::broadcast_map2(out.data(), out.shape(), a.data(),
                            broadcast_strides(a.shape(), out.shape()), b.data(),
                            broadcast_strides(b.shape(), out.shape()), f);
  }
  return out;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const Shape& g = grad.shape();
  if (shape.size() > g.size())
    throw std::invalid_argument("sum_to: cannot reduce " + shape_str(g) + " to " +
                                shape_str(shape));
  const size_t lead = g.size() - shape.size();
  // Sum over every axis where the target has size 1 (or does not exist), left to right.
  Tensor cur = grad;
  Shape cur_shape = g;
  for (size_t i = 0; i < g.size(); ++i) {
    const int64_t target = i < lead ? 1 : shape[i - lead];
    if (target == cur_shape[i]) continue;
    if (target != 1)
      throw std::invalid_argument("sum_to: cannot reduce " + shape_str(g) + " to " +
                                  shape_str(shape));
    int64_t outer = 1, inner = 1;
    for (size_t d = 0; d < i; ++d) outer *= cur_shape[d];
    for (size_t d = i + 1; d < cur_shape.size(); ++d) inner *= cur_shape[d];
    const int64_t n = cur_shape[i];
    cur_shape[i] = 1;
    Tensor next = Tensor::empty(cur_shape);
    kernels::sum_axis(next.data(), cur.data(), outer, n, inner);
    cur = next;
  }
  Tensor out = Tensor::empty(shape);
  std::copy(cur.data(), cur.data() + out.numel(), out.data());
  return out;
}

// --- binary ops ------------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b) {
  ProfileScope prof("add");
  Tensor out = broadcast_raw(a, b, "add", [](float x, float y) { return x + y; });
  // c = a + b  ⇒  da = dc, db = dc (summed over broadcast dimensions)   (ch02)
  record(out, "add", {a, b}, [a, b](const Tensor& g) {
    if (needs_grad(a) && needs_grad(b) && a.shape() == g.shape() && b.shape() == g.shape()) {
      // a residual connection's add: both in one pass (chapter 14), each written if new
      const GradOut da = grad_out(a, {b}), db = grad_out(b, {a});
      kernels::add_into2(da.data, db.data, g.data(), g.numel(), da.add, db.add);
      return;
    }
    if (needs_grad(a)) accumulate_grad(a, sum_to(g, a.shape()));
    if (needs_grad(b)) accumulate_grad(b, sum_to(g, b.shape()));
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  ProfileScope prof("sub");
  Tensor out = broadcast_raw(a, b, "sub", [](float x, float y) { return x - y; });
  // c = a − b  ⇒  da = dc, db = −dc   (ch02)
  record(out, "sub", {a, b}, [a, b](const Tensor& g) {
    if (needs_grad(a)) accumulate_grad(a, sum_to(g, a.shape()));
    if (needs_grad(b)) accumulate_grad(b, sum_to(g, b.shape()), -1.f);
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  ProfileScope prof("mul");
  Tensor out = broadcast_raw(a, b, "mul", [](float x, float y) { return x * y; });
  // c = a·b  ⇒  da = dc·b, db = dc·a   (ch02)
  record(out, "mul", {a, b}, [a, b](const Tensor& g) {
    auto times = [](float x, float y) { return x * y; };
    if (needs_grad(a)) accumulate_grad(a, sum_to(broadcast_raw(g, b, "mul", times), a.shape()));
    if (needs_grad(b)) accumulate_grad(b, sum_to(broadcast_raw(g, a, "mul", times), b.shape()));
  });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  ProfileScope prof("div");
  Tensor out = broadcast_raw(a, b, "div", [](float x, float y) { return x / y; });
  // c = a / b  ⇒  da = dc / b, db = −dc·a / b² = −dc·c / b   (ch02)
  Tensor c = out.detach();
  record(out, "div", {a, b}, [a, b, c](const Tensor& g) {
    if (needs_grad(a))
      accumulate_grad(
          a, sum_to(broadcast_raw(g, b, "div", [](float x, float y) { return x / y; }), a.shape()));
    if (needs_grad(b)) {
      Tensor gc = broadcast_raw(g, c, "div", [](float x, float y) { return x * y; });
      accumulate_grad(
          b,
          sum_to(broadcast_raw(gc, b, "div", [](float x, float y) { return -x / y; }), b.shape()));
    }
  });
  return out;
}

// --- scalar ops ------------------------------------------------------------------------

Tensor add(const Tensor& a, float s) {
  ProfileScope prof("add_scalar");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [s](float x) { return x + s; });
  // c = a + s  ⇒  da = dc   (ch02)
  record(out, "add_scalar", {a}, [a](const Tensor& g) { accumulate_grad(a, g); });
  return out;
}

Tensor mul(const Tensor& a, float s) {
  ProfileScope prof("mul_scalar");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [s](float x) { return x * s; });
  // c = s·a  ⇒  da = s·dc   (ch02)
  record(out, "mul_scalar", {a}, [a, s](const Tensor& g) { accumulate_grad(a, g, s); });
  return out;
}

Tensor neg(const Tensor& a) {
  ProfileScope prof("neg");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [](float x) { return -x; });
  // c = −a  ⇒  da = −dc   (ch02)
  record(out, "neg", {a}, [a](const Tensor& g) { accumulate_grad(a, g, -1.f); });
  return out;
}

// --- unary maps ------------------------------------------------------------------------
// Each backward is da += dc · f'(·), written with whichever of the input x or the output y
// makes f' cheapest: exp' = y, tanh' = 1 − y², sigmoid' = y(1 − y).

Tensor pow(const Tensor& a, float p) {
  ProfileScope prof("pow");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [p](float x) { return std::pow(x, p); });
  // y = xᵖ  ⇒  dx = dy · p·xᵖ⁻¹   (ch02)
  record(out, "pow", {a}, [a, p](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), a.data(), a.numel(),
                         [p](float dy, float x) { return dy * p * std::pow(x, p - 1.f); });
  });
  return out;
}

Tensor exp(const Tensor& a) {
  ProfileScope prof("exp");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [](float x) { return std::exp(x); });
  // y = eˣ  ⇒  dx = dy · y   (ch02)
  Tensor y = out.detach();
  record(out, "exp", {a}, [a, y](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), y.data(), a.numel(),
                         [](float dy, float yv) { return dy * yv; });
  });
  return out;
}

Tensor log(const Tensor& a) {
  ProfileScope prof("log");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [](float x) { return std::log(x); });
  // y = ln x  ⇒  dx = dy / x   (ch02)
  record(out, "log", {a}, [a](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), a.data(), a.numel(),
                         [](float dy, float x) { return dy / x; });
  });
  return out;
}

Tensor sqrt(const Tensor& a) {
  ProfileScope prof("sqrt");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [](float x) { return std::sqrt(x); });
  // y = √x  ⇒  dx = dy / (2y)   (ch02)
  Tensor y = out.detach();
  record(out, "sqrt", {a}, [a, y](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), y.data(), a.numel(),
                         [](float dy, float yv) { return dy / (2.f * yv); });
  });
  return out;
}

Tensor tanh(const Tensor& a) {
  ProfileScope prof("tanh");
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(), [](float x) { return std::tanh(x); });
  // y = tanh x  ⇒  dx = dy · (1 − y²)   (ch02)
  Tensor y = out.detach();
  record(out, "tanh", {a}, [a, y](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), y.data(), a.numel(),
                         [](float dy, float yv) { return dy * (1.f - yv * yv); });
  });
  return out;
}

Tensor sigmoid(const Tensor& a) {
  ProfileScope prof("sigmoid");
  Tensor out = Tensor::empty(a.shape());
  // Two branches so that exp never overflows: σ(x) = 1/(1+e⁻ˣ) = eˣ/(1+eˣ).
  kernels::map(out.data(), a.data(), a.numel(), [](float x) {
    if (x >= 0) return 1.f / (1.f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.f + e);
  });
  // y = σ(x)  ⇒  dx = dy · y(1 − y)   (ch02)
  Tensor y = out.detach();
  record(out, "sigmoid", {a}, [a, y](const Tensor& g) {
    kernels::accumulate2(a.grad_buffer().data(), g.data(), y.data(), a.numel(),
                         [](float dy, float yv) { return dy * yv * (1.f - yv); });
  });
  return out;
}

Tensor relu(const Tensor& a) {
  ProfileScope prof("relu");
  Tensor out = Tensor::empty(a.shape());
  using kernels::Act;
  kernels::map(out.data(), a.data(), a.numel(),
               [](float x) { return kernels::act_forward(x, Act::ReLU); });
  // y = max(x, 0)  ⇒  dx = dy · [x > 0]   (ch04)
  record(out, "relu", {a}, [a](const Tensor& g) {
    kernels::accumulate2(
        a.grad_buffer().data(), g.data(), a.data(), a.numel(),
        [](float dy, float x) { return dy * kernels::act_derivative(x, Act::ReLU); });
  });
  return out;
}

Tensor gelu(const Tensor& a) {
  ProfileScope prof("gelu");
  using kernels::Act;
  Tensor out = Tensor::empty(a.shape());
  kernels::map(out.data(), a.data(), a.numel(),
               [](float x) { return kernels::act_forward(x, Act::GELU); });
  // y = x·Φ(x)  ⇒  dx = dy · (Φ(x) + x·φ(x)), φ the standard normal density   (ch04)
  record(out, "gelu", {a}, [a](const Tensor& g) {
    kernels::accumulate2(
        a.grad_buffer().data(), g.data(), a.data(), a.numel(),
        [](float dy, float x) { return dy * kernels::act_derivative(x, Act::GELU); });
  });
  return out;
}

}  // namespace qkv
