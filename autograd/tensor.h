// Tensor: a cheap handle to shared float32 storage, plus what autograd needs (chapter 01).
//
// A Tensor is a shared_ptr to a TensorImpl. Copying a Tensor copies the handle, not the
// numbers (like PyTorch). Data is always contiguous and row-major: reshape shares the
// storage, transpose/permute/slice materialise a copy so every kernel sees plain arrays.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "autograd/aligned.h"
#include "autograd/random.h"

namespace qkv {

using Shape = std::vector<int64_t>;
using Storage = std::vector<float, AlignedAllocator<float>>;

struct Node;

std::string shape_str(const Shape& s);  // "[2, 3]"
int64_t numel_of(const Shape& s);

// What a Tensor handle points at. Students can read it as "the tensor itself".
struct TensorImpl {
  std::shared_ptr<Storage> storage;  // shared by views (reshape, detach)
  Shape shape;
  bool requires_grad = false;
  bool retains_grad = false;         // keep .grad on a non-leaf after backward
  std::shared_ptr<TensorImpl> grad;  // same shape, allocated on first accumulation
  std::shared_ptr<Node> grad_fn;     // the op that made this tensor (null for leaves)
  bool graph_freed = false;          // backward() released grad_fn: a 2nd call is an error

  TensorImpl();
  ~TensorImpl();
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  static int64_t live_count();  // how many TensorImpls exist: the leak tests read it
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- factories -------------------------------------------------------------------
  static Tensor empty(const Shape& shape);  // uninitialised values
  static Tensor zeros(const Shape& shape, bool requires_grad = false);
  static Tensor ones(const Shape& shape, bool requires_grad = false);
  static Tensor full(const Shape& shape, float value, bool requires_grad = false);
  static Tensor arange(int64_t n);  // 0, 1, …, n-1 as floats, shape [n]
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            bool requires_grad = false);
  static Tensor scalar(float value, bool requires_grad = false);  // shape []
  static Tensor randn(const Shape& shape, Generator& gen, float mean = 0.f, float std = 1.f,
                      bool requires_grad = false);
  static Tensor uniform(const Shape& shape, Generator& gen, float lo, float hi,
                        bool requires_grad = false);

  // --- shape and data -------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  // Storage always holds exactly numel floats (no offsets, no strides), so this is O(1).
  int64_t numel() const;
  float* data();
  const float* data() const;
  std::vector<float> to_vector() const;
  float item() const;                               // the value of a one-element tensor
  float& at(std::initializer_list<int64_t> index);  // bounds-checked element access
  float at(std::initializer_list<int64_t> index) const;
  Tensor clone() const;  // a deep copy of the values, outside the graph

  // --- autograd ---------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& set_requires_grad(bool value);
  Tensor grad() const;  // undefined until a backward pass reaches this tensor
  void zero_grad();     // drops the gradient (the next backward starts from zero)
  void retain_grad();   // keep the gradient of a non-leaf tensor after backward
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  Tensor detach() const;  // same storage, no history
  // From now on this tensor's values are source's (the same storage, not a copy), as
  // torch.Tensor.set_(source); its gradient and history stay its own. Only a leaf may be set,
  // to a tensor of the same shape. A graph already recorded keeps reading this tensor, so the
  // new values from then on: set_ between steps, not in the middle of one. Data-parallel
  // replicas of a model use it (nn/data_parallel.h).
  Tensor& set_(const Tensor& source);
  // Reverse-mode differentiation from this tensor (chapter 02). A scalar needs no
  // argument; anything else needs the gradient of the final loss with respect to it.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;

  // The gradient buffer, created as zeros on first use: backward closures add into it.
  Tensor grad_buffer() const;
  // The gradient buffer for a backward rule that writes its whole contribution at once
  // (chapter 14). If the tensor has no gradient yet, the buffer is new and UNINITIALISED and
  // *fresh is set true: the caller must overwrite every element (`=` instead of `+=`, GEMM
  // beta = 0), since its contribution is the first. Otherwise *fresh is false and the caller
  // adds into it, as into grad_buffer(). Why: zeros() then `+=` is a full pass over the
  // buffer to write the zeros and a read of them back, for every parameter and activation
  // gradient of every step; 0 + x == x, so writing x gives the same bits.
  Tensor grad_buffer_for_write(bool* fresh) const;

  // True when both handles point at the same tensor (not merely equal values).
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  // The TensorImpl behind the handle is not public: only Tensor's own members and
  // TensorAccess (autograd/tensor_access.h: the engine, the ops, gradcheck, the graph writer)
  // may write to it.
  friend class TensorAccess;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  std::shared_ptr<TensorImpl> impl_;
};

// Printed like PyTorch: tensor([[1.0000, 2.0000], …], shape=[2, 2], requires_grad=true)
std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string to_string(const Tensor& t, int precision = 4);

// Resolve a possibly negative axis against a rank, or throw naming `op`.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* op);

}  // namespace qkv
