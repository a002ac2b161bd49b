// The fused attention kernel's slow, obvious twin (attention.h): each formula as written,
// one (b, h, i, j) at a time, sums in double, std::exp. The tests hold the fast one to it.
#include <cmath>
#include <vector>

#include "autograd/kernels/attention.h"

namespace qkv::kernels {

namespace {
struct Index {  // flat offsets of the tensors, named as in the formulas
  const AttentionDims& d;
  int64_t q(int64_t b, int64_t h, int64_t i, int64_t c) const {
    return (b * d.n + i) * d.ldq + h * d.dk + c;
  }
  int64_t k(int64_t b, int64_t h, int64_t j, int64_t c) const {
    return (b * d.m + j) * d.ldk + h * d.dk + c;
  }
  int64_t v(int64_t b, int64_t h, int64_t j, int64_t c) const {
    return (b * d.m + j) * d.ldv + h * d.dv + c;
  }
  int64_t o(int64_t b, int64_t h, int64_t i, int64_t c) const {
    return (b * d.n + i) * d.ldo + h * d.dv + c;
  }
  int64_t p(int64_t b, int64_t h, int64_t i, int64_t j) const {
    return ((b * d.H + h) * d.n + i) * d.m + j;
  }
};
}  // namespace

void attention_forward_reference(const AttentionDims& d, const float* q, const float* k,
                                 const float* v, const AttentionMask& mask, const float* drop,
                                 float* weights, float* used, float* o) {
  const Index x{d};
  std::vector<double> s(static_cast<size_t>(d.m));
  std::vector<bool> blocked(static_cast<size_t>(d.m));
  std::vector<float> u(static_cast<size_t>(d.m));  // the row of U = P ⊙ drop (or P)
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t h = 0; h < d.H; ++h)
      for (int64_t i = 0; i < d.n; ++i) {
        double mx = -HUGE_VAL;
        for (int64_t j = 0; j < d.m; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < d.dk; ++c) dot += double(q[x.q(b, h, i, c)]) * k[x.k(b, h, j, c)];
          s[j] = dot * d.scale;
          blocked[j] =
              mask.p && mask.p[b * mask.sb + h * mask.sh + i * mask.si + j * mask.sj] == 0.f;
          if (!blocked[j] && s[j] > mx) mx = s[j];
        }
        double sum = 0;
        for (int64_t j = 0; j < d.m; ++j) sum += blocked[j] ? 0 : std::exp(s[j] - mx);
        for (int64_t j = 0; j < d.m; ++j) {
          const double pij = blocked[j] ? 0 : std::exp(s[j] - mx) / sum;  // 0 if all blocked
          weights[x.p(b, h, i, j)] = static_cast<float>(pij);
          // U in float, P's float times the mask, as the backward pass recomputes it
          u[j] = drop ? weights[x.p(b, h, i, j)] * drop[x.p(b, h, i, j)] : weights[x.p(b, h, i, j)];
          if (drop && used) used[x.p(b, h, i, j)] = u[j];
        }
        for (int64_t c = 0; c < d.dv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < d.m; ++j) acc += double(u[j]) * v[x.v(b, h, j, c)];
          o[x.o(b, h, i, c)] = static_cast<float>(acc);
        }
      }
}

void attention_backward_reference(const AttentionDims& d, const float* q, const float* k,
                                  const float* v, const float* drop, const float* weights,
                                  const float* used, const float* d_o, float* dq, float* dk,
                                  float* dv) {
  const Index x{d};
  std::vector<double> dp(static_cast<size_t>(d.m));
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t h = 0; h < d.H; ++h)
      for (int64_t i = 0; i < d.n; ++i) {
        // dP = (dO·Vᵀ) ⊙ drop; dS = scale·P ⊙ (dP − ⟨dP, P⟩)
        double dot = 0;
        for (int64_t j = 0; j < d.m; ++j) {
          double g = 0;
          for (int64_t c = 0; c < d.dv; ++c) g += double(d_o[x.o(b, h, i, c)]) * v[x.v(b, h, j, c)];
          dp[j] = drop ? g * drop[x.p(b, h, i, j)] : g;
          dot += dp[j] * weights[x.p(b, h, i, j)];
        }
        for (int64_t j = 0; j < d.m; ++j) {
          const double ds = d.scale * weights[x.p(b, h, i, j)] * (dp[j] - dot);
          const int64_t pj = x.p(b, h, i, j);
          const float u = used ? used[pj] : drop ? weights[pj] * drop[pj] : weights[pj];
          for (int64_t c = 0; c < d.dk; ++c) {
            if (dq) dq[x.q(b, h, i, c)] += static_cast<float>(ds * k[x.k(b, h, j, c)]);
            if (dk) dk[x.k(b, h, j, c)] += static_cast<float>(ds * q[x.q(b, h, i, c)]);
          }
          if (dv)
            for (int64_t c = 0; c < d.dv; ++c)
              dv[x.v(b, h, j, c)] += static_cast<float>(double(u) * d_o[x.o(b, h, i, c)]);
        }
      }
}

}  // namespace qkv::kernels
