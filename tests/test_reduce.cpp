// The column sums of autograd/kernels/reduce.h: a Linear layer's bias gradient, shared among
// the threads of a region by columns and summed 64 columns at a time where a thread's share
// allows (chapter 14). Every column must come out as the plain loop's sum, bit for bit, for
// every width, thread count and split.
#include <omp.h>

#include <cstring>
#include <vector>

#include "autograd/kernels/reduce.h"
#include "autograd/random.h"
#include "tests/catch.h"

using namespace qkv;

TEST_CASE("sum_rows_into_part gives each column's in-order sum, on any share of the columns",
          "[ch14][reduce]") {
  const int64_t rows = 53;
  // Widths below one chunk of 16, between chunks, one wide group of 64, groups and a tail.
  for (int64_t n : {1, 15, 16, 40, 64, 100, 128, 200, 512}) {
    Generator g(static_cast<uint64_t>(n));
    std::vector<float> a(static_cast<size_t>(rows * n)), start(static_cast<size_t>(n));
    // A large common offset: the sum then depends on the order of every addition.
    for (float& v : a) v = g.uniform(999.f, 1001.f) * (g.uniform(0.f, 1.f) < .5f ? -1.f : 1.f);
    for (float& v : start) v = g.uniform(-1.f, 1.f);
    for (bool add : {false, true}) {
      std::vector<float> expect(static_cast<size_t>(n));
      for (int64_t j = 0; j < n; ++j) {  // the definition: sum from 0 over r in order, then add
        float acc = 0.f;
        for (int64_t r = 0; r < rows; ++r) acc += a[r * n + j];
        expect[j] = add ? start[j] + acc : acc;
      }
      for (int threads : {1, 2, 3, 5}) {
        INFO("n " << n << " add " << add << " threads " << threads);
        std::vector<float> out = start;
        // The shares one after another: what each thread of a region would do.
        for (int t = 0; t < threads; ++t)
          kernels::sum_rows_into_part(out.data(), a.data(), rows, n, t, threads, add);
        CHECK(std::memcmp(out.data(), expect.data(), out.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("sum_rows_into_part in a real region matches one thread", "[ch14][reduce]") {
  const int64_t rows = 640, n = 128;  // a bias gradient of the small model
  Generator g(7);
  std::vector<float> a(static_cast<size_t>(rows * n));
  for (float& v : a) v = g.uniform(-1.f, 1.f);
  std::vector<float> one(static_cast<size_t>(n), 0.f), two(static_cast<size_t>(n), 0.f);
  kernels::sum_rows_into_part(one.data(), a.data(), rows, n, 0, 1, false);
#pragma omp parallel num_threads(2)
  kernels::sum_rows_into_part(two.data(), a.data(), rows, n, omp_get_thread_num(),
                              omp_get_num_threads(), false);
  CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}
