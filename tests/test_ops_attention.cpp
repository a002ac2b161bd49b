// The fused attention op and its kernel (chapter 14): the fast kernel against its slow
// reference, the op against the same attention built from separate ops, finite differences,
// and the same bits on 1 and 2 threads.
#include <omp.h>

#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "autograd/kernels/attention.h"
#include "autograd/kernels/dropout.h"
#include "nn/attention.h"
#include "tests/catch.h"
#include "tests/helpers.h"

using namespace qkv;
using qkv::test::max_abs_diff;
using qkv::test::rnd;

namespace {
// Masks as the Transformer builds them: key padding [B, 1, 1, m], and causal ∧ padding
// [B, 1, n, n]. Row 0 of batch 0 sees no key at all in the padding-only mask when dead_row.
Tensor padding_keep(int64_t B, int64_t m) {
  Tensor keep = Tensor::ones({B, m});
  for (int64_t b = 0; b < B; b += 2)
    for (int64_t j = m - 1 - b % (m - 1); j < m; ++j) keep.at({b, j}) = 0.f;
  return keep;
}

struct Case {
  int64_t B, H, n, m, dk, dv;
};

// Run the kernels on random data; fill `out` with o, weights, dq, dk, dv. keep_used = false:
// with dropout, U is not stored (used == nullptr) and the backward pass recomputes it.
void run_kernels(const Case& c, bool fast, bool with_drop, const kernels::AttentionMask& km,
                 std::vector<std::vector<float>>& out, bool keep_used = true) {
  Generator g(5);
  Tensor q = Tensor::uniform({c.B, c.n, c.H * c.dk}, g, -2, 2);
  Tensor k = Tensor::uniform({c.B, c.m, c.H * c.dk}, g, -2, 2);
  Tensor v = Tensor::uniform({c.B, c.m, c.H * c.dv}, g, -2, 2);
  Tensor d_o = Tensor::uniform({c.B, c.n, c.H * c.dv}, g, -2, 2);
  kernels::AttentionDims d{c.B,
                           c.H,
                           c.n,
                           c.m,
                           c.dk,
                           c.dv,
                           c.H * c.dk,
                           c.H * c.dk,
                           c.H * c.dv,
                           c.H * c.dv,
                           1.f / std::sqrt(float(c.dk))};
  const int64_t np = c.B * c.H * c.n * c.m;
  std::vector<float> drop(np), w(np), used(np), o(c.B * c.n * c.H * c.dv);
  if (with_drop) kernels::dropout_mask(drop.data(), np, 0.3f, 99);
  std::vector<float> dq(q.numel(), 0.5f), dk(k.numel(), 0.5f), dv(v.numel(), 0.5f);  // += onto
  auto fwd = fast ? kernels::attention_forward : kernels::attention_forward_reference;
  auto bwd = fast ? kernels::attention_backward : kernels::attention_backward_reference;
  const float* dp = with_drop ? drop.data() : nullptr;
  float* up = with_drop && keep_used ? used.data() : nullptr;
  fwd(d, q.data(), k.data(), v.data(), km, dp, w.data(), up, o.data());
  bwd(d, q.data(), k.data(), v.data(), dp, w.data(), up, d_o.data(), dq.data(), dk.data(),
      dv.data());
  out = {o, w, dq, dk, dv};
}

// The same for a mask tensor [B, 1, n or 1, m].
void run_kernels(const Case& c, bool fast, bool with_drop, const Tensor& mask,
                 std::vector<std::vector<float>>& out) {
  kernels::AttentionMask km;
  if (mask.defined()) {
    km.p = mask.data();
    km.sb = mask.size(2) * c.m;
    km.si = mask.size(2) == 1 ? 0 : c.m;
    km.sj = 1;
  }
  run_kernels(c, fast, with_drop, km, out);
}

void require_close(const std::vector<std::vector<float>>& fast,
                   const std::vector<std::vector<float>>& slow) {
  for (size_t t = 0; t < fast.size(); ++t)
    for (size_t i = 0; i < fast[t].size(); ++i) {
      INFO("output " << t << " element " << i);
      REQUIRE(fast[t][i] == Approx(slow[t][i]).margin(2e-5).epsilon(1e-5));
    }
}
}  // namespace

TEST_CASE("fused attention kernel equals its slow reference", "[ch14][attention]") {
  // m = 10, 17, 33: rows that are not whole vectors; dk ≠ dv; one case fast enough to thread.
  const Case cases[] = {
      {2, 3, 4, 10, 5, 7}, {3, 2, 17, 17, 16, 16}, {2, 4, 9, 33, 8, 12}, {8, 4, 20, 20, 16, 16}};
  for (const Case& c : cases)
    for (int variant = 0; variant < 4; ++variant) {
      const bool with_drop = variant & 1, causal = variant & 2;
      Tensor mask = padding_keep(c.B, c.m);
      mask = reshape(mask, {c.B, 1, 1, c.m});
      if (causal && c.n == c.m) mask = mul(mask, reshape(nn::causal_mask(c.n), {1, 1, c.n, c.n}));
      INFO("B " << c.B << " H " << c.H << " n " << c.n << " m " << c.m << " drop " << with_drop
                << " causal " << causal);
      std::vector<std::vector<float>> fast, slow;
      run_kernels(c, true, with_drop, mask, fast);
      run_kernels(c, false, with_drop, mask, slow);
      require_close(fast, slow);
    }
}

TEST_CASE("fused attention kernel equals its reference on every path", "[ch14][attention]") {
  // The compiled head widths 16, 32, 64 and the generic one; query counts that leave the
  // last block of rows partly empty (n = 1, 5, 9); m = 20 and 33 (not whole vectors). Masks
  // read through every stride the op produces: none; one row per (b, h) broadcast over the
  // queries (sj = 1, si = 0); one value per query broadcast over the keys (sj = 0), which
  // masks whole rows; a full [B, H, n, m] mask (sh, si, sj all set) with dead rows too.
  const Case cases[] = {{2, 2, 5, 20, 16, 16},
                        {2, 2, 9, 33, 32, 32},
                        {2, 1, 1, 20, 64, 64},
                        {1, 2, 9, 20, 64, 64},
                        {2, 2, 5, 33, 24, 24}};
  for (const Case& c : cases) {
    std::vector<float> per_key(c.B * c.m), per_query(c.B * c.n), full(c.B * c.H * c.n * c.m);
    for (size_t i = 0; i < per_key.size(); ++i) per_key[i] = i % 7 == 3 ? 0.f : 1.f;
    for (size_t i = 0; i < per_query.size(); ++i) per_query[i] = i % 3 == 0 ? 0.f : 1.f;
    for (size_t i = 0; i < full.size(); ++i) full[i] = i % 5 == 2 ? 0.f : 1.f;
    for (int64_t i = 0; i < c.m; ++i) full[i] = 0.f;  // row 0 of (0, 0): every key masked
    std::vector<kernels::AttentionMask> masks(4);
    masks[1] = {per_key.data(), c.m, 0, 0, 1};
    masks[2] = {per_query.data(), c.n, 0, 1, 0};
    masks[3] = {full.data(), c.H * c.n * c.m, c.n * c.m, c.m, 1};
    for (size_t mk = 0; mk < masks.size(); ++mk)
      for (bool with_drop : {false, true}) {
        INFO("B " << c.B << " H " << c.H << " n " << c.n << " m " << c.m << " dk " << c.dk
                  << " mask " << mk << " drop " << with_drop);
        std::vector<std::vector<float>> fast, slow, fast_no_u, slow_no_u;
        run_kernels(c, true, with_drop, masks[mk], fast);
        run_kernels(c, false, with_drop, masks[mk], slow);
        require_close(fast, slow);
        // U recomputed in the backward pass: the same bits as U kept (the reference too)
        run_kernels(c, true, with_drop, masks[mk], fast_no_u, false);
        run_kernels(c, false, with_drop, masks[mk], slow_no_u, false);
        REQUIRE(fast_no_u == fast);
        REQUIRE(slow_no_u == slow);
        if (mk >= 2) REQUIRE((fast[0][0] == 0.f && fast[1][0] == 0.f));  // row 0 dead: all 0
      }
  }
}

TEST_CASE("fused_attention equals split heads + scaled_dot_product_attention + merge",
          "[ch14][attention]") {
  const int64_t B = 3, n = 5, m = 7, H = 2, hd = 4;
  Tensor mask = reshape(padding_keep(B, m), {B, 1, 1, m});
  for (bool training : {false, true}) {
    // The composition, op by op (nn/attention.h), with its own Dropout drawing the same mask.
    std::vector<Tensor> a{rnd({B, n, H * hd}, 1), rnd({B, m, H * hd}, 2), rnd({B, m, H * hd}, 3)};
    nn::Dropout drop(0.25f, 42);
    drop.train(training);
    auto split = [&](const Tensor& t, int64_t len) {
      return permute(reshape(t, {B, len, H, hd}), {0, 2, 1, 3});
    };
    nn::AttentionResult r = nn::scaled_dot_product_attention(split(a[0], n), split(a[1], m),
                                                             split(a[2], m), mask, &drop);
    Tensor composed = reshape(permute(r.output, {0, 2, 1, 3}), {B, n, H * hd});
    // The fused op on copies of the same inputs, with a generator in the same state.
    std::vector<Tensor> b;
    for (auto& t : a) b.push_back(t.clone().set_requires_grad(true));
    Generator gen(42);
    AttentionOutput f = fused_attention(b[0], b[1], b[2], H, mask, 0.25f, training, gen);
    INFO("training " << training);
    REQUIRE(max_abs_diff(f.output, composed) < 1e-5f);
    REQUIRE(max_abs_diff(f.weights, r.weights) < 1e-6f);
    Generator rg(8);
    Tensor w = Tensor::uniform(composed.shape(), rg, -1, 1);
    sum(mul(composed, w)).backward();
    sum(mul(f.output, w)).backward();
    for (int i = 0; i < 3; ++i) REQUIRE(max_abs_diff(a[i].grad(), b[i].grad()) < 1e-5f);
  }
}

TEST_CASE("fused_attention passes gradcheck, with a mask, with and without dropout",
          "[ch14][attention][gradcheck]") {
  const int64_t B = 2, n = 3, m = 4, H = 2;
  Tensor mask = reshape(padding_keep(B, m), {B, 1, 1, m});
  for (float p : {0.f, 0.3f}) {
    INFO("dropout " << p);
    // A fresh generator per call: every evaluation drops the same weights.
    auto f = [&](const std::vector<Tensor>& x) {
      Generator gen(3);
      return fused_attention(x[0], x[1], x[2], H, mask, p, true, gen).output;
    };
    GradcheckResult r =
        gradcheck(f, {rnd({B, n, H * 3}, 4), rnd({B, m, H * 3}, 5), rnd({B, m, H * 2}, 6)});
    INFO(r.message);
    REQUIRE(r.ok);
  }
}

TEST_CASE("fused_attention gives the same bits on 1 and 2 threads", "[ch14][attention]") {
  const int64_t B = 16, n = 20, m = 20, H = 4, hd = 16;  // enough work to open a region
  Tensor mask = reshape(padding_keep(B, m), {B, 1, 1, m});
  std::vector<float> res[2];
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; ++t) {
    omp_set_num_threads(t + 1);
    Tensor q = rnd({B, n, H * hd}, 1), k = rnd({B, m, H * hd}, 2), v = rnd({B, m, H * hd}, 3);
    Generator gen(9);
    Tensor o = fused_attention(q, k, v, H, mask, 0.1f, true, gen).output;
    sum(mul(o, o)).backward();
    res[t] = o.to_vector();
    for (const Tensor& x : {q, k, v})
      for (float g : x.grad().to_vector()) res[t].push_back(g);
  }
  omp_set_num_threads(saved);
  REQUIRE(res[0] == res[1]);
}

TEST_CASE("fused_attention names the shapes at fault", "[ch14][attention]") {
  Generator gen(1);
  Tensor q = Tensor::zeros({2, 3, 8}), k = Tensor::zeros({2, 4, 8}), v = Tensor::zeros({2, 4, 6});
  REQUIRE_THROWS_WITH(fused_attention(q, Tensor::zeros({2, 4, 6}), v, 2, Tensor(), 0, false, gen),
                      Catch::Contains("q [2, 3, 8], k [2, 4, 6]"));
  REQUIRE_THROWS_WITH(fused_attention(q, k, v, 3, Tensor(), 0, false, gen),
                      Catch::Contains("not divisible by heads = 3"));
  REQUIRE_THROWS_WITH(fused_attention(q, k, v, 2, Tensor::ones({2, 1, 3, 5}), 0, false, gen),
                      Catch::Contains("mask [2, 1, 3, 5] does not broadcast"));
}
