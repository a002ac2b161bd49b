// One check per exercise (see checker.h); each throws CheckFailed on a wrong answer.
#pragma once

#include "examples/exercises/check/answers.h"

namespace qkv::exercises::checks {

void unbroadcast(const Answers& a);  // checks_ch01_ch05.cpp
void matmul_backward(const Answers& a);
void gelu_forward(const Answers& a);
void gelu_backward(const Answers& a);
void embedding_forward(const Answers& a);
void embedding_backward(const Answers& a);
void softmax_forward(const Answers& a);
void softmax_backward(const Answers& a);
void cross_entropy_forward(const Answers& a);
void cross_entropy_backward(const Answers& a);
void worked_example_forward(const Answers& a);  // checks_ch06_ch08.cpp
void worked_example_backward(const Answers& a);
void gru_cell(const Answers& a);
void split_heads(const Answers& a);
void merge_heads(const Answers& a);
void attention_mask(const Answers& a);
void masked_softmax(const Answers& a);
void attention_backward(const Answers& a);
void sinusoidal_encoding(const Answers& a);  // checks_ch09_ch12.cpp
void layer_norm_forward(const Answers& a);
void layer_norm_backward(const Answers& a);
void adam_step(const Answers& a);
void clip_by_global_norm(const Answers& a);

}  // namespace qkv::exercises::checks
