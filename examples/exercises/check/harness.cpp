#include "examples/exercises/check/harness.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace qkv::exercises {

void fail(const std::string& message) { throw CheckFailed(message); }

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo, float hi, bool grad) {
  Generator gen(seed);
  return Tensor::uniform(shape, gen, lo, hi, grad);
}

Tensor random_ids(const Shape& shape, uint64_t seed, int64_t n) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = static_cast<float>(static_cast<int64_t>(gen.next_u64() % uint64_t(n)));
  return t;
}

std::string index_str(const Shape& shape, int64_t i) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? i % shape[d] : 0;
    i = shape[d] ? i / shape[d] : 0;
  }
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

namespace {

std::string num(double v) {
  if (std::isnan(v)) return "nan";  // not "-nan" on some machines and "nan" on others
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

// How far off got is, in units of the tolerance: ≤ 1 passes. NaN is never close.
double off_by(double expected, double got, Tolerance tol) {
  if (std::isnan(expected) || std::isnan(got)) return std::numeric_limits<double>::infinity();
  if (expected == got) return 0;  // equal infinities too
  return std::fabs(expected - got) / (tol.atol + tol.rtol * std::fabs(expected));
}

std::string describe(const Inputs& in) {
  std::string s;
  for (size_t i = 0; i < in.values.size(); ++i)
    if (in.values[i].defined())
      s += (s.empty() ? "" : ", ") + in.names[i] + " " + shape_str(in.values[i].shape());
  return s;
}

// Copies of the inputs outside any graph, so an answer can neither see nor disturb them.
std::vector<Tensor> copies(const std::vector<Tensor>& xs, bool keep_requires_grad) {
  std::vector<Tensor> out;
  for (const Tensor& x : xs) {
    if (!x.defined()) {
      out.emplace_back();
      continue;
    }
    Tensor c = x.clone();
    if (keep_requires_grad && x.requires_grad()) c.set_requires_grad(true);
    out.push_back(c);
  }
  return out;
}

Tensor grad_or_zeros(const Tensor& x) {
  return x.grad().defined() ? x.grad() : Tensor::zeros(x.shape());
}

void check_grad_shapes(const std::string& where, const Inputs& in, const std::vector<Tensor>& g) {
  for (size_t i = 0; i < in.values.size(); ++i) {
    if (!needs_grad(in.values[i])) continue;
    const std::string what = where + ": gradient of " + in.names[i];
    if (i >= g.size() || !g[i].defined()) fail(what + " is an undefined tensor");
    if (g[i].shape() != in.values[i].shape())
      fail(what + " has shape " + shape_str(g[i].shape()) + ", expected " +
           shape_str(in.values[i].shape()) + " (the input's shape)");
  }
}

void report_gradcheck(const std::string& where, const Inputs& in, const GradcheckResult& r) {
  if (r.ok) return;
  const Tensor& x = in.values[static_cast<size_t>(r.input)];
  fail(where + ": gradcheck: gradient of " + in.names[static_cast<size_t>(r.input)] + " (input " +
       std::to_string(r.input) + ") at " + index_str(x.shape(), r.index) + ": expected " +
       num(r.numeric) + " (central difference), got " + num(r.analytic));
}

}  // namespace

void expect_close(const std::string& what, const Tensor& expected, const Tensor& got,
                  Tolerance tol) {
  if (!got.defined()) fail(what + " is an undefined tensor");
  if (got.shape() != expected.shape())
    fail(what + " has shape " + shape_str(got.shape()) + ", expected " +
         shape_str(expected.shape()));
  int64_t worst = -1, bad = 0;
  double worst_off = 1;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double off = off_by(expected.data()[i], got.data()[i], tol);
    if (off > 1) ++bad;
    if (off > worst_off) worst_off = off, worst = i;
  }
  if (worst >= 0)
    fail(what + " at " + index_str(got.shape(), worst) + ": expected " +
         num(expected.data()[worst]) + ", got " + num(got.data()[worst]) + " (" +
         std::to_string(bad) + " of " + std::to_string(got.numel()) + " elements wrong)");
}

void expect_close(const std::string& what, double expected, double got, Tolerance tol) {
  if (off_by(expected, got, tol) > 1)
    fail(what + ": expected " + num(expected) + ", got " + num(got));
}

void expect_backward(const std::string& op, const Inputs& in, const ForwardFn& forward,
                     const BackwardFn& backward, GradcheckOptions gc, Tolerance tol) {
  const std::string where = op + " on " + describe(in);
  // 1. The answer's gradients for a fixed random dL/d(output): are they there, and shaped?
  Tensor out;
  {
    NoGradGuard no_grad;
    out = forward(copies(in.values, false));
  }
  const Tensor dout = random_tensor(out.shape(), 4321);
  std::vector<Tensor> yours;
  {
    NoGradGuard no_grad;
    yours = backward(copies(in.values, false), dout.clone());
  }
  check_grad_shapes(where, in, yours);

  // 2. gradcheck: qkv's forward, the answer's backward, against central differences.
  const TensorFn with_your_backward = [&](const std::vector<Tensor>& xs) {
    Tensor value;
    {
      NoGradGuard no_grad;
      value = forward(copies(xs, false));
    }
    record(value, op.c_str(), xs, [xs, &backward, &in, &where](const Tensor& g) {
      const std::vector<Tensor> grads = backward(copies(xs, false), g.clone());
      check_grad_shapes(where, in, grads);
      for (size_t i = 0; i < xs.size(); ++i) {
        if (!needs_grad(xs[i])) continue;
        Tensor buf = xs[i].grad_buffer();
        for (int64_t e = 0; e < buf.numel(); ++e) buf.data()[e] += grads[i].data()[e];
      }
    });
    return value;
  };
  report_gradcheck(where, in, gradcheck(with_your_backward, in.values, gc));

  // 3. The answer against qkv's own backward, element by element (catches NaN, too).
  std::vector<Tensor> xs = copies(in.values, true);
  forward(xs).backward(dout);
  for (size_t i = 0; i < xs.size(); ++i)
    if (needs_grad(xs[i]))
      expect_close(where + ": gradient of " + in.names[i] + " against qkv's backward",
                   grad_or_zeros(xs[i]), yours[i], tol);
}

void expect_same_op(const std::string& op, const Inputs& in, const ForwardFn& reference,
                    const ForwardFn& answer, Tolerance tol, GradcheckOptions gc) {
  const std::string where = op + " on " + describe(in);
  std::vector<Tensor> xa = copies(in.values, true), xr = copies(in.values, true);
  const Tensor out_a = answer(xa), out_r = reference(xr);
  expect_close(where + ": output", out_r, out_a, tol);

  bool any = false;
  for (const Tensor& x : in.values) any = any || needs_grad(x);
  if (!any) return;
  if (!out_a.requires_grad())
    fail(where +
         ": no gradient reaches the inputs: build the output from autograd ops "
         "(matmul, add, sigmoid, …), not from raw loops over data()");
  report_gradcheck(where, in, gradcheck(answer, in.values, gc));

  const Tensor dout = random_tensor(out_r.shape(), 4321);
  out_a.backward(dout);
  out_r.backward(dout);
  for (size_t i = 0; i < xa.size(); ++i)
    if (needs_grad(xa[i]))
      expect_close(where + ": gradient of " + in.names[i] + " against qkv's", grad_or_zeros(xr[i]),
                   grad_or_zeros(xa[i]), tol);
}

}  // namespace qkv::exercises
