// Which thread computes which rows (kernels/parallel.h, chapter 14's twelfth round): on two
// threads, thread 0 takes the first items and thread 1 the last, so that a row stays on the
// core that wrote it from one op to the next. The split point depends on timing; that each
// thread's items are one run from its own end, and every item is done once, does not.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "autograd/kernels/parallel.h"
#include "autograd/ops.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using qkv::test::rnd;
using qkv::test::ThreadCountGuard;
using qkv::test::two_threads_available;

TEST_CASE("share_items on two threads: thread 0 a run from the first item, thread 1 from the last",
          "[ch14][parallel]") {
  if (!two_threads_available()) {
    WARN("a region asked for 2 threads got 1: nothing to share");
    return;
  }
  for (int64_t n : {1, 2, 3, 7, 64, 1000}) {
    INFO("n = " << n);
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<int> owner(n, -1), times(n, 0);
      kernels::EndClaims claims;
#pragma omp parallel num_threads(2)
      {
        const int t = omp_get_thread_num();
        kernels::share_items(claims, n, t, omp_get_num_threads(), [&](int64_t first, int64_t last) {
          for (int64_t i = first; i < last; ++i) {
            owner[i] = t;
#pragma omp atomic
            ++times[i];
          }
        });
      }
      int64_t split = 0;  // thread 0's items are [0, split), thread 1's [split, n)
      while (split < n && owner[split] == 0) ++split;
      for (int64_t i = 0; i < n; ++i) {
        INFO("item " << i << ", split " << split);
        REQUIRE(times[i] == 1);
        REQUIRE(owner[i] == (i < split ? 0 : 1));
      }
    }
  }
}

namespace {
// How many loops an op shared from both ends on two threads (the counter in parallel.h).
template <class Op>
int64_t loops_shared(Op&& op) {
  ThreadCountGuard guard;
  omp_set_num_threads(2);
  const int64_t before = kernels::loops_shared_from_ends();
  op();
  return kernels::loops_shared_from_ends() - before;
}

// How many b it takes to reach a: ⌈a / b⌉.
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

TEST_CASE(
    "attention, LayerNorm, Add&Norm and cross-entropy share their rows from both ends on two "
    "threads",
    "[ch14][parallel]") {
  if (!two_threads_available()) {
    WARN("a region asked for 2 threads got 1: nothing to share");
    return;
  }
  // Each op opens its region from kParallelMin elements of work (parallel.h; attention from
  // 4·kParallelMin multiply-adds): the sizes below are chosen from it, whatever it is built as.
  const int64_t n = 20, H = 4, hd = 16, D = H * hd;
  SECTION("fused_attention, forward and backward") {
    const int64_t B =
        std::max<int64_t>(16, ceil_div(4 * kernels::kParallelMin, H * n * n * 2 * hd));
    Tensor q = rnd({B, n, D}, 1), k = rnd({B, n, D}, 2), v = rnd({B, n, D}, 3);
    Generator gen(4);
    AttentionOutput r;
    REQUIRE(loops_shared([&] { r = fused_attention(q, k, v, H, Tensor(), 0.f, true, gen); }) == 1);
    Tensor loss = sum(mul(r.output, r.output));
    REQUIRE(loops_shared([&] { loss.backward(); }) == 1);
  }
  SECTION("layer_norm, forward") {
    const int64_t rows = std::max<int64_t>(640, ceil_div(kernels::kParallelMin, D));
    Tensor x = rnd({rows, D}, 5), w = rnd({D}, 6), b = rnd({D}, 7);
    REQUIRE(loops_shared([&] { layer_norm(x, w, b); }) == 1);
  }
  SECTION("dropout_add_layer_norm, forward and backward") {
    const int64_t rows = std::max<int64_t>(640, ceil_div(kernels::kParallelMin, D));
    Tensor x = rnd({rows, D}, 9), res = rnd({rows, D}, 10), w = rnd({D}, 11), b = rnd({D}, 12);
    Generator gen(13);
    Tensor y;
    REQUIRE(loops_shared([&] { y = dropout_add_layer_norm(x, res, 0.1f, true, gen, w, b); }) == 1);
    Tensor loss = sum(mul(y, y));
    REQUIRE(loops_shared([&] { loss.backward(); }) == 1);
  }
  SECTION("cross_entropy, forward and backward") {
    const int64_t classes = 100;
    const int64_t rows = std::max<int64_t>(640, ceil_div(kernels::kParallelMin, classes));
    Tensor logits = rnd({rows, classes}, 8);
    std::vector<float> t(rows);
    for (int64_t r = 0; r < rows; ++r) t[r] = static_cast<float>(r % classes);
    Tensor loss;
    REQUIRE(loops_shared([&] { loss = cross_entropy(logits, Tensor::from_vector(t, {rows})); }) ==
            1);
    REQUIRE(loops_shared([&] { loss.backward(); }) == 1);
  }
}
