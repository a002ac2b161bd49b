// Chapter 11: the whole Transformer.
//
//   1. the paper's base model built for real, its parameters counted per component by
//      walking named_parameters(), against the 65M the paper reports
//   2. what one encoder layer and one decoder layer hold, and one encoder layer run on
//      "512 × 512": 512 tokens, each 512 wide, in and out
//   3. "machine learning" → "机器学习": teacher forcing in training, token by token in generation
//   4. the feed-forward layer read as attention over a fixed key-value memory
//   5. a tiny model learns to copy
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "autograd/graph_writer.h"
#include "examples/cli.h"
#include "examples/plot/figure_file.h"
#include "examples/report.h"
#include "nn/decoding.h"
#include "nn/optim.h"
#include "nn/train.h"
#include "nn/transformer.h"

using namespace qkv;
using namespace qkv::nn;

namespace {

using report::bound;

std::string component(const std::string& name) {
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  const std::string side = has("encoder.") ? "encoder " : has("decoder.") ? "decoder " : "";
  if (has("embed")) return "embeddings (source = target = output)";
  if (has("output_bias") || has("output.")) return "output bias";
  if (has("positions")) return "learned positions";
  if (has("cross_attn")) return side + "cross-attention";
  if (has("self_attn")) return side + "self-attention";
  if (has("ffn")) return side + "feed-forward";
  if (has("norm")) return side + "LayerNorms";
  return "other: " + name;
}

// The same count from the formulas of chapters 04, 07, 10 (used for the big model, which
// would need 850 MB to build).
int64_t formula_count(int64_t V, int64_t d, int64_t dff, int64_t N) {
  const int64_t mha = 4 * (d * d + d), ffn = d * dff + dff + dff * d + d, ln = 2 * d;
  return V * d + N * (mha + ffn + 2 * ln) + N * (2 * mha + ffn + 3 * ln) + V;
}

// "512 × 512" (seed 000): one encoder layer of the base model on 512 tokens of width 512.
// The first 512 is the sequence length, the second d_model; a layer keeps both.
void encoder_layer_512() {
  TransformerOptions o;
  o.d_model = 512;
  o.heads = 8;
  o.d_ff = 2048;
  o.dropout = 0.f;
  Generator gen(5);
  EncoderLayer layer(o, gen);
  Tensor x = Tensor::randn({1, 512, 512}, gen);  // [B = 1, tokens 512, d_model 512]
  NoGradGuard no_grad;
  reset_macs();
  layer.self_attn->forward(x, x, x);  // the first sub-block alone, to count it
  const int64_t attn_macs = macs();
  reset_macs();
  Tensor y = layer.forward(x, Tensor());  // [1, 512, 512]
  const int64_t total = macs();
  std::printf("one encoder layer run on 512 tokens, each a vector of width d_model = 512:\n");
  std::printf("  input %s -> output %s\n", shape_str(x.shape()).c_str(),
              shape_str(y.shape()).c_str());
  std::printf(
      "  multiply-accumulates: %lld in all, self-attention %lld; its part that grows with tokens²\n"
      "  (q·kᵀ and weights·v) is 2·n²·d = %lld\n",
      static_cast<long long>(total), static_cast<long long>(attn_macs),
      static_cast<long long>(2LL * 512 * 512 * 512));
}

void parameter_count() {
  std::printf(
      "== 1. the base model: d_model 512, 8 heads, d_ff 2048, N = 6, 37000 shared tokens ==\n");
  Seq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = 37000;
  c.d_model = 512;
  c.heads = 8;
  c.d_ff = 2048;
  c.encoder_layers = c.decoder_layers = 6;
  c.share_embeddings = true;
  c.tie_output = true;
  Generator gen(0);
  Seq2SeqTransformer model(c, gen);
  std::vector<std::string> order;
  std::map<std::string, int64_t> counts;
  int64_t total = 0;
  for (auto& [name, p] : model.named_parameters()) {
    const std::string k = component(name);
    if (!counts.count(k)) order.push_back(k);
    counts[k] += p.numel();
    total += p.numel();
  }
  std::stable_partition(order.begin(), order.end(),
                        [](const std::string& k) { return k != "output bias"; });
  for (const auto& k : order)
    std::printf("  %-40s %12lld  %5.1f%%\n", k.c_str(), static_cast<long long>(counts[k]),
                100.0 * counts[k] / total);
  std::printf("  %-40s %12lld\n", "total (walking named_parameters)",
              static_cast<long long>(total));
  std::printf("  %-40s %12lld\n", "model.num_parameters()",
              static_cast<long long>(model.num_parameters()));
  std::printf("  %-40s %12lld\n", "the formula",
              static_cast<long long>(formula_count(37000, 512, 2048, 6)));
  std::printf("  paper: 65M; qkv: %.1fM, %+.1f%%\n", total / 1e6, 100.0 * (total - 65e6) / 65e6);
  std::printf(
      "  the big model (d_model 1024, 16 heads, d_ff 4096), by the formula: %.1fM (paper: "
      "213M)\n\n",
      formula_count(37000, 1024, 4096, 6) / 1e6);

  std::printf("== 2. one encoder layer and one decoder layer of it ==\n");
  for (auto& [name, p] : model.named_parameters())
    if (name.find("layers.0.") != std::string::npos)
      std::printf("  %-42s %s\n", name.c_str(), shape_str(p.shape()).c_str());
  encoder_layer_512();
  std::printf("\n");
}

// --- 3. a toy translator ------------------------------------------------------------------

const std::vector<std::string> kSrcWords = {"<pad>",    "<bos>", "<eos>",      "machine",
                                            "learning", "deep",  "translation"};
const std::vector<std::string> kTgtChars = {"<pad>", "<bos>", "<eos>", "机", "器", "学",
                                            "习",    "深",    "度",    "翻", "译"};

void machine_learning() {
  std::printf("== 3. \"machine learning\" -> \"机器学习\" ==\n");
  // Three pairs, so the decoder has to look at the source to know what comes next.
  const std::vector<std::vector<int64_t>> src = {{3, 4}, {5, 4}, {3, 6}};
  const std::vector<std::vector<int64_t>> tgt = {{3, 4, 5, 6}, {7, 8, 5, 6}, {3, 4, 9, 10}};
  const int64_t B = 3, S = 2, T = 5;
  std::vector<float> s, tin, tout;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t id : src[b]) s.push_back(static_cast<float>(id));
    tin.push_back(1);
    for (int64_t id : tgt[b]) {
      tin.push_back(static_cast<float>(id));
      tout.push_back(static_cast<float>(id));
    }
    tout.push_back(2);
  }
  Tensor src_ids = Tensor::from_vector(s, {B, S}), src_keep = Tensor::ones({B, S});
  Tensor tgt_in = Tensor::from_vector(tin, {B, T}), tgt_keep = Tensor::ones({B, T});
  Tensor tgt_out = Tensor::from_vector(tout, {B * T});
  std::printf(
      "teacher forcing, pair 0: the decoder reads the shifted target and predicts every next token "
      "at once\n");
  std::printf("  decoder input :");
  for (int64_t t = 0; t < T; ++t) std::printf(" %s", kTgtChars[static_cast<int>(tin[t])].c_str());
  std::printf("\n  labels        :");
  for (int64_t t = 0; t < T; ++t) std::printf(" %s", kTgtChars[static_cast<int>(tout[t])].c_str());
  std::printf("\n  (position t sees inputs 0..t only: causal_mask(5))\n");

  Seq2SeqConfig c;
  c.src_vocab = 7;
  c.tgt_vocab = 11;
  c.d_model = 16;
  c.heads = 2;
  c.d_ff = 32;
  c.encoder_layers = c.decoder_layers = 1;
  c.max_len = 8;
  c.dropout = 0.f;
  Generator gen(3);
  Seq2SeqTransformer model(c, gen);
  Adam opt(model.parameters(), 0.01f);
  const float loss_value =
      nn::fit(opt, 60, [&](int64_t) {
        Tensor logits = model.forward(src_ids, src_keep, tgt_in,
                                      tgt_keep);  // [3, 5, 11]
        return cross_entropy(reshape(logits, {-1, c.tgt_vocab}), tgt_out, 0);
      }).loss;
  std::printf("trained on the three pairs for 60 steps: loss %s\n",
              loss_value < 0.05f ? "below 0.05" : "above 0.05 (!)");

  std::printf("generation: no target to read, so one token at a time, each fed back in\n");
  NoGradGuard no_grad;
  model.eval();
  Tensor one_src = Tensor::from_vector({3, 4}, {1, 2});
  Tensor memory = model.encode(one_src, Tensor::ones({1, 2}));  // the encoder runs once
  std::vector<float> prefix = {1};
  for (int step = 1; step <= 6; ++step) {
    const int64_t L = static_cast<int64_t>(prefix.size());
    Tensor logits = model.decode(Tensor::from_vector(prefix, {1, L}), memory, Tensor::ones({1, 2}),
                                 Tensor::ones({1, L}));
    Tensor p = softmax(reshape(slice(logits, 1, L - 1, L), {1, c.tgt_vocab}), -1);
    const float* pv = p.data();
    const int64_t best = std::max_element(pv, pv + c.tgt_vocab) - pv;
    std::printf("  step %d: input", step);
    for (float id : prefix) std::printf(" %s", kTgtChars[static_cast<int>(id)].c_str());
    std::printf("  ->  %s (p %s)\n", kTgtChars[best].c_str(), pv[best] > 0.9f ? "> 0.9" : "<= 0.9");
    if (best == 2) break;
    prefix.push_back(static_cast<float>(best));
  }
  std::printf("\n");
}

void ffn_as_memory() {
  std::printf("== 4. the feed-forward layer as a key-value memory (d 8, d_ff 32) ==\n");
  Generator gen(4);
  FeedForward ffn(8, 32, gen);
  Tensor x = Tensor::randn({1, 8}, gen);
  NoGradGuard no_grad;
  Tensor y = ffn.forward(x);
  // FFN(x) = Σᵢ ReLU(x·kᵢ + b1ᵢ)·vᵢ + b2, keys kᵢ = rows of W1, values vᵢ = columns of W2.
  const Tensor& W1 = ffn.linear1->weight;  // [32, 8]
  const Tensor& W2 = ffn.linear2->weight;  // [8, 32]
  std::vector<float> coef(32), out(8);
  for (int i = 0; i < 32; ++i) {
    float sc = ffn.linear1->bias.data()[i];
    for (int j = 0; j < 8; ++j) sc += x.data()[j] * W1.data()[i * 8 + j];
    coef[i] = sc > 0.f ? sc : 0.f;
  }
  float worst = 0.f;
  for (int j = 0; j < 8; ++j) {
    float acc = ffn.linear2->bias.data()[j];
    for (int i = 0; i < 32; ++i) acc += coef[i] * W2.data()[j * 32 + i];
    worst = std::fmax(worst, std::fabs(acc - y.data()[j]));
  }
  int active = 0;
  float total = 0.f;
  for (float a : coef) {
    active += a > 0.f;
    total += a;
  }
  std::printf("max |FFN(x) - Σ ReLU(x·k_i + b_i)·v_i - b2| %s\n", bound(worst).c_str());
  std::printf(
      "memory slots used by this x: %d of 32; the coefficients sum to %.3f (softmax would give "
      "1)\n\n",
      active, total);
}

// --- 5. the copy task ----------------------------------------------------------------------

// Why the first loss is above ln V: the untrained model's logits are not equal. The output
// layer is tied to the embedding, logits = h·Eᵀ + b with h the last LayerNorm's output
// (length ≈ √d_model) and E's rows Xavier-random, so every row of logits is spread out and
// its top token, a random one, gets far more than 1/V.
void initial_logits(const Tensor& logits, int64_t V) {  // logits [B, T, V]
  const int64_t rows = logits.numel() / V;
  const float* z = logits.data();
  double spread = 0.0, top = 0.0;
  for (int64_t r = 0; r < rows; ++r, z += V) {
    double mean = 0.0, var = 0.0, sum_exp = 0.0;
    for (int64_t j = 0; j < V; ++j) mean += z[j] / static_cast<double>(V);
    for (int64_t j = 0; j < V; ++j) var += (z[j] - mean) * (z[j] - mean) / static_cast<double>(V);
    const float zmax = *std::max_element(z, z + V);
    for (int64_t j = 0; j < V; ++j) sum_exp += std::exp(static_cast<double>(z[j] - zmax));
    spread += std::sqrt(var);
    top += 1.0 / sum_exp;  // softmax of the largest logit
  }
  std::printf(
      "      (step 1: each row of logits has std %.2f across the %lld tokens, and its top token\n"
      "       gets p = %.2f on average, against 1/%lld = %.2f for a uniform guess; ln %lld = "
      "%.2f)\n",
      spread / static_cast<double>(rows), static_cast<long long>(V),
      top / static_cast<double>(rows), static_cast<long long>(V), 1.0 / static_cast<double>(V),
      static_cast<long long>(V), std::log(static_cast<double>(V)));
}

void copy_task() {
  std::printf("== 5. a tiny model learns to copy 6 symbols (d_model 32, 4 heads, 2+2 layers) ==\n");
  Seq2SeqConfig c;
  c.src_vocab = c.tgt_vocab = 13;  // <pad> <bos> <eos> and 10 symbols
  c.d_model = 32;
  c.heads = 4;
  c.d_ff = 64;
  c.encoder_layers = c.decoder_layers = 2;
  c.max_len = 16;
  c.dropout = 0.f;
  Generator gen(11);
  Seq2SeqTransformer model(c, gen);
  Adam opt(model.parameters(), 3e-3f, 0.9f, 0.98f, 1e-9f);
  Generator data(12);
  const int64_t B = 32, L = 6;
  auto sample = [&](std::vector<float>& seq) {
    seq.resize(L);
    for (auto& v : seq) v = static_cast<float>(3 + data.randint(10));
  };
  std::printf("step   loss\n");
  Tensor logits;  // [B, L + 1, V] of the latest step
  nn::LoopOptions loop;
  loop.on_step = [&](const nn::StepResult& r) {
    if (r.step == 1 || r.step % 50 == 0)
      std::printf("%4lld  %5.2f\n", static_cast<long long>(r.step), r.loss);
    if (r.step == 1) initial_logits(logits, c.tgt_vocab);
  };
  nn::fit(
      opt, 250,
      [&](int64_t) {
        std::vector<float> s, tin, tout, seq;
        for (int64_t b = 0; b < B; ++b) {
          sample(seq);
          s.insert(s.end(), seq.begin(), seq.end());
          tin.push_back(1);
          tin.insert(tin.end(), seq.begin(), seq.end());
          tout.insert(tout.end(), seq.begin(), seq.end());
          tout.push_back(2);
        }
        logits = model.forward(Tensor::from_vector(s, {B, L}), Tensor::ones({B, L}),
                               Tensor::from_vector(tin, {B, L + 1}), Tensor::ones({B, L + 1}));
        return cross_entropy(reshape(logits, {-1, c.tgt_vocab}),
                             Tensor::from_vector(tout, {B * (L + 1)}), 0);
      },
      loop);
  // 100 fresh sequences, decoded greedily.
  std::vector<std::vector<int64_t>> tests;
  std::vector<float> seq;
  for (int i = 0; i < 100; ++i) {
    sample(seq);
    tests.emplace_back(seq.begin(), seq.end());
  }
  DecodeOptions o;
  o.max_len = L + 2;
  auto hyps = greedy_decode(model, tests, o);
  int exact = 0, right = 0;
  for (size_t i = 0; i < tests.size(); ++i) {
    exact += hyps[i].tokens == tests[i];
    for (int64_t t = 0; t < L; ++t)
      right += t < static_cast<int64_t>(hyps[i].tokens.size()) && hyps[i].tokens[t] == tests[i][t];
  }
  std::printf(
      "greedy decoding of 100 new sequences: %d%% of tokens right, %d of 100 copied exactly\n",
      right * 100 / static_cast<int>(tests.size() * L), exact);
}

// `ch11_transformer` prints sections 1-4; `ch11_transformer copy` runs section 5, whose
// loss curve drifts in its last digits from compiler to compiler (see chapter 10).
// docs/img/ch11_encoder_layer_graph.svg: one post-norm encoder layer (d_model 8, 2 heads,
// d_ff 16, 3 tokens) after backward, its attention and feed-forward folded into one box each.
void write_figures(const char* dir) {
  TransformerOptions o;
  o.d_model = 8;
  o.heads = 2;
  o.d_ff = 16;
  o.dropout = 0.f;
  Generator gen(11);
  EncoderLayer layer(o, gen);
  // Drawn as its three ops (dropout, add, layer_norm); training runs them as one,
  // dropout_add_layer_norm, with the same numbers (chapter 14).
  layer.add_norm1->fused = layer.add_norm2->fused = false;
  Tensor x = Tensor::randn({1, 3, 8}, gen, 0.f, 1.f, true);  // [B = 1, S = 3, D = 8]
  // EncoderLayer::forward, spelled out so that each sub-layer's input and output are at hand.
  Tensor a_in, a_out, f_in, f_out;
  Tensor h = layer.add_norm1->forward(x, [&](const Tensor& t) {
    a_in = t;
    return a_out = layer.self_attn->forward(t, t, t);
  });
  Tensor y = layer.add_norm2->forward(h, [&](const Tensor& t) {
    f_in = t;
    return f_out = layer.ffn->forward(t);
  });
  Tensor r = Tensor::randn({1, 3, 8}, gen);
  Tensor loss = sum(y * r);
  GraphWriter g(loss);
  g.fold(a_out, {a_in}, "self-attention").fold(f_out, {f_in}, "feed-forward");
  g.name(x, "x").name(h, "h").name(y, "y").name(r, "R").name(loss, "loss");
  for (auto& [name, p] : layer.named_parameters())
    if (name.rfind("add_norm", 0) == 0) g.name(p, name);  // the others are inside the folds
  loss.backward();
  plot::write_figure(dir, "ch11_encoder_layer_graph.svg",
                     g.svg("one encoder layer (post-norm), loss = sum(y ⊙ R), after backward"));
}

int run(int argc, char** argv) {
  app::ArgParser args("ch11_transformer",
                      "The whole Transformer: its parameters, one step of machine learning, the "
                      "FFN\nas a memory (sections 1-4), or a tiny model learning to copy "
                      "(section 5: `copy`).");
  args.positional("copy", "run section 5 instead");
  std::string figures;
  args.option("--figures", "DIR", "write the chapter's figure (an encoder layer's graph) into DIR",
              figures);
  if (!args.parse(argc, argv)) return 0;
  if (!figures.empty()) {
    write_figures(figures.c_str());
    return 0;
  }
  const auto& pos = args.positionals();
  if (pos.size() > 1 || (pos.size() == 1 && pos[0] != "copy"))
    throw app::UsageError("the only argument is 'copy'");
  if (!pos.empty()) {
    copy_task();
    return 0;
  }
  parameter_count();
  machine_learning();
  ffn_as_memory();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return app::run_app("ch11_transformer", run, argc, argv, /*runtime_settings=*/false);
}
