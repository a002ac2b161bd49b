// Weight initialisation (chapter 04). Both draw from the caller's Generator, so a model
// built with the same seed has the same weights on every machine.
#pragma once

#include "autograd/tensor.h"

namespace qkv::nn {

enum class Init {
  PyTorch,  // torch.nn.Linear's default: U(−1/√fan_in, 1/√fan_in) for weight and bias
  Xavier,   // Glorot uniform U(−√(6/(fan_in+fan_out)), +…) for weight, bias 0
};

// Fill a [fan_out, fan_in] matrix in place with Xavier-uniform values.
void xavier_uniform_(Tensor& w, Generator& gen);

}  // namespace qkv::nn
