// The way into a Tensor's TensorImpl, for autograd's own files only: the engine (recording
// an op's node, releasing the graph), the ops that build a view (reshape sets a shape),
// gradcheck (saving and restoring .grad) and the graph writer (tensors as map keys). Nothing
// above autograd/ includes this: nn, data, examples and tests use Tensor's public interface.
#pragma once

#include <memory>

#include "autograd/tensor.h"

namespace qkv {

class TensorAccess {
 public:
  static TensorImpl* impl(const Tensor& t) { return t.impl(); }
  static const std::shared_ptr<TensorImpl>& impl_ptr(const Tensor& t) { return t.impl_ptr(); }
};

}  // namespace qkv
