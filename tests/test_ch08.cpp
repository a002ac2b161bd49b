// Chapter 08: the published size of cross-attention with Diffusers' defaults (1,114,112
// parameters).
#include "autograd/engine.h"
#include "nn/attention.h"
#include "tests/catch.h"

using namespace qkv;
using namespace qkv::nn;

// Seed 003: Diffusers' CrossAttention defaults, heads 8 and dim_head 64, no q/k/v bias; the
// widths are Stable Diffusion v1's (image features 320, CLIP text 768 × 77 tokens).
TEST_CASE("cross-attention with Diffusers' defaults: inner width 8·64, output as the query",
          "[ch08][cross]") {
  MultiHeadAttentionOptions o;
  o.query_dim = 320;
  o.kv_dim = 768;
  o.heads = 8;
  o.head_dim = 64;
  o.bias = false;
  Generator gen(14);
  MultiHeadAttention attn(o, gen);
  Tensor image = Tensor::randn({2, 64, 320}, gen), text = Tensor::randn({2, 77, 768}, gen);
  NoGradGuard no_grad;
  AttentionResult r = attn.forward_with_weights(image, text, text);
  CHECK(r.output.shape() == Shape{2, 64, 320});
  CHECK(r.weights.shape() == Shape{2, 8, 64, 77});
  CHECK(attn.w_q->weight.shape() == Shape{512, 320});
  CHECK(attn.w_k->weight.shape() == Shape{512, 768});
  CHECK(attn.w_v->weight.shape() == Shape{512, 768});
  CHECK(attn.w_o->weight.shape() == Shape{320, 512});
  CHECK(attn.num_parameters() == 320 * 512 + 2 * 768 * 512 + 512 * 320);
  CHECK(attn.num_parameters() == 1114112);
}
