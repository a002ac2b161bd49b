// Chapter 01: what a tensor is — storage, shape, row-major strides, views, broadcasting.
// Run: build/ch01_tensors   (docs/01-tensors.md shows and explains this output)
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/tensor.h"

using namespace qkv;

// Row-major strides: how many floats to skip to move one step along each axis.
static std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

static void heading(const char* title) {
  static bool first = true;
  std::printf("%s== %s ==\n", first ? "" : "\n", title);
  first = false;
}

int main() {
  heading("storage and shape");
  Tensor a = Tensor::from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  std::cout << "a =\n" << a << "\n";
  std::cout << "shape " << shape_str(a.shape()) << ", " << a.numel() << " floats in storage:";
  for (float v : a.to_vector()) std::printf(" %g", v);
  std::printf("\n");
  std::cout << "strides " << shape_str(strides_of(a.shape()))
            << ": a[1, 2] is storage[1*3 + 2*1] = storage[5] = " << a.at({1, 2}) << "\n";
  Tensor c = Tensor::zeros({2, 3, 4});
  std::cout << "a [2, 3, 4] tensor has strides " << shape_str(strides_of(c.shape()))
            << ": element [1, 2, 3] is storage[" << 1 * 12 + 2 * 4 + 3 * 1 << "]\n";

  heading("reshape is a view: same storage, new shape");
  Tensor b = reshape(a, {3, 2});
  std::cout << "b = reshape(a, [3, 2]) =\n" << b << "\n";
  std::printf("a and b share storage: %s\n", a.data() == b.data() ? "yes" : "no");
  b.at({2, 1}) = 50.f;
  std::cout << "after b[2, 1] = 50, a is\n" << a << "\n";
  std::cout << "reshape(a, [-1]) = " << reshape(a, {-1}) << "\n";

  heading("transpose is a copy");
  Tensor t = transpose(a, 0, 1);
  std::cout << "t = transpose(a, 0, 1) =\n" << t << "\n";
  std::printf("a and t share storage: %s\n", a.data() == t.data() ? "yes" : "no");
  t.at({0, 0}) = -1.f;
  std::cout << "after t[0, 0] = -1:  a[0, 0] is still " << a.at({0, 0}) << "\n";

  heading("broadcasting");
  Tensor m = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = Tensor::from_vector({10, 20, 30}, {3});
  Tensor col = Tensor::from_vector({100, 200}, {2, 1});
  std::cout << "m [2, 3] + row [3] =\n" << m + row << "\n";
  std::cout << "m [2, 3] + col [2, 1] =\n" << m + col << "\n";
  Tensor u = Tensor::from_vector({1, 2, 3}, {3, 1});
  Tensor v = Tensor::from_vector({1, 10, 100, 1000}, {1, 4});
  std::cout << "u [3, 1] * v [1, 4] =\n" << u * v << "\n";
  std::cout << "m [2, 3] * 2 =\n" << m * 2.f << "\n";
  try {
    (void)(m + Tensor::from_vector({1, 2}, {2}));
  } catch (const std::invalid_argument& e) {
    std::printf("m [2, 3] + [2] fails: %s\n", e.what());
  }

  heading("printing");
  Tensor x = Tensor::from_vector({0.5f, -1.25f, 3.f, 1e-3f, 2.f / 3.f, 100.f, 0, 7, 8, 9, 10, 11},
                                 {2, 2, 3}, /*requires_grad=*/true);
  std::cout << x << "\n";
  std::cout << to_string(Tensor::scalar(3.14159f), 2) << "\n";
  std::cout << x * 2.f << "\n";
  return 0;
}
