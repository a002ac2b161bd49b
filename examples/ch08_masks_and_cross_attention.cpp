// Chapter 08: self- versus cross-attention, and masks.
//
//   1. self-attention (n×n weights) and cross-attention (n×m) side by side, with two
//      sequences of different lengths AND widths: 4 text tokens of width 8 attending to
//      5 "image patch" features of width 12
//   2. the cost: n·m·d multiply-accumulates against n²·d, counted by qkv::macs()
//   3. causal and padding masks as 0/1 matrices, and the weights they produce
//   4. a query whose keys are all masked: a row of zeros, never NaN
//   5. garbage in padded positions changes nothing at the real positions
//   6. SelfDoc's variant: queries and values from one sequence, keys from the other
//   7. Diffusers' CrossAttention with its documented defaults (8 heads of 64, no q/k/v bias):
//      image features of width 320 attending to a text encoding of width 768
#include <cmath>
#include <cstdio>
#include <string>

#include "autograd/counters.h"
#include "autograd/engine.h"
#include "examples/cli.h"
#include "examples/plot/figure_file.h"
#include "examples/plot/heatmap.h"
#include "nn/attention.h"
#include "nn/transformer.h"

using namespace qkv;
using namespace qkv::nn;

namespace {

// Print the [rows, cols] matrix that starts at element `offset` of t.
void print_block(const char* name, const Tensor& t, int64_t offset, int64_t rows, int64_t cols,
                 bool as_int = false) {
  std::printf("%s\n", name);
  for (int64_t i = 0; i < rows; ++i) {
    std::printf("  ");
    for (int64_t j = 0; j < cols; ++j) {
      const float v = t.data()[offset + i * cols + j];
      if (as_int)
        std::printf(" %d", static_cast<int>(v));
      else
        std::printf(" %7.4f", v);
    }
    std::printf("\n");
  }
}

float max_abs_diff(const Tensor& a, const Tensor& b, int64_t begin, int64_t end) {
  float m = 0.f;
  for (int64_t i = begin; i < end; ++i) m = std::fmax(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}

void self_versus_cross() {
  std::printf("== 1. self- versus cross-attention ==\n");
  Generator gen(8);
  Tensor text = Tensor::randn({1, 4, 8}, gen);      // 4 tokens, width 8
  Tensor patches = Tensor::randn({1, 5, 12}, gen);  // 5 image patches, width 12
  MultiHeadAttention self_attn(MultiHeadAttentionOptions{8, 8, 2, 4}, gen);
  MultiHeadAttention cross_attn(MultiHeadAttentionOptions{8, 12, 2, 4}, gen);
  AttentionResult sr = self_attn.forward_with_weights(text, text, text);
  AttentionResult cr = cross_attn.forward_with_weights(text, patches, patches);
  const Tensor &s = sr.output, &c = cr.output;
  std::printf("self : query %s, key/value %s -> weights %s, output %s\n",
              shape_str(text.shape()).c_str(), shape_str(text.shape()).c_str(),
              shape_str(sr.weights.shape()).c_str(), shape_str(s.shape()).c_str());
  std::printf("cross: query %s, key/value %s -> weights %s, output %s\n",
              shape_str(text.shape()).c_str(), shape_str(patches.shape()).c_str(),
              shape_str(cr.weights.shape()).c_str(), shape_str(c.shape()).c_str());
  for (auto& [name, p] : cross_attn.named_parameters())
    std::printf("  cross_attn.%-9s %s\n", name.c_str(), shape_str(p.shape()).c_str());
  print_block("self-attention weights, head 0 (4 queries × 4 keys):", sr.weights, 0, 4, 4);
  print_block("cross-attention weights, head 0 (4 text queries × 5 patch keys):", cr.weights, 0, 4,
              5);
  std::printf("\n");
}

void cost() {
  std::printf("== 2. cost: multiply-accumulates of softmax(q·kᵀ/√d)·v, d = 64 ==\n");
  const int64_t d = 64;
  Generator gen(9);
  auto count = [&](int64_t n, int64_t m) {
    Tensor q = Tensor::randn({n, d}, gen), k = Tensor::randn({m, d}, gen),
           v = Tensor::randn({m, d}, gen);
    NoGradGuard no_grad;
    reset_macs();
    scaled_dot_product_attention(q, k, v);
    return macs();
  };
  struct Case {
    const char* what;
    int64_t n, m;
  };
  for (Case c :
       {Case{"self,  n = m = 64      ", 64, 64}, Case{"self,  n = m = 128     ", 128, 128},
        Case{"cross, n = 64, m = 16  ", 64, 16}, Case{"cross, n = 64, m = 256 ", 64, 256},
        Case{"cross, n = 32, m = 1024", 32, 1024}, Case{"self,  n = m = 1024    ", 1024, 1024}})
    std::printf("%s  %10lld MACs  (2·n·m·d = %lld)\n", c.what,
                static_cast<long long>(count(c.n, c.m)), static_cast<long long>(2 * c.n * c.m * d));
  std::printf(
      "32 latent queries over 1024 inputs cost 1/32 of self-attention over the inputs.\n\n");
}

void masks() {
  std::printf("== 3. masks (1 = may attend, 0 = blocked) ==\n");
  Tensor causal = causal_mask(4);
  print_block("causal_mask(4):", causal, 0, 4, 4, true);
  Tensor keep = Tensor::from_vector({1, 1, 1, 1,  //
                                     1, 1, 0, 0},
                                    {2, 4});
  Tensor pad = key_padding_mask(keep);
  std::printf("key_padding_mask of lengths 4 and 2: shape %s\n", shape_str(pad.shape()).c_str());
  Tensor both = combine_masks(causal, pad);  // [2, 1, 4, 4]
  print_block("causal AND padding, sequence 1 (length 2):", both, 16, 4, 4, true);
  Generator gen(10);
  Tensor q = Tensor::randn({2, 1, 4, 8}, gen), k = Tensor::randn({2, 1, 4, 8}, gen),
         v = Tensor::randn({2, 1, 4, 8}, gen);
  AttentionResult r = scaled_dot_product_attention(q, k, v, both);
  print_block("weights, sequence 0 (causal only):", r.weights, 0, 4, 4);
  print_block("weights, sequence 1 (causal and keys 2, 3 padded):", r.weights, 16, 4, 4);
  int exact_zeros = 0, blocked = 0;
  for (int64_t i = 0; i < both.numel(); ++i)
    if (both.data()[i] == 0.f) {
      ++blocked;
      exact_zeros += r.weights.data()[i] == 0.f;
    }
  std::printf("blocked entries: %d, with weight exactly 0: %d\n\n", blocked, exact_zeros);
}

void all_masked_row() {
  std::printf("== 4. a query with no key to attend to ==\n");
  // A left-padded sequence under a causal mask: query 0 may only see key 0, a pad.
  Tensor keep = Tensor::from_vector({0, 1, 1, 1}, {1, 4});
  Tensor mask = combine_masks(causal_mask(4), key_padding_mask(keep));
  print_block("mask (row 0 is all zeros):", mask, 0, 4, 4, true);
  Generator gen(11);
  Tensor q = Tensor::randn({1, 1, 4, 2}, gen, 0, 1, true),
         k = Tensor::randn({1, 1, 4, 2}, gen, 0, 1, true);
  Tensor v = Tensor::randn({1, 1, 4, 2}, gen, 0, 1, true);
  AttentionResult r = scaled_dot_product_attention(q, k, v, mask);
  sum(r.output).backward();
  print_block("weights:", r.weights, 0, 4, 4);
  print_block("output (row 0 is zeros):", r.output, 0, 4, 2);
  int nans = 0;
  for (const Tensor* t : {&r.weights, &r.output})
    for (int64_t i = 0; i < t->numel(); ++i) nans += std::isnan(t->data()[i]);
  for (const Tensor* t : {&q, &k, &v})
    for (int64_t i = 0; i < t->numel(); ++i) nans += std::isnan(t->grad().data()[i]);
  std::printf("NaNs in weights, output and the gradients of q, k, v: %d\n\n", nans);
}

void garbage_in_padding() {
  std::printf("== 5. garbage in padded positions ==\n");
  Generator gen(12);
  // (a) cross-attention: 5 patch slots, only 3 are real.
  MultiHeadAttention cross_attn(MultiHeadAttentionOptions{8, 12, 2, 4}, gen);
  Tensor text = Tensor::randn({1, 4, 8}, gen);
  Tensor patches = Tensor::randn({1, 5, 12}, gen);
  Tensor mask = key_padding_mask(Tensor::from_vector({1, 1, 1, 0, 0}, {1, 5}));
  Tensor junk = patches.clone();
  for (int64_t i = 3 * 12; i < 5 * 12; ++i) junk.data()[i] = 1000.f * gen.normal();
  NoGradGuard no_grad;
  Tensor a = cross_attn.forward(text, patches, patches, mask);
  Tensor b = cross_attn.forward(text, junk, junk, mask);
  std::printf("cross-attention, padded patches 3-4 replaced by N(0, 1000²) junk:\n");
  std::printf("  max |change| over all 4 query outputs: %g\n", max_abs_diff(a, b, 0, a.numel()));
  // (b) a whole encoder layer (attention, Add&Norm, feed-forward): token 3 is padding.
  TransformerOptions o;
  o.d_model = 8;
  o.heads = 2;
  o.d_ff = 16;
  o.dropout = 0.f;
  EncoderLayer layer(o, gen);
  layer.eval();
  Tensor x = Tensor::randn({1, 4, 8}, gen);
  Tensor xj = x.clone();
  for (int64_t i = 3 * 8; i < 4 * 8; ++i) xj.data()[i] = 1000.f * gen.normal();
  Tensor emask = key_padding_mask(Tensor::from_vector({1, 1, 1, 0}, {1, 4}));
  Tensor ya = layer.forward(x, emask), yb = layer.forward(xj, emask);
  std::printf("encoder layer, padded token 3 replaced by junk:\n");
  std::printf("  max |change| at real tokens 0-2: %g\n", max_abs_diff(ya, yb, 0, 3 * 8));
  std::printf(
      "  max |change| at the pad token 3: %.4f (its output is junk, and ignored by the loss)\n\n",
      max_abs_diff(ya, yb, 3 * 8, 4 * 8));
}

void selfdoc_variant() {
  std::printf("== 6. SelfDoc's variant: query and value from A, key from B ==\n");
  Generator gen(13);
  // A: 4 text blocks of a document (width 8); B: the same 4 blocks seen as image regions (width
  // 12).
  Tensor A = Tensor::randn({4, 8}, gen), B = Tensor::randn({4, 12}, gen);
  Linear w_q(8, 8, gen), w_k(12, 8, gen), w_v(8, 8, gen);
  NoGradGuard no_grad;
  AttentionResult r = scaled_dot_product_attention(w_q.forward(A), w_k.forward(B), w_v.forward(A));
  print_block("weights (text block i asks about the regions of blocks j):", r.weights, 0, 4, 4);
  // Swap the image features of blocks 0 and 1: the text content mixed stays the same,
  // only the weights (who is mixed with whom) follow the other modality.
  Tensor B2 = B.clone();
  for (int j = 0; j < 12; ++j) std::swap(B2.data()[j], B2.data()[12 + j]);
  AttentionResult r2 =
      scaled_dot_product_attention(w_q.forward(A), w_k.forward(B2), w_v.forward(A));
  print_block("weights after swapping the image features of blocks 0 and 1 (columns 0, 1 swap):",
              r2.weights, 0, 4, 4);
}

// Diffusers' CrossAttention (seed 003): heads = 8, dim_head = 64 by default, so the
// attention runs at an inner width of 8·64 = 512 whatever the widths of the two sequences;
// query_dim and cross_attention_dim are the caller's. The widths below are Stable Diffusion
// v1's: 320 at the UNet's first level, 768 from the CLIP text encoder (77 tokens).
void diffusers_defaults() {
  std::printf("\n== 7. Diffusers' CrossAttention defaults: heads 8, dim_head 64, bias False ==\n");
  const int64_t query_dim = 320, cross_attention_dim = 768, heads = 8, dim_head = 64;
  MultiHeadAttentionOptions o;
  o.query_dim = query_dim;
  o.kv_dim = cross_attention_dim;
  o.heads = heads;
  o.head_dim = dim_head;
  o.bias = false;
  Generator gen(14);
  MultiHeadAttention attn(o, gen);
  Tensor image = Tensor::randn({1, 64, query_dim}, gen);           // an 8×8 latent, 64 positions
  Tensor text = Tensor::randn({1, 77, cross_attention_dim}, gen);  // 77 text tokens
  NoGradGuard no_grad;
  AttentionResult r = attn.forward_with_weights(image, text, text);
  const Tensor& out = r.output;
  std::printf("query_dim %lld, cross_attention_dim %lld, inner width heads·dim_head = %lld\n",
              static_cast<long long>(query_dim), static_cast<long long>(cross_attention_dim),
              static_cast<long long>(heads * dim_head));
  std::printf("query %s, key/value %s -> weights %s, output %s\n", shape_str(image.shape()).c_str(),
              shape_str(text.shape()).c_str(), shape_str(r.weights.shape()).c_str(),
              shape_str(out.shape()).c_str());
  for (auto& [name, p] : attn.named_parameters())
    std::printf("  %-9s %s\n", name.c_str(), shape_str(p.shape()).c_str());
  std::printf("parameters: %lld (Diffusers' to_out keeps its bias: %lld)\n",
              static_cast<long long>(attn.num_parameters()),
              static_cast<long long>(attn.num_parameters() + query_dim));
}

}  // namespace

// docs/img/ch08_masks.svg: the masks of section 3 and the weights they give;
// docs/img/ch08_cross_attention.svg: the 4 × 5 cross-attention weights of section 1.
void write_figures(const std::string& dir) {
  Tensor causal = causal_mask(4);
  Tensor keep = Tensor::from_vector({1, 1, 1, 1,  //
                                     1, 1, 0, 0},
                                    {2, 4});
  Tensor both = combine_masks(causal, key_padding_mask(keep));  // [2, 1, 4, 4]
  Generator gen(10);  // as in masks(): the same weights as the printed ones
  Tensor q = Tensor::randn({2, 1, 4, 8}, gen), k = Tensor::randn({2, 1, 4, 8}, gen),
         v = Tensor::randn({2, 1, 4, 8}, gen);
  AttentionResult r = scaled_dot_product_attention(q, k, v, both);
  // The padding mask [1, 1, 1, 4] of the length-2 sequence, shown for every query row.
  std::vector<std::vector<float>> pad(4, std::vector<float>{1, 1, 0, 0});
  plot::HeatmapStyle st;
  st.row_labels = {"query 0", "query 1", "query 2", "query 3"};
  st.col_labels = {"key 0", "key 1", "key 2", "key 3"};
  st.cell_w = 44;
  st.per_row = 4;
  st.show_values = true;
  st.scale_label = "1 = may attend";
  st.notes = {
      "sequence 1 of the batch: 2 real tokens, then 2 pads. 1 = may attend, 0 = blocked "
      "(its score is set to -inf before the softmax);",
      "the last panel: softmax weights under the combined mask, each row sums to 1, "
      "blocked keys get exactly 0"};
  plot::write_figure(
      dir, "ch08_masks.svg",
      plot::heatmap_svg({{"causal_mask(4)", plot::matrix(causal)},
                         {"key padding (length 2)", pad},
                         {"causal AND padding", plot::matrix(both, 1)},
                         {"weights under both", plot::matrix(r.weights, 1)}},
                        st, "masks: causal, padding, both, and the weights they leave"));

  Generator gen8(8);  // as in self_versus_cross()
  Tensor text = Tensor::randn({1, 4, 8}, gen8);
  Tensor patches = Tensor::randn({1, 5, 12}, gen8);
  MultiHeadAttention self_attn(MultiHeadAttentionOptions{8, 8, 2, 4}, gen8);
  MultiHeadAttention cross_attn(MultiHeadAttentionOptions{8, 12, 2, 4}, gen8);
  const Tensor w = cross_attn.forward_with_weights(text, patches, patches).weights;
  plot::HeatmapStyle cs;
  cs.row_labels = {"token 0", "token 1", "token 2", "token 3"};
  cs.col_labels = {"patch 0", "patch 1", "patch 2", "patch 3", "patch 4"};
  cs.cell_w = 60;
  cs.show_values = true;
  cs.lo = 0;
  cs.hi = 0.5f;
  cs.notes = {
      "4 text tokens (width 8) attend to 5 image patches (width 12): the weights are 4 × 5, "
      "not square; each row sums to 1",
      "an untrained layer (seed 8), so the weights are close to uniform (1/5 = 0.2)"};
  plot::write_figure(
      dir, "ch08_cross_attention.svg",
      plot::heatmap_svg(
          {{"head 1 of 2", plot::matrix(w, 0)}, {"head 2 of 2", plot::matrix(w, 1)}}, cs,
          "cross-attention between sequences of different lengths (4 queries, 5 keys)"));
}

int run_chapter() {
  self_versus_cross();
  cost();
  masks();
  all_masked_row();
  garbage_in_padding();
  selfdoc_variant();
  diffusers_defaults();
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::chapter_main(argc, argv, "ch08_masks_and_cross_attention",
                                "Chapter 08: self- versus cross-attention, and masks.", run_chapter,
                                write_figures);
}
