// Reference solution, chapter 01 (docs/exercises.md#ch01). Try your own first.
#include "examples/exercises/exercises.h"

namespace qkv::exercises {

Tensor unbroadcast(const Tensor& grad, const Shape& shape) {
  const Shape& g = grad.shape();  // [..., a, b]: at least as many dims as `shape`
  if (g.size() < shape.size())
    throw std::invalid_argument("unbroadcast: " + shape_str(g) + " has fewer dims than " +
                                shape_str(shape));
  const size_t lead = g.size() - shape.size();  // dims broadcasting added in front
  // The result's stride for each of grad's dims: 0 where the result has no such dim, or 1.
  std::vector<int64_t> stride(g.size(), 0);
  int64_t s = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    stride[lead + d] = shape[d] == 1 ? 0 : s;
    s *= shape[d];
  }
  Tensor out = Tensor::zeros(shape);
  for (int64_t i = 0; i < grad.numel(); ++i) {  // each element adds into its source
    int64_t rest = i, o = 0;
    for (size_t d = g.size(); d-- > 0;) {
      o += (rest % g[d]) * stride[d];
      rest /= g[d];
    }
    out.data()[o] += grad.data()[i];
  }
  return out;
}

}  // namespace qkv::exercises
