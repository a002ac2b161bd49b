// The LayerNorm kernel (autograd/kernels/layernorm.h): its row sums run 16 rows at a time in
// the lanes of a vector (chapter 14), and must give the bits of the one-row loop, on any
// thread count, and the right values.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/kernels/layernorm.h"
#include "autograd/random.h"
#include "tests/catch.h"

using namespace qkv;

namespace {
std::vector<float> uniform(int64_t n, uint64_t seed, float lo, float hi) {
  Generator g(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = g.uniform(lo, hi);
  return v;
}
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
struct Result {
  std::vector<float> y, mean, rstd, dx, dw, db;
};
// The whole [rows, D] at once (16-row groups, then the rows left over), on `threads` threads.
Result whole(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
             const std::vector<float>& dy, int64_t rows, int64_t D, int threads) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  Result r{std::vector<float>(x.size()), std::vector<float>(rows),
           std::vector<float>(rows),     std::vector<float>(x.size(), 0.f),
           std::vector<float>(D, 0.f),   std::vector<float>(D, 0.f)};
  kernels::layer_norm_forward(r.y.data(), r.mean.data(), r.rstd.data(), x.data(), w.data(),
                              b.data(), rows, D, 1e-5f);
  kernels::layer_norm_backward(r.dx.data(), {}, r.dw.data(), r.db.data(), dy.data(), x.data(),
                               r.mean.data(), r.rstd.data(), w.data(), rows, D);
  omp_set_num_threads(before);
  return r;
}
}  // namespace

TEST_CASE("layer_norm kernel: 16 rows at a time gives the one-row loop's bits, on 1 and 2 threads",
          "[ch14][layernorm]") {
  for (int64_t D : {8, 40, 64, 128}) {  // below one block, blocks + a tail, whole blocks
    const int64_t rows = 37;            // two groups of 16 and 5 rows left over
    INFO("D = " << D);
    // Values with a large common offset: the variance then depends on every rounding.
    const std::vector<float> x = uniform(rows * D, 1, 99.f, 101.f), w = uniform(D, 2, .5f, 1.5f),
                             b = uniform(D, 3, -1.f, 1.f), dy = uniform(rows * D, 4, -1.f, 1.f);
    const Result one = whole(x, w, b, dy, rows, D, 1);
    const Result two = whole(x, w, b, dy, rows, D, 2);
    CHECK(same_bits(one.y, two.y));
    CHECK(same_bits(one.dx, two.dx));
    CHECK(same_bits(one.dw, two.dw));
    // Each row alone goes through the one-row code.
    for (int64_t r = 0; r < rows; ++r) {
      INFO("row " << r);
      const std::vector<float> xr(x.begin() + r * D, x.begin() + (r + 1) * D),
          dyr(dy.begin() + r * D, dy.begin() + (r + 1) * D);
      const Result alone = whole(xr, w, b, dyr, 1, D, 1);
      CHECK(alone.mean[0] == one.mean[r]);
      CHECK(alone.rstd[0] == one.rstd[r]);
      CHECK(same_bits(alone.y,
                      std::vector<float>(one.y.begin() + r * D, one.y.begin() + (r + 1) * D)));
      CHECK(same_bits(alone.dx,
                      std::vector<float>(one.dx.begin() + r * D, one.dx.begin() + (r + 1) * D)));
    }
    // And the values are right: against the definitions, summed in double.
    for (int64_t r = 0; r < rows; ++r) {
      double m = 0, v = 0, gm = 0, gxm = 0;
      for (int64_t j = 0; j < D; ++j) m += x[r * D + j];
      m /= D;
      for (int64_t j = 0; j < D; ++j) v += (x[r * D + j] - m) * (x[r * D + j] - m);
      v /= D;
      const double s = 1 / std::sqrt(v + 1e-5);
      for (int64_t j = 0; j < D; ++j) {
        const double g = double(dy[r * D + j]) * w[j];
        gm += g;
        gxm += g * (x[r * D + j] - m) * s;
      }
      gm /= D;
      gxm /= D;
      CHECK(one.mean[r] == Approx(m).epsilon(1e-6));
      CHECK(one.rstd[r] == Approx(s).epsilon(1e-3));
      for (int64_t j = 0; j < D; ++j) {
        const double xhat = (x[r * D + j] - m) * s, g = double(dy[r * D + j]) * w[j];
        CHECK(one.y[r * D + j] == Approx(xhat * w[j] + b[j]).margin(2e-3));
        CHECK(one.dx[r * D + j] == Approx(s * (g - gm - xhat * gxm)).margin(2e-3 * s));
      }
    }
  }
}

TEST_CASE(
    "layer_norm kernel: dw and db are each column's in-order sum, on any share of the columns",
    "[ch14][layernorm]") {
  const int64_t rows = 45;
  for (int64_t D : {8, 40, 64, 100, 128, 200}) {  // one chunk, chunks, wide groups, and tails
    const std::vector<float> x = uniform(rows * D, 5, -2.f, 2.f),
                             dy = uniform(rows * D, 6, -1.f, 1.f), w0 = uniform(D, 7, -1.f, 1.f),
                             b0 = uniform(D, 8, -1.f, 1.f);
    std::vector<float> mean(rows), rstd(rows);
    for (int64_t r = 0; r < rows; ++r) mean[r] = x[r * D] * .1f, rstd[r] = 1.f + .01f * r;
    // The reference: one column at a time (the narrowest path), db also by a plain loop.
    std::vector<float> dw_ref = w0, db_ref = b0, db_plain = b0;
    for (int64_t j = 0; j < D; ++j) {
      kernels::layer_norm_params_columns<16>(dw_ref.data(), db_ref.data(), dy.data(), x.data(),
                                             mean.data(), rstd.data(), rows, D, j, 1);
      for (int64_t r = 0; r < rows; ++r) db_plain[j] += dy[r * D + j];
    }
    CHECK(same_bits(db_ref, db_plain));
    for (int threads : {1, 2, 3}) {
      INFO("D " << D << " threads " << threads);
      std::vector<float> dw = w0, db = b0;
      for (int t = 0; t < threads; ++t)
        kernels::layer_norm_backward_params_part(dw.data(), db.data(), dy.data(), x.data(),
                                                 mean.data(), rstd.data(), rows, D, t, threads);
      CHECK(same_bits(dw, dw_ref));
      CHECK(same_bits(db, db_ref));
      for (int64_t j = 0; j < D; ++j) {  // and the value, summed in double
        double s = w0[j];
        for (int64_t r = 0; r < rows; ++r)
          s += double(dy[r * D + j]) * (x[r * D + j] - mean[r]) * rstd[r];
        CHECK(dw[j] == Approx(s).margin(1e-4));
      }
    }
  }
}
