// Chapter 01: what a tensor is — storage, shape, row-major strides, views, broadcasting.
// Run: build/ch01_tensors   (docs/01-tensors.md shows and explains this output)
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/tensor.h"
#include "examples/cli.h"
#include "examples/plot/diagram.h"
#include "examples/plot/figure_file.h"

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

// A rows × cols block of cells at (x, y), 34 px each, holding `values` row by row; cells
// at or past row `copies_from` (or column `col_copies_from`) are drawn dashed: they are the
// same element read again, not stored.
static void cells(plot::Diagram& d, double x, double y, int rows, int cols,
                  const std::vector<float>& values, const std::string& fill,
                  int copies_from = 1 << 20, int col_copies_from = 1 << 20) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const bool copy = r >= copies_from || c >= col_copies_from;
      char v[16];
      std::snprintf(v, sizeof v, "%g", values[static_cast<size_t>(r * cols + c)]);
      d.box(x + 34 * c, y + 34 * r, 34, 34, copy ? "white" : fill, {v}, copy ? "#999" : "#444",
            false, copy);
    }
}

// docs/img/ch01_strides.svg and docs/img/ch01_broadcasting.svg.
static void write_figures(const char* dir) {
  {
    plot::Diagram d(660, 340, "a [2, 3] tensor: one flat array, strides [3, 1]");
    Tensor a = Tensor::from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
    d.text(40, 62, "what you index: a[i, j]");
    cells(d, 40, 72, 2, 3, a.to_vector(), "#dbe8f6");
    d.text(40 + 34 * 3 + 10, 72 + 22, "i = 0");
    d.text(40 + 34 * 3 + 10, 72 + 56, "i = 1");
    d.text(330, 62, "what is stored: offset = 3·i + 1·j");
    cells(d, 330, 72, 1, 6, a.to_vector(), "#dbe8f6");
    for (int k = 0; k < 6; ++k)
      d.text(330 + 34 * k + 17, 120, std::to_string(k), "middle", 10, "#777");
    d.text(326, 120, "offset", "end", 10, "#777");
    d.arrow(330 + 17, 132, 330 + 34 + 17, 132);
    d.text(330 + 34 + 26, 136, "j + 1: skip 1 float (stride 1)", "start", 11);
    d.arrow(330 + 17, 152, 330 + 3 * 34 + 17, 152);
    d.text(330 + 3 * 34 + 26, 156, "i + 1: skip 3 floats (stride 3)", "start", 11);
    d.text(40, 212, "reshape to [3, 2]: the same storage (a view)");
    cells(d, 40, 222, 1, 6, a.to_vector(), "#dbe8f6");
    Tensor at = transpose(a, 0, 1);
    d.text(330, 212, "transpose to [3, 2]: a new order, so a copy");
    cells(d, 330, 222, 1, 6, at.to_vector(), "#fde0c5");
    d.text(
        40, 296,
        "every qkv tensor is contiguous, so its strides follow from its shape and a kernel walks",
        "start", 11, "#555");
    d.text(40, 312, "a plain float*: element [i0, i1, …] is at Σ i_d · stride_d", "start", 11,
           "#555");
    plot::write_figure(dir, "ch01_strides.svg", d.str());
  }
  {
    plot::Diagram d(700, 330, "broadcasting: shapes aligned from the right, size-1 axes reused");
    Tensor a = Tensor::from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
    Tensor b = Tensor::from_vector({10, 20, 30}, {3});
    Tensor c = a + b;
    d.text(30, 62, "[2, 3]");
    cells(d, 30, 72, 2, 3, a.to_vector(), "#dbe8f6");
    d.text(30 + 3 * 34 + 20, 112, "+", "middle", 18);
    d.text(160, 62, "[3] read as [1, 3]");
    std::vector<float> b2 = b.to_vector();
    b2.insert(b2.end(), b2.begin(), b2.end());
    cells(d, 160, 72, 2, 3, b2, "#fde0c5", 1);
    d.text(160 + 3 * 34 + 20, 112, "=", "middle", 18);
    d.text(290, 62, "[2, 3]");
    cells(d, 290, 72, 2, 3, c.to_vector(), "#e5f5e0");
    Tensor col = Tensor::from_vector({1, 2, 3}, {3, 1});
    Tensor row = Tensor::from_vector({10, 20, 30, 40}, {1, 4});
    Tensor outer = col * row;
    std::vector<float> cs, rs;
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 4; ++k) {
        cs.push_back(col.to_vector()[static_cast<size_t>(r)]);
        rs.push_back(row.to_vector()[static_cast<size_t>(k)]);
      }
    d.text(30, 172, "[3, 1]");
    cells(d, 30, 182, 3, 4, cs, "#dbe8f6", 1 << 20, 1);
    d.text(30 + 4 * 34 + 12, 238, "×", "middle", 18);
    d.text(185, 172, "[1, 4]");
    cells(d, 185, 182, 3, 4, rs, "#fde0c5", 1);
    d.text(185 + 4 * 34 + 12, 238, "=", "middle", 18);
    d.text(340, 172, "[3, 4]");
    cells(d, 340, 182, 3, 4, outer.to_vector(), "#e5f5e0");
    d.text(500, 90, "dashed cells are not stored:", "start", 11, "#555");
    d.text(500, 106, "the kernel reads the same", "start", 11, "#555");
    d.text(500, 122, "element again (stride 0);", "start", 11, "#555");
    d.text(500, 138, "backward sums their gradients", "start", 11, "#555");
    d.text(500, 154, "back onto it (sum_to)", "start", 11, "#555");
    plot::write_figure(dir, "ch01_broadcasting.svg", d.str());
  }
}

int run_chapter() {
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

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch01_tensors",
      "Chapter 01: what a tensor is: storage, shape, row-major strides, views, broadcasting.",
      run_chapter, write_figures);
}
