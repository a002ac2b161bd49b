// Chapter 15: the same blocks elsewhere. One stack of EncoderLayer blocks becomes
//   encoder-only (BERT-like): bidirectional self-attention, no mask
//   decoder-only (GPT-like):  the same blocks with a causal mask, no cross-attention
//
//   1. who can see whom: change one input token, see which outputs move
//   2. a masked-token task (fill in the blank) learned by both: the causal model cannot
//      fill a blank that has nothing to its left
//   3. next-token prediction and generation with the causal model
//
// The toy language: counting modulo 10, e.g. "7 8 9 0 1 2". Ids 0-9 are the digits,
// 10 is [MASK], 11 is <bos>.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "examples/cli.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "nn/transformer.h"

using namespace qkv;
using namespace qkv::nn;

namespace {

constexpr int64_t kVocab = 12, kMask = 10, kBos = 11, kLen = 6, kDim = 32;

// Embedding·√d + positions → N × EncoderLayer → logits through the tied embedding.
class StackOnly : public Module {
 public:
  StackOnly(bool causal, Generator& gen) : causal(causal) {
    TransformerOptions o;
    o.d_model = kDim;
    o.heads = 4;
    o.d_ff = 64;
    o.dropout = 0.f;
    embed = register_module("embed", std::make_shared<Embedding>(kVocab, kDim, gen));
    xavier_uniform_(embed->weight, gen);
    positions =
        register_module("positions", std::make_shared<PositionalEncoding>(16, kDim, false, gen));
    stack = register_module("stack", std::make_shared<Encoder>(o, 2, gen));
    out_bias = register_parameter("out_bias", Tensor::zeros({kVocab}));
  }
  // ids [B, T] → logits [B, T, vocab]
  Tensor forward(const Tensor& ids) {
    const int64_t T = ids.size(1);
    Tensor x = positions->forward(mul(embed->forward(ids), std::sqrt(static_cast<float>(kDim))));
    Tensor h = stack->forward(x, causal ? causal_mask(T) : Tensor());  // the ONLY difference
    return linear(h, embed->weight, out_bias);
  }
  bool causal;
  std::shared_ptr<Embedding> embed;
  std::shared_ptr<PositionalEncoding> positions;
  std::shared_ptr<Encoder> stack;
  Tensor out_bias;
};

void who_sees_whom() {
  std::printf("== 1. change input token 3 of 6: which outputs move? ==\n");
  for (bool causal : {false, true}) {
    Generator gen(1);
    StackOnly model(causal, gen);
    NoGradGuard no_grad;
    Tensor a = model.forward(Tensor::from_vector({1, 2, 3, 4, 5, 6}, {1, 6}));
    Tensor b = model.forward(Tensor::from_vector({1, 2, 3, 9, 5, 6}, {1, 6}));
    std::printf("%s outputs changed:",
                causal ? "decoder-only (causal mask) " : "encoder-only (no mask)     ");
    for (int64_t t = 0; t < kLen; ++t) {
      float d = 0.f;
      for (int64_t v = 0; v < kVocab; ++v)
        d = std::fmax(d, std::fabs(a.data()[t * kVocab + v] - b.data()[t * kVocab + v]));
      std::printf(" %d", d > 0.f ? 1 : 0);
    }
    std::printf("\n");
  }
  std::printf("\n");
}

std::vector<float> counting(Generator& gen) {
  std::vector<float> s(kLen);
  const int64_t start = static_cast<int64_t>(gen.randint(10));
  for (int64_t t = 0; t < kLen; ++t) s[t] = static_cast<float>((start + t) % 10);
  return s;
}

void fill_in_the_blank() {
  std::printf("== 2. fill in the blank: one token of 6 replaced by [MASK], predict it ==\n");
  std::printf("%-40s%s\n", "blanks filled right (of 10) at position",
              "     0     1     2     3     4     5");
  for (bool causal : {false, true}) {
    Generator gen(2);
    StackOnly model(causal, gen);
    Adam opt(model.parameters(), 3e-3f);
    Generator data(3);
    const int64_t B = 16;
    nn::fit(opt, 150, [&](int64_t) {
      std::vector<float> ids, labels;
      for (int64_t b = 0; b < B; ++b) {
        std::vector<float> s = counting(data);
        const int64_t p = static_cast<int64_t>(data.randint(kLen));
        for (int64_t t = 0; t < kLen; ++t) {
          ids.push_back(t == p ? kMask : s[t]);
          labels.push_back(t == p ? s[t] : -100.f);  // only the blank is scored
        }
      }
      Tensor logits = model.forward(Tensor::from_vector(ids, {B, kLen}));
      return cross_entropy(reshape(logits, {-1, kVocab}), Tensor::from_vector(labels, {B * kLen}),
                           -100);
    });
    NoGradGuard no_grad;
    int right[kLen] = {0};
    for (int64_t p = 0; p < kLen; ++p)
      for (int64_t start = 0; start < 10; ++start) {
        std::vector<float> ids(kLen);
        for (int64_t t = 0; t < kLen; ++t)
          ids[t] = t == p ? kMask : static_cast<float>((start + t) % 10);
        Tensor logits = model.forward(Tensor::from_vector(ids, {1, kLen}));
        const float* row = logits.data() + p * kVocab;
        right[p] += std::max_element(row, row + kVocab) - row == (start + p) % 10;
      }
    std::printf("%-40s", causal ? "decoder-only (sees the left side only)"
                                : "encoder-only (sees both sides)");
    for (int64_t p = 0; p < kLen; ++p) std::printf("%6d", right[p]);
    std::printf("\n");
  }
  std::printf("\n");
}

void next_token() {
  std::printf("== 3. decoder-only: predict the next token, then generate ==\n");
  Generator gen(4);
  StackOnly model(/*causal=*/true, gen);
  Adam opt(model.parameters(), 3e-3f);
  Generator data(5);
  const int64_t B = 16;
  const float last = nn::fit(opt, 100, [&](int64_t) {
                       std::vector<float> ids, labels;
                       for (int64_t b = 0; b < B; ++b) {
                         std::vector<float> s = counting(data);
                         // input <bos> x0 … x4, labels x0 … x5: every position predicts the next
                         ids.push_back(kBos);
                         ids.insert(ids.end(), s.begin(), s.end() - 1);
                         labels.insert(labels.end(), s.begin(), s.end());
                       }
                       Tensor logits = model.forward(Tensor::from_vector(ids, {B, kLen}));
                       return cross_entropy(reshape(logits, {-1, kVocab}),
                                            Tensor::from_vector(labels, {B * kLen}), -100);
                     }).loss;
  // The floor: the first token after <bos> is a free choice, ln 10 per sequence of 6 tokens.
  const double floor = std::log(10.0) / 6;
  std::printf("loss after 100 steps: %s the floor ln(10)/6 = %.3f\n",
              std::fabs(last - floor) < 0.1 ? "within 0.1 of" : "more than 0.1 away from", floor);
  NoGradGuard no_grad;
  std::vector<float> ids = {kBos, 7};
  std::printf("prompt: <bos> 7   generated:");
  while (static_cast<int64_t>(ids.size()) < 12) {
    const int64_t T = static_cast<int64_t>(ids.size());
    Tensor logits = model.forward(Tensor::from_vector(ids, {1, T}));
    const float* row = logits.data() + (T - 1) * kVocab;
    const int64_t next = std::max_element(row, row + kVocab) - row;
    std::printf(" %lld", static_cast<long long>(next));
    ids.push_back(static_cast<float>(next));
  }
  std::printf("\n(trained on 6 tokens; positions 6-10 were never seen in training)\n");
}

}  // namespace

int run_chapter() {
  who_sees_whom();
  fill_in_the_blank();
  next_token();
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch15_encoder_decoder_only",
      "Chapter 15: the same blocks elsewhere: encoder-only and decoder-only stacks.", run_chapter);
}
