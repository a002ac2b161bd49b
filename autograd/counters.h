// The multiply-accumulate counter (chapter 07).
//
// Every op that multiplies and accumulates (matmul, and so Linear and attention) adds the
// number of multiply-accumulates it performed, in the forward pass only, the way fvcore
// counts "flops" for PyTorch models. Chapter 07 reproduces published attention counts
// with it. Element-wise ops, softmax and normalisation are not counted, as in fvcore.
#pragma once

#include <cstdint>

namespace qkv {

void add_macs(int64_t n);
int64_t macs();  // multiply-accumulates since the last reset
void reset_macs();

}  // namespace qkv
