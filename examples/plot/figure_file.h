// How a chapter program writes its figures: `build/chNN_… --figures docs/img` (an option of
// app::chapter_main, examples/cli.h) writes every
// SVG of the chapter into that folder and prints one line per file; nothing else runs, so
// the tests can redraw each figure in a second and compare it byte for byte with the copy
// committed under docs/img (tests/test_figures.cpp).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace qkv::plot {

// Write through a temporary file and a rename, so a failed run leaves the old figure whole.
inline void write_figure(const std::string& dir, const std::string& name, const std::string& svg) {
  const std::string path = dir + "/" + name, tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << svg;
    if (!f.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
  std::printf("wrote %s\n", path.c_str());
}

// The CPU's name as lscpu prints it ("AMD EPYC …"), for figures of timed or machine-dependent
// runs, which say which machine drew them.
inline std::string cpu_name() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      std::string v = line.substr(line.find(':') + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      return v;
    }
  return "an unknown CPU";
}

// The rows of a [rows, cols] tensor (or of the last two axes of a larger one, at `offset`
// matrices in), as a heat map wants them.
inline std::vector<std::vector<float>> matrix(const Tensor& t, int64_t offset = 0) {
  const int64_t R = t.size(-2), C = t.size(-1);
  const float* p = t.data() + offset * R * C;
  std::vector<std::vector<float>> m(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; ++r) m[static_cast<size_t>(r)].assign(p + r * C, p + (r + 1) * C);
  return m;
}

}  // namespace qkv::plot
