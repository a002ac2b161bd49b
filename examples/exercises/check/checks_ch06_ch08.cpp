// Checks of the exercises of chapters 06–08: the worked example, the GRU cell, heads, masks
// and attention's backward.
#include "autograd/ops.h"
#include "examples/exercises/check/checks.h"
#include "examples/exercises/check/harness.h"
#include "nn/attention.h"
#include "nn/attention_scores.h"
#include "nn/gru.h"

namespace qkv::exercises::checks {

namespace {

// Chapter 06's worked example as qkv computes it: projections, scaled dot scores, attend.
Tensor worked_example_by_qkv(const std::vector<Tensor>& x) {
  const Tensor q = matmul(x[0], x[1]), k = matmul(x[0], x[2]), v = matmul(x[0], x[3]);
  return nn::attend(nn::attention_scores(q, k, nn::Score::ScaledDot), v).output;
}

// The article's two tokens (chapter 06, section 4), then other sizes: one token, d ≠ dk ≠ dv.
std::vector<Inputs> worked_example_cases(uint64_t seed) {
  const auto t = [](std::vector<float> v, Shape s) { return Tensor::from_vector(v, s, true); };
  std::vector<Inputs> cases;
  cases.push_back({{"a", "w_q", "w_k", "w_v"},
                   {t({1, 1, 1, 0}, {2, 2}), t({1, 1, 0, 1}, {2, 2}), t({0, 1, 1, -1}, {2, 2}),
                    t({0, 1, 1, -1}, {2, 2})}});
  for (const auto& [n, d, dk, dv] :
       std::vector<std::array<int64_t, 4>>{{3, 4, 3, 5}, {1, 2, 1, 3}}) {
    cases.push_back(
        {{"a", "w_q", "w_k", "w_v"},
         {random_tensor({n, d}, seed, -1, 1, true), random_tensor({d, dk}, seed + 1, -1, 1, true),
          random_tensor({d, dk}, seed + 2, -1, 1, true),
          random_tensor({d, dv}, seed + 3, -1, 1, true)}});
    seed += 4;
  }
  return cases;
}

}  // namespace

void worked_example_forward(const Answers& a) {
  for (const Inputs& in : worked_example_cases(200)) {
    const auto& x = in.values;
    expect_close(
        "worked_example_forward(a " + shape_str(x[0].shape()) + ")", worked_example_by_qkv(x),
        a.worked_example_forward(x[0].detach(), x[1].detach(), x[2].detach(), x[3].detach()));
  }
}

void worked_example_backward(const Answers& a) {
  for (const Inputs& in : worked_example_cases(210))
    expect_backward("worked_example_backward", in, worked_example_by_qkv,
                    [&](const std::vector<Tensor>& x, const Tensor& db) {
                      const WorkedExampleGrads g =
                          a.worked_example_backward(x[0], x[1], x[2], x[3], db);
                      return std::vector<Tensor>{g.da, g.dw_q, g.dw_k, g.dw_v};
                    });
}

void gru_cell(const Answers& a) {
  uint64_t seed = 220;
  for (const auto& [B, D, H] : std::vector<std::array<int64_t, 3>>{{3, 5, 4}, {1, 1, 2}}) {
    Inputs in{
        {"x", "h", "weight_ih", "weight_hh", "bias_ih", "bias_hh"},
        {random_tensor({B, D}, seed, -2, 2, true), random_tensor({B, H}, seed + 1, -1, 1, true),
         random_tensor({3 * H, D}, seed + 2, -1, 1, true),
         random_tensor({3 * H, H}, seed + 3, -1, 1, true),
         random_tensor({3 * H}, seed + 4, -1, 1, true),
         random_tensor({3 * H}, seed + 5, -1, 1, true)}};
    seed += 6;
    expect_same_op(
        "gru_cell", in,
        [D = D, H = H](const std::vector<Tensor>& x) {
          Generator unused(0);
          nn::GRUCell cell(D, H, unused);
          cell.weight_ih = x[2], cell.weight_hh = x[3], cell.bias_ih = x[4], cell.bias_hh = x[5];
          return cell.forward(x[0], x[1]);
        },
        [&](const std::vector<Tensor>& x) {
          return a.gru_cell(x[0], x[1], x[2], x[3], x[4], x[5]);
        });
  }
}

namespace {
const std::array<int64_t, 4> kHeadCases[] = {
    {2, 5, 3, 2}, {1, 1, 4, 1}, {3, 2, 1, 5}};  // B, T, heads, d

Tensor split_by_qkv(const Tensor& x, int64_t heads) {
  return permute(reshape(x, {x.size(0), x.size(1), heads, x.size(2) / heads}), {0, 2, 1, 3});
}
}  // namespace

void split_heads(const Answers& a) {
  uint64_t seed = 230;
  for (const auto& [B, T, heads, d] : kHeadCases) {
    Inputs in{{"x"}, {random_tensor({B, T, heads * d}, seed++, -1, 1, true)}};
    const int64_t h = heads;
    expect_same_op(
        "split_heads (heads " + std::to_string(h) + ")", in,
        [h](const std::vector<Tensor>& x) { return split_by_qkv(x[0], h); },
        [&](const std::vector<Tensor>& x) { return a.split_heads(x[0], h); });
  }
}

void merge_heads(const Answers& a) {
  uint64_t seed = 240;
  for (const auto& [B, T, heads, d] : kHeadCases) {
    Inputs in{{"x"}, {random_tensor({B, heads, T, d}, seed++, -1, 1, true)}};
    expect_same_op(
        "merge_heads", in,
        [](const std::vector<Tensor>& x) {
          const Tensor m = permute(x[0], {0, 2, 1, 3});
          return reshape(m, {m.size(0), m.size(1), m.size(2) * m.size(3)});
        },
        [&](const std::vector<Tensor>& x) { return a.merge_heads(x[0]); });
  }
}

namespace {
// keep [B, m]: a full row, a row with padding at the end, and a row that is all padding
// (every query of it then sees no key at all).
Tensor keep_rows(int64_t m) {
  Tensor keep = Tensor::ones({3, m});
  keep.at({1, m - 1}) = 0.f;
  for (int64_t j = 0; j < m; ++j) keep.at({2, j}) = 0.f;
  if (m > 2) keep.at({0, 0}) = 0.f;  // with a causal mask, query 0 of row 0 sees nothing
  return keep;
}

Tensor mask_by_qkv(const Tensor& keep, int64_t n, bool causal) {
  const int64_t m = keep.size(1);
  return nn::combine_masks(causal ? nn::causal_mask(n) : Tensor::ones({n, m}),
                           nn::key_padding_mask(keep));
}
}  // namespace

void attention_mask(const Answers& a) {
  for (const auto& [n, m, causal] : std::vector<std::tuple<int64_t, int64_t, bool>>{
           {4, 4, true}, {3, 5, false}, {1, 1, true}, {2, 1, false}}) {
    const Tensor keep = keep_rows(m);
    expect_close("attention_mask(keep " + shape_str(keep.shape()) + ", n " + std::to_string(n) +
                     (causal ? ", causal)" : ", not causal)"),
                 mask_by_qkv(keep, n, causal), a.attention_mask(keep.clone(), n, causal));
  }
}

void masked_softmax(const Answers& a) {
  // scores [B, heads, n, m] with a [B, 1, n, m] mask; a plain [n, m] with a zero row; [1, 1].
  Tensor rows = Tensor::ones({3, 5});
  for (int64_t j = 0; j < 5; ++j) rows.at({1, j}) = 0.f;
  rows.at({2, 0}) = rows.at({2, 3}) = 0.f;
  const std::vector<std::pair<Shape, Tensor>> cases = {
      {{3, 2, 4, 4}, mask_by_qkv(keep_rows(4), 4, true)},
      {{3, 5}, rows},
      {{1, 1}, Tensor::zeros({1, 1})}};
  uint64_t seed = 250;
  for (const auto& [shape, mask] : cases) {
    Inputs in{{"scores", "mask"}, {random_tensor(shape, seed++, -3, 3, true), mask}};
    expect_same_op(
        "masked_softmax", in,
        [](const std::vector<Tensor>& x) {
          return nn::attend(x[0], Tensor::zeros({x[0].size(-1), 1}), x[1]).weights;
        },
        [&](const std::vector<Tensor>& x) { return a.masked_softmax(x[0], x[1]); });
  }
}

void attention_backward(const Answers& a) {
  Tensor m1 = Tensor::ones({2, 3, 5});  // [B, n, m]: a fully masked row, and stray zeros
  for (int64_t j = 0; j < 5; ++j) m1.at({1, 0, j}) = 0.f;
  m1.at({0, 1, 4}) = m1.at({0, 2, 0}) = m1.at({1, 2, 2}) = 0.f;
  const Tensor causal = mul(nn::causal_mask(3), Tensor::ones({2, 2, 3, 3}));  // [B, heads, n, n]
  // q, k, v shapes and the mask: n ≠ m and dk ≠ dv; no mask; four dims with a causal mask.
  const std::vector<std::tuple<Shape, Shape, Shape, Tensor>> cases = {
      {{2, 3, 4}, {2, 5, 4}, {2, 5, 6}, m1},
      {{1, 1, 2}, {1, 1, 2}, {1, 1, 1}, Tensor()},
      {{2, 2, 3, 4}, {2, 2, 3, 4}, {2, 2, 3, 2}, causal}};
  uint64_t seed = 260;
  for (const auto& [sq, sk, sv, mask] : cases) {
    Inputs in{
        {"q", "k", "v", "mask"},
        {random_tensor(sq, seed, -1.5, 1.5, true), random_tensor(sk, seed + 1, -1.5, 1.5, true),
         random_tensor(sv, seed + 2, -1, 1, true), mask}};
    seed += 3;
    expect_backward(
        "attention_backward", in,
        [](const std::vector<Tensor>& x) {
          return nn::scaled_dot_product_attention(x[0], x[1], x[2], x[3]).output;
        },
        [&](const std::vector<Tensor>& x, const Tensor& dout) {
          const AttentionGrads g = a.attention_backward(x[0], x[1], x[2], x[3], dout);
          return std::vector<Tensor>{g.dq, g.dk, g.dv, Tensor()};
        });
  }
}

}  // namespace qkv::exercises::checks
