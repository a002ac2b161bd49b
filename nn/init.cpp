#include "nn/init.h"

#include <cmath>

namespace qkv::nn {

void xavier_uniform_(Tensor& w, Generator& gen) {
  const int64_t fan_out = w.size(0), fan_in = w.numel() / fan_out;
  const float a = std::sqrt(6.f / static_cast<float>(fan_in + fan_out));
  float* p = w.data();
  for (int64_t i = 0, n = w.numel(); i < n; ++i) p[i] = gen.uniform(-a, a);
}

}  // namespace qkv::nn
