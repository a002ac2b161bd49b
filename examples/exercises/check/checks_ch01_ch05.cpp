// Checks of the exercises of chapters 01–05: broadcasting, matmul, GELU, Embedding, softmax
// and cross-entropy. Every case is a fixed seed and a shape chosen to be awkward.
#include <limits>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "examples/exercises/check/checks.h"
#include "examples/exercises/check/harness.h"

namespace qkv::exercises::checks {

void unbroadcast(const Answers& a) {
  // (the broadcast gradient's shape, the input's shape): leading dims added, 1s stretched,
  // a scalar, and nothing to do at all.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {3, 1}}, {{4, 1, 5}, {4, 1, 5}},       {{3, 5}, {}},
      {{1, 1, 3}, {1, 3}}, {{2, 3, 1, 6}, {2, 1, 1, 6}}, {{5, 2}, {1, 1}}};
  uint64_t seed = 100;
  for (const auto& [from, to] : cases) {
    const Tensor g = random_tensor(from, seed++);
    expect_close("unbroadcast(grad " + shape_str(from) + ", " + shape_str(to) + ")",
                 qkv::sum_to(g, to), a.unbroadcast(g.clone(), to));
  }
}

void matmul_backward(const Answers& a) {
  // Plain 2-D; one b for a [2, 3] batch; a batch of one (and n = 1) against four; a gains a
  // leading dim while b's batch of [1, 1] is shared by all three.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 4}, {4, 5}}, {{2, 3, 3, 4}, {4, 5}}, {{1, 1, 3}, {4, 3, 2}}, {{3, 2, 5}, {1, 1, 5, 3}}};
  uint64_t seed = 110;
  for (const auto& [sa, sb] : cases) {
    Inputs in{{"a", "b"},
              {random_tensor(sa, seed, -1, 1, true), random_tensor(sb, seed + 1, -1, 1, true)}};
    seed += 2;
    expect_backward(
        "matmul_backward", in, [](const std::vector<Tensor>& x) { return qkv::matmul(x[0], x[1]); },
        [&](const std::vector<Tensor>& x, const Tensor& dc) {
          const MatmulGrads g = a.matmul_backward(x[0], x[1], dc);
          return std::vector<Tensor>{g.da, g.db};
        });
  }
}

// Values spread over GELU's curved part, plus its far tails.
Tensor gelu_input(const Shape& s, uint64_t seed, bool grad) {
  Tensor x = random_tensor(s, seed, -4.f, 4.f);
  const float tails[] = {-12.f, -0.f, 12.f};
  for (int i = 0; i < 3 && i < x.numel(); ++i) x.data()[i] = tails[i];
  x.set_requires_grad(grad);
  return x;
}

void gelu_forward(const Answers& a) {
  for (const Shape& s : {Shape{3, 1, 7}, Shape{1}, Shape{2, 5}}) {
    const Tensor x = gelu_input(s, 120 + s.size(), false);
    expect_close("gelu_forward(x " + shape_str(s) + ")", qkv::gelu(x), a.gelu_forward(x.clone()));
  }
}

void gelu_backward(const Answers& a) {
  for (const Shape& s : {Shape{3, 1, 7}, Shape{1}, Shape{2, 5}}) {
    Inputs in{{"x"}, {gelu_input(s, 130 + s.size(), true)}};
    expect_backward(
        "gelu_backward", in, [](const std::vector<Tensor>& x) { return qkv::gelu(x[0]); },
        [&](const std::vector<Tensor>& x, const Tensor& dy) {
          return std::vector<Tensor>{a.gelu_backward(x[0], dy)};
        });
  }
}

struct EmbeddingCase {
  Shape table, ids;
  int64_t padding_idx;
};
const EmbeddingCase kEmbeddingCases[] = {
    {{7, 5}, {2, 3}, 0}, {{4, 1}, {1}, -1}, {{6, 3}, {3, 1, 4}, 5}, {{1, 2}, {2, 2}, -1}};

// Ids that repeat (so rows must be added, not assigned) and hit the padding row.
Tensor embedding_ids(const EmbeddingCase& c, uint64_t seed) {
  Tensor ids = random_ids(c.ids, seed, c.table[0]);
  if (ids.numel() >= 2) ids.data()[1] = ids.data()[0];
  if (c.padding_idx >= 0 && ids.numel() >= 3) ids.data()[2] = static_cast<float>(c.padding_idx);
  return ids;
}

void embedding_forward(const Answers& a) {
  uint64_t seed = 140;
  for (const EmbeddingCase& c : kEmbeddingCases) {
    const Tensor table = random_tensor(c.table, seed++), ids = embedding_ids(c, seed++);
    expect_close(
        "embedding_forward(table " + shape_str(c.table) + ", ids " + shape_str(c.ids) + ")",
        qkv::embedding(table, ids), a.embedding_forward(table.clone(), ids.clone()));
  }
}

void embedding_backward(const Answers& a) {
  uint64_t seed = 150;
  for (const EmbeddingCase& c : kEmbeddingCases) {
    Inputs in{{"table", "ids"},
              {random_tensor(c.table, seed, -1, 1, true), embedding_ids(c, seed + 1)}};
    seed += 2;
    const int64_t pad = c.padding_idx, rows = c.table[0];
    // The padding row is read by the forward, but by definition gets no gradient: for the
    // central differences, the forward zeroes the padded positions (which changes nothing
    // else), so that the numeric gradient of the padding row is 0 too.
    expect_backward(
        "embedding_backward (padding_idx " + std::to_string(pad) + ")", in,
        [pad](const std::vector<Tensor>& x) {
          Tensor real = Tensor::empty(x[1].shape());
          for (int64_t i = 0; i < real.numel(); ++i) real.data()[i] = x[1].data()[i] != pad;
          return mul(qkv::embedding(x[0], x[1], pad), reshape(real, [&] {
                       Shape s = x[1].shape();
                       s.push_back(1);
                       return s;
                     }()));
        },
        [&](const std::vector<Tensor>& x, const Tensor& dy) {
          return std::vector<Tensor>{a.embedding_backward(x[1], dy, rows, pad), Tensor()};
        });
  }
}

void softmax_forward(const Answers& a) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const Shape& s : {Shape{3, 1, 7}, Shape{1, 5}, Shape{4, 1}}) {
    Tensor x = random_tensor(s, 160 + s.size(), -3.f, 3.f);
    const std::string what = "softmax_forward(x " + shape_str(s) + ")";
    expect_close(what, qkv::softmax(x), a.softmax_forward(x.clone()));
    // Logits near ±1000 overflow exp() unless the row's maximum is subtracted first.
    for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] *= 400.f;
    expect_close(what + " with logits up to ±1200", qkv::softmax(x), a.softmax_forward(x.clone()));
    // A −∞ logit (a masked key) gets weight exactly 0.
    if (x.size(-1) > 1) {
      x.data()[0] = -inf;
      // (atol 1e-30: a weight of e^-100 may underflow differently in float and in double.)
      expect_close(what + " with a −inf logit at [0]", qkv::softmax(x),
                   a.softmax_forward(x.clone()), {1e-30, 1e-4});
    }
  }
}

void softmax_backward(const Answers& a) {
  for (const Shape& s : {Shape{3, 1, 7}, Shape{1, 5}, Shape{4, 1}}) {
    Inputs in{{"x"}, {random_tensor(s, 170 + s.size(), -2.f, 2.f, true)}};
    expect_backward(
        "softmax_backward", in, [](const std::vector<Tensor>& x) { return qkv::softmax(x[0]); },
        [&](const std::vector<Tensor>& x, const Tensor& dy) {
          return std::vector<Tensor>{a.softmax_backward(qkv::softmax(x[0]), dy)};
        });
  }
}

struct CrossEntropyCase {
  Shape logits;
  std::vector<float> targets;
  int64_t ignore_index;
  float smoothing;
};
const CrossEntropyCase kCrossEntropyCases[] = {
    {{5, 4}, {0, 3, -100, 1, 2}, -100, 0.f},  // one row ignored
    {{5, 4}, {0, 3, -100, 1, 2}, -100, 0.1f},
    {{4, 3}, {0, 2, 0, 1}, 0, 0.2f},  // the ignored id is a real class: padding
    {{1, 1}, {0}, -100, 0.3f},        // one class: the loss is 0 whatever ε
    {{3, 6}, {0, 0, 0}, 0, 0.1f},     // every row ignored: the loss is 0
};

void cross_entropy_forward(const Answers& a) {
  uint64_t seed = 180;
  for (const CrossEntropyCase& c : kCrossEntropyCases) {
    Tensor logits = random_tensor(c.logits, seed++, -3.f, 3.f);
    logits.data()[0] = 90.f;  // exp(90) overflows a float: take no log of a probability
    const Tensor targets = Tensor::from_vector(c.targets, {c.logits[0]});
    const std::string what = "cross_entropy_forward(logits " + shape_str(c.logits) +
                             ", ignore_index " + std::to_string(c.ignore_index) + ", ε " +
                             std::to_string(c.smoothing).substr(0, 3) + ")";
    expect_close(
        what, qkv::cross_entropy(logits, targets, c.ignore_index, c.smoothing).item(),
        a.cross_entropy_forward(logits.clone(), targets.clone(), c.ignore_index, c.smoothing));
  }
}

void cross_entropy_backward(const Answers& a) {
  uint64_t seed = 190;
  for (const CrossEntropyCase& c : kCrossEntropyCases) {
    Inputs in{{"logits", "targets"},
              {random_tensor(c.logits, seed++, -2.f, 2.f, true),
               Tensor::from_vector(c.targets, {c.logits[0]})}};
    const int64_t ignore = c.ignore_index;
    const float eps = c.smoothing;
    expect_backward(
        "cross_entropy_backward (ignore_index " + std::to_string(ignore) + ", ε " +
            std::to_string(eps).substr(0, 3) + ")",
        in,
        [=](const std::vector<Tensor>& x) { return qkv::cross_entropy(x[0], x[1], ignore, eps); },
        [&](const std::vector<Tensor>& x, const Tensor& dloss) {
          return std::vector<Tensor>{
              a.cross_entropy_backward(x[0], x[1], ignore, eps, dloss.item()), Tensor()};
        });
  }
}

}  // namespace qkv::exercises::checks
