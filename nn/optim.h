// Optimisers, the warm-up schedule and gradient clipping (chapter 12).
#pragma once

#include <vector>

#include "autograd/tensor.h"

namespace qkv::nn {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params, float lr) : params_(std::move(params)), lr(lr) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;  // parameters without a gradient are left alone
  void zero_grad();
  const std::vector<Tensor>& params() const { return params_; }
  int64_t steps() const { return t_; }

 protected:
  std::vector<Tensor> params_;
  int64_t t_ = 0;

 public:
  float lr;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, float lr, float momentum = 0.f, float weight_decay = 0.f);
  void step() override;
  float momentum, weight_decay;

 private:
  std::vector<Tensor> buf_;
};

// Adam (Kingma & Ba); with decoupled weight decay it is AdamW (Loshchilov & Hutter).
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, float lr, float beta1 = 0.9f, float beta2 = 0.999f,
       float eps = 1e-8f, float weight_decay = 0.f, bool decoupled = false);
  void step() override;
  float beta1, beta2, eps, weight_decay;
  bool decoupled;
  // The moment estimates, one per parameter (saved in checkpoints to resume exactly).
  std::vector<Tensor> m, v;
  void set_steps(int64_t t) { t_ = t; }
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, float lr, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weight_decay = 0.01f)
      : Adam(std::move(params), lr, beta1, beta2, eps, weight_decay, true) {}
};

// The paper's schedule: lr(step) = factor · d_model^−½ · min(step^−½, step · warmup^−³ᐟ²),
// a linear warm-up for `warmup` steps, then decay as 1/√step. Steps count from 1.
float noam_lr(int64_t step, int64_t d_model, int64_t warmup, float factor = 1.f);

// The global L2 norm of all gradients (summed in double, parameter by parameter, in order:
// deterministic); NaN or inf when a gradient holds one. Parameters without a gradient count 0.
double grad_norm(const std::vector<Tensor>& params);

// Scale all gradients so that their global L2 norm is at most max_norm; returns the norm
// before clipping. A non-finite norm is returned as it is, the gradients left untouched:
// the caller decides what a diverged step means (nn::train_step reports it).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace qkv::nn
