// The cross-entropy kernel (autograd/kernels/cross_entropy.h): its row sums run 16 rows at a
// time in vector lanes (chapter 14) and must give the bits of the one-row loop, on any thread
// count, and the right values.
#include <omp.h>

#include <cmath>
#include <vector>

#include "autograd/kernels/cross_entropy.h"
#include "autograd/random.h"
#include "tests/catch.h"

using namespace qkv;

TEST_CASE("cross_entropy kernel: 16 rows at a time gives the one-row loop's bits, and the loss",
          "[ch14][cross_entropy]") {
  for (int64_t classes : {10, 100, 1000}) {  // within one chunk of 64, several, with a tail
    INFO("classes = " << classes);
    const int64_t rows = 37, ignore = 3;  // two groups of 16, 5 rows left over
    const float smoothing = 0.1f;
    Generator g(classes);
    std::vector<float> x(rows * classes);
    for (float& v : x) v = g.uniform(-8.f, 8.f);
    std::vector<int64_t> t(rows);
    for (int64_t r = 0; r < rows; ++r) t[r] = r % 7 == 0 ? ignore : (r * 13) % classes;
    std::vector<float> loss[2], lse[2];
    const int before = omp_get_max_threads();
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      loss[threads - 1].assign(rows, 0.f);
      lse[threads - 1].assign(rows, 0.f);
      kernels::cross_entropy_forward(loss[threads - 1].data(), lse[threads - 1].data(), x.data(),
                                     t.data(), rows, classes, ignore, smoothing);
    }
    omp_set_num_threads(before);
    CHECK(loss[0] == loss[1]);
    CHECK(lse[0] == lse[1]);
    for (int64_t r = 0; r < rows; ++r) {
      INFO("row " << r);
      float l1 = 0.f, s1 = 0.f;  // the row alone: the one-row code
      kernels::cross_entropy_forward(&l1, &s1, x.data() + r * classes, t.data() + r, 1, classes,
                                     ignore, smoothing);
      CHECK(l1 == loss[0][r]);
      CHECK(s1 == lse[0][r]);
      double m = -1e30, s = 0, total = 0;
      for (int64_t c = 0; c < classes; ++c) m = std::max(m, double(x[r * classes + c]));
      for (int64_t c = 0; c < classes; ++c) {
        s += std::exp(x[r * classes + c] - m);
        total += x[r * classes + c];
      }
      const double want_lse = m + std::log(s);
      CHECK(lse[0][r] == Approx(want_lse).epsilon(1e-5));
      const double want = t[r] == ignore ? 0.0
                                         : want_lse - (1 - smoothing) * x[r * classes + t[r]] -
                                               smoothing / classes * total;
      CHECK(loss[0][r] == Approx(want).margin(1e-4));
    }
  }
}
