// The profiler of chapter 14: which op ran how often, and how much GEMM work it did.
// Time is not tested (it varies run to run); calls and multiply-adds are exact.
#include <map>

#include "autograd/kernels/gemm.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using qkv::test::rnd;

namespace {
std::map<std::string, ProfileEntry> by_name() {
  std::map<std::string, ProfileEntry> m;
  for (const auto& e : profiler_report()) m[e.name] = e;
  return m;
}
struct Profiling {  // on for one test, off and empty afterwards whatever happens
  Profiling() {
    profiler_reset();
    profiler_enable(true);
  }
  ~Profiling() {
    profiler_enable(false);
    profiler_reset();
  }
};
}  // namespace

TEST_CASE("gemm and gemm_batched count M·N·K multiply-adds per product", "[ch14]") {
  std::vector<float> a(6 * 5, 1.f), b(5 * 4, 1.f), c(6 * 4);
  int64_t before = kernels::gemm_macs_done();
  kernels::gemm(false, false, 6, 4, 5, 1.f, a.data(), 5, b.data(), 4, 0.f, c.data(), 4);
  CHECK(kernels::gemm_macs_done() - before == 6 * 4 * 5);
  std::vector<float> cb(3 * 2 * 4);
  before = kernels::gemm_macs_done();
  kernels::gemm_batched(3, false, false, 2, 4, 5, 1.f, a.data(), 5, 10, b.data(), 4, 0, 0.f,
                        cb.data(), 4, 8);
  CHECK(kernels::gemm_macs_done() - before == 3 * 2 * 4 * 5);
  before = kernels::gemm_macs_done();
  kernels::gemm(false, false, 6, 4, 0, 1.f, a.data(), 5, b.data(), 4, 0.f, c.data(),
                4);  // K = 0: no work
  CHECK(kernels::gemm_macs_done() - before == 0);
}

TEST_CASE("the profiler charges each op its own calls and GEMM work, forward and backward",
          "[ch14]") {
  Profiling on;
  Tensor x = rnd({5, 7}, 1).set_requires_grad(true);
  Tensor w = rnd({3, 7}, 2).set_requires_grad(true);
  Tensor bias = rnd({3}, 3).set_requires_grad(true);
  Tensor y = linear(x, w, bias);  // [5, 7]·[7, 3]: 105 multiply-adds
  Tensor s = sum(relu(y));
  s.backward();  // dX = dY·W and dW = dYᵀ·X: 105 each
  auto m = by_name();
  REQUIRE(m.count("linear") == 1);
  CHECK(m["linear"].calls == 1);
  CHECK(m["linear"].gemm_macs == 5 * 3 * 7);
  REQUIRE(m.count("linear (backward)") == 1);
  CHECK(m["linear (backward)"].gemm_macs == 2 * 5 * 3 * 7);
  CHECK(m["relu"].calls == 1);
  CHECK(m["relu"].gemm_macs == 0);  // element-wise: no GEMM
  CHECK(m["sum (backward)"].calls == 1);
}

TEST_CASE("a batched matmul is charged batch·M·N·K, and nothing is recorded when off", "[ch14]") {
  {
    Profiling on;
    Tensor q = rnd({4, 3, 8}, 4), keys = rnd({4, 8, 6}, 5);
    matmul(q, keys);
    auto m = by_name();
    REQUIRE(m.count("matmul") == 1);
    CHECK(m["matmul"].gemm_macs == 4 * 3 * 6 * 8);
  }
  matmul(rnd({2, 2}, 6), rnd({2, 2}, 7));
  CHECK(profiler_report().empty());
}
