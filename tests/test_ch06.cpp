// Chapter 06: the two-token worked example's published numbers.
#include <cmath>

#include "nn/attention_scores.h"
#include "tests/catch.h"

using namespace qkv;

TEST_CASE("the two-token worked example: 0.71, 1.41, b1 = (0.33, 0.67), b2 = (0.5, 0.5)",
          "[ch06][worked-example]") {
  Tensor A = Tensor::from_vector({1, 1, 1, 0}, {2, 2});
  Tensor Wq = Tensor::from_vector({1, 1, 0, 1}, {2, 2});
  Tensor Winv = Tensor::from_vector({0, 1, 1, -1}, {2, 2});  // W_k = W_v = A⁻¹
  Tensor Q = matmul(A, Wq), K = matmul(A, Winv), V = matmul(A, Winv);
  CHECK(Q.to_vector() == std::vector<float>{1, 2, 1, 1});
  CHECK(K.to_vector() == std::vector<float>{1, 0, 0, 1});
  Tensor S = nn::attention_scores(Q, K, nn::Score::ScaledDot);
  CHECK(S.at({0, 0}) == Approx(0.71).margin(1e-2));
  CHECK(S.at({0, 1}) == Approx(1.41).margin(1e-2));
  CHECK(S.at({1, 0}) == Approx(0.71).margin(1e-2));
  CHECK(S.at({1, 1}) == Approx(0.71).margin(1e-2));
  nn::AttentionResult r = nn::attend(S, V);
  CHECK(r.output.at({0, 0}) == Approx(0.33).margin(1e-2));
  CHECK(r.output.at({0, 1}) == Approx(0.67).margin(1e-2));
  CHECK(r.output.at({1, 0}) == Approx(0.50).margin(1e-2));
  CHECK(r.output.at({1, 1}) == Approx(0.50).margin(1e-2));
  // The exact values behind the rounding: 1/(1 + e^{1/√2}) and its complement.
  CHECK(r.output.at({0, 0}) == Approx(1 / (1 + std::exp(1 / std::sqrt(2.0)))).epsilon(1e-6));
  // And the same through the library's scaled_dot_product_attention.
  CHECK(nn::scaled_dot_product_attention(Q, K, V).output.to_vector() == r.output.to_vector());
}
