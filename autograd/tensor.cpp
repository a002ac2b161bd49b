#include "autograd/tensor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "autograd/engine.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace qkv {

#if defined(__GLIBC__)
// Training allocates and frees the same tensor sizes every step. By default glibc hands big
// blocks back to the kernel (mmap/munmap, heap trimming) and the next step pays a page fault
// per 4 KiB to get them again: a fifth of a small model's step time (chapter 14). Keep them.
// A step in shards (nn/data_parallel.h) allocates on every thread, and glibc gives each thread
// an arena of its own: memory a thread frees, it gets back, still in its own core's cache (one
// arena for all was 1.3 times as slow at the tiny model, two cores far apart). But a thread's
// arena deletes a heap as soon as the heap is empty, whatever the trim threshold: 85,000 page
// faults a step at the base model, the step 1.35 times as long. Keeping 64 MiB spare at the
// top of a heap (the top pad) keeps the heap.
static const bool g_malloc_tuned = [] {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
  return true;
}();
#endif

namespace {
std::atomic<int64_t> g_live{0};

std::shared_ptr<TensorImpl> make_impl(const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0)
      throw std::invalid_argument("tensor: negative dimension in shape " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(numel_of(shape)));
  impl->shape = shape;
  return impl;
}
}  // namespace

TensorImpl::TensorImpl() { ++g_live; }
TensorImpl::~TensorImpl() { --g_live; }
int64_t TensorImpl::live_count() { return g_live.load(); }

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* op) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw std::out_of_range(std::string(op) + ": axis " + std::to_string(axis) +
                            " is out of range for a tensor of rank " + std::to_string(rank));
  return a;
}

// --- factories -------------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape) { return Tensor(make_impl(shape)); }

Tensor Tensor::full(const Shape& shape, float value, bool requires_grad) {
  Tensor t = empty(shape);
  std::fill(t.data(), t.data() + t.numel(), value);
  t.impl()->requires_grad = requires_grad;
  return t;
}
Tensor Tensor::zeros(const Shape& shape, bool requires_grad) {
  return full(shape, 0.f, requires_grad);
}
Tensor Tensor::ones(const Shape& shape, bool requires_grad) {
  return full(shape, 1.f, requires_grad);
}
Tensor Tensor::scalar(float value, bool requires_grad) { return full({}, value, requires_grad); }

Tensor Tensor::arange(int64_t n) {
  Tensor t = empty({n});
  for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<float>(i);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape,
                           bool requires_grad) {
  if (static_cast<int64_t>(values.size()) != numel_of(shape))
    throw std::invalid_argument("from_vector: " + std::to_string(values.size()) +
                                " values do not fill shape " + shape_str(shape) + " (" +
                                std::to_string(numel_of(shape)) + " elements)");
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  t.impl()->requires_grad = requires_grad;
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& gen, float mean, float std,
                     bool requires_grad) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = mean + std * gen.normal();
  t.impl()->requires_grad = requires_grad;
  return t;
}

Tensor Tensor::uniform(const Shape& shape, Generator& gen, float lo, float hi, bool requires_grad) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = gen.uniform(lo, hi);
  t.impl()->requires_grad = requires_grad;
  return t;
}

// --- shape and data --------------------------------------------------------------------

static TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) throw std::logic_error("tensor: use of an undefined tensor");
  return *impl;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }
int64_t Tensor::numel() const { return static_cast<int64_t>(checked(impl_).storage->size()); }
int64_t Tensor::size(int64_t axis) const { return shape()[normalize_axis(axis, dim(), "size")]; }
float* Tensor::data() { return checked(impl_).storage->data(); }
const float* Tensor::data() const { return checked(impl_).storage->data(); }

std::vector<float> Tensor::to_vector() const {
  return std::vector<float>(data(), data() + numel());
}

float Tensor::item() const {
  if (numel() != 1)
    throw std::invalid_argument("item: tensor of shape " + shape_str(shape()) + " has " +
                                std::to_string(numel()) + " elements, not 1");
  return data()[0];
}

static int64_t flat_index(const Shape& shape, std::initializer_list<int64_t> index) {
  if (index.size() != shape.size())
    throw std::out_of_range("at: " + std::to_string(index.size()) +
                            " indices for a tensor of shape " + shape_str(shape));
  int64_t flat = 0, axis = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape[axis])
      throw std::out_of_range("at: index " + std::to_string(i) + " out of range for axis " +
                              std::to_string(axis) + " of shape " + shape_str(shape));
    flat = flat * shape[axis] + i;
    ++axis;
  }
  return flat;
}
float& Tensor::at(std::initializer_list<int64_t> index) {
  return data()[flat_index(shape(), index)];
}
float Tensor::at(std::initializer_list<int64_t> index) const {
  return data()[flat_index(shape(), index)];
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape());
  std::copy(data(), data() + numel(), t.data());
  return t;
}

// --- autograd --------------------------------------------------------------------------

bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }
Tensor& Tensor::set_requires_grad(bool value) {
  if (!value && checked(impl_).grad_fn)
    throw std::logic_error(
        "set_requires_grad(false): only leaf tensors can stop requiring grad; "
        "use detach()");
  checked(impl_).requires_grad = value;
  return *this;
}
Tensor Tensor::grad() const { return Tensor(checked(impl_).grad); }
void Tensor::zero_grad() { checked(impl_).grad.reset(); }
void Tensor::retain_grad() { checked(impl_).retains_grad = true; }
bool Tensor::is_leaf() const { return !checked(impl_).grad_fn && !impl_->graph_freed; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = checked(impl_).storage;
  impl->shape = impl_->shape;
  return Tensor(impl);
}

Tensor& Tensor::set_(const Tensor& source) {
  TensorImpl& self = checked(impl_);
  if (self.grad_fn)
    throw std::invalid_argument("set_: only a leaf tensor can take another's storage");
  if (checked(source.impl_).shape != self.shape)
    throw std::invalid_argument("set_: source " + shape_str(source.impl_->shape) +
                                " does not match " + shape_str(self.shape));
  self.storage = source.impl_->storage;
  return *this;
}

Tensor Tensor::grad_buffer() const {
  TensorImpl& self = checked(impl_);
  if (!self.grad) self.grad = zeros(self.shape).impl_ptr();
  return Tensor(self.grad);
}

Tensor Tensor::grad_buffer_for_write(bool* fresh) const {
  TensorImpl& self = checked(impl_);
  *fresh = !self.grad;
  if (!self.grad) self.grad = empty(self.shape).impl_ptr();
  return Tensor(self.grad);
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  run_backward(*this, grad_output, retain_graph);
}

// --- printing --------------------------------------------------------------------------

static void print_rec(std::ostream& os, const float* p, const Shape& s, size_t axis, int precision,
                      int indent) {
  if (s.empty()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", precision, static_cast<double>(*p));
    os << buf;
    return;
  }
  const int64_t n = s[axis];
  int64_t stride = 1;
  for (size_t i = axis + 1; i < s.size(); ++i) stride *= s[i];
  // Long axes are elided in the middle, as PyTorch does past 1,000 elements.
  const bool elide = n > 8 && numel_of(s) > 1000;
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (elide && i == 3) {
      os << "...";
      i = n - 4;
      os << (axis + 1 == s.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    if (axis + 1 == s.size()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.*f", precision, static_cast<double>(p[i]));
      os << buf;
    } else {
      print_rec(os, p + i * stride, s, axis + 1, precision, indent + 1);
    }
    if (i + 1 < n) os << (axis + 1 == s.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << ']';
}

std::string to_string(const Tensor& t, int precision) {
  if (!t.defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  print_rec(os, t.data(), t.shape(), 0, precision, 7);
  os << ", shape=" << shape_str(t.shape());
  if (t.grad_fn())
    os << ", grad_fn=" << t.grad_fn()->name;
  else if (t.requires_grad())
    os << ", requires_grad=true";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace qkv
