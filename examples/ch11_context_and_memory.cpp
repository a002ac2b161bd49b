// Chapter 11: two things the encoder-decoder does that the diagrams only assert.
//
//   1. Contextual vectors: "it" in "… because it was too tired." and in "… because it was too
//      narrow." (seed 004) enters the encoder as the same vector (same token, same position)
//      and leaves it as two different ones, because self-attention mixes in the words around
//      it. A static word vector (an embedding-table row, as word2vec gives) cannot do that.
//   2. Every decoder layer's cross-attention reads the same encoder output: the recorded graph
//      of one decode is searched for the ops that read the encoder's output tensor, and the
//      weights beside it are named.
//
// The model is untrained (random weights, seed 1): section 1 shows that the vectors depend on
// the context, not which word a trained model would link "it" to.
//
//   build/ch11_context_and_memory
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "examples/cli.h"
#include "nn/transformer.h"

using namespace qkv;

namespace {

Tensor ids_tensor(const std::vector<TokenId>& ids) {
  return Tensor::from_vector(std::vector<float>(ids.begin(), ids.end()),
                             {1, static_cast<int64_t>(ids.size())});
}

// Row `pos` of x [1, S, D], as doubles.
std::vector<double> row(const Tensor& x, int64_t pos) {
  const int64_t D = x.size(2);
  const float* p = x.data() + pos * D;
  return std::vector<double>(p, p + D);
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

// The encoder's input for ids [1, S] (what Seq2SeqTransformer::encode builds), then the output
// after each encoder layer: states[0] is the input, states[i] the output of layer i.
std::vector<Tensor> encoder_states(nn::Seq2SeqTransformer& model, const Tensor& ids) {
  const float scale = std::sqrt(static_cast<float>(model.config.d_model));
  Tensor x = model.positions->forward(mul(model.src_embed->forward(ids), scale));
  const Tensor mask = nn::key_padding_mask(Tensor::ones(ids.shape()));
  std::vector<Tensor> states{x};
  for (auto& layer : model.encoder->layers) states.push_back(x = layer->forward(x, mask));
  return states;
}

}  // namespace

int run_chapter() {
  const std::string a = "The animal didn't cross the street because it was too tired.";
  const std::string b = "The animal didn't cross the street because it was too narrow.";
  const auto ta = data::tokenize(a), tb = data::tokenize(b);
  const data::Vocab vocab = data::Vocab::build({ta, tb});

  nn::Seq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = vocab.size();
  c.d_model = 32;
  c.heads = 4;
  c.d_ff = 64;
  c.encoder_layers = c.decoder_layers = 2;
  c.dropout = 0.f;
  c.tie_output = false;
  Generator gen(1);
  nn::Seq2SeqTransformer model(c, gen);
  model.eval();

  std::printf("== 1. The same word in two contexts ==\n");
  std::printf("A: %s\nB: %s\n", a.c_str(), b.c_str());
  int64_t it = 0;
  while (ta[static_cast<size_t>(it)] != "it") ++it;
  std::printf("tokens: %zu each; \"it\" is token %lld in both (counting from 0)\n", ta.size(),
              static_cast<long long>(it));
  const Tensor ids_a = ids_tensor(vocab.encode(ta)), ids_b = ids_tensor(vocab.encode(tb));
  std::vector<Tensor> sa, sb;
  {
    NoGradGuard no_grad;
    sa = encoder_states(model, ids_a);
    sb = encoder_states(model, ids_b);
  }
  const int64_t last = static_cast<int64_t>(ta.size()) - 2;  // "tired" / "narrow"
  std::printf("the vector of \"it\" in A against the vector of \"it\" in B, d_model = %lld:\n",
              static_cast<long long>(c.d_model));
  std::printf("  %-34s %10s %10s\n", "", "distance", "cosine");
  for (size_t i = 0; i < sa.size(); ++i) {
    const std::string where =
        i == 0 ? "input (embedding·√d + position)" : "after encoder layer " + std::to_string(i);
    std::printf("  %-34s %10.4f %10.4f\n", where.c_str(), distance(row(sa[i], it), row(sb[i], it)),
                cosine(row(sa[i], it), row(sb[i], it)));
  }
  std::printf("for comparison, \"%s\" against \"%s\" (token %lld), input: distance %.4f\n",
              ta[static_cast<size_t>(last)].c_str(), tb[static_cast<size_t>(last)].c_str(),
              static_cast<long long>(last), distance(row(sa[0], last), row(sb[0], last)));

  std::printf("\n== 2. Where the encoder output goes in the decoder ==\n");
  Tensor memory;
  {
    NoGradGuard no_grad;  // the encoder output as a plain tensor: the search starts from it
    memory = model.encode(ids_a, Tensor::ones(ids_a.shape()));
  }
  const Tensor tgt = ids_tensor(vocab.encode(tb, true, false));
  const Tensor logits =
      model.decode(tgt, memory, Tensor::ones(ids_a.shape()), Tensor::ones(tgt.shape()));
  std::printf("the encoder output: [%lld, %lld, %lld]; decoder layers: %zu\n",
              static_cast<long long>(memory.size(0)), static_cast<long long>(memory.size(1)),
              static_cast<long long>(memory.size(2)), model.decoder->layers.size());
  std::printf(
      "ops of one decode that read it (the recorded graph, in order), and whose weights:\n");
  const auto params = model.named_parameters();
  int reads = 0, in_cross_attention = 0;
  for (const Tensor& t : topological_order(logits)) {
    const Node* node = t.grad_fn().get();
    if (!node) continue;
    bool reads_memory = false;
    for (const Tensor& in : node->inputs)
      reads_memory = reads_memory || (in.defined() && in.data() == memory.data());
    if (!reads_memory) continue;
    std::string module = "(no weight)";  // the module whose weight the op reads
    for (const Tensor& in : node->inputs)
      for (const auto& [name, p] : params)
        if (in.defined() && in.data() == p.data() && name.size() > 7 &&
            name.compare(name.size() - 7, 7, ".weight") == 0)
          module = name.substr(0, name.size() - 7);
    std::printf("  %-8s %s\n", node->name.c_str(), module.c_str());
    ++reads;
    if (module.find(".cross_attn.") != std::string::npos) ++in_cross_attention;
  }
  std::printf(
      "%d ops read the encoder output, %d of them in a cross-attention; it is the same\n"
      "tensor for every layer (the search compared storage, not values)\n",
      reads, in_cross_attention);
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(
      argc, argv, "ch11_context_and_memory",
      "Chapter 11: two things the encoder-decoder does that the diagrams only assert.",
      run_chapter);
}
