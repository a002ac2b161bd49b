// Optimisers, the warm-up schedule and gradient clipping (chapter 12).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace qkv::nn {

// What an optimizer needs to continue exactly where it stopped, as torch's
// optimizer.state_dict(): the step count and its buffers by name, "<buffer>.<parameter>"
// (Adam: "m.encoder.layers.0.ffn.w1.weight", "v.…"; SGD: "momentum.…").
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct OptimizerState {
  int64_t steps = 0;
  NamedTensors tensors;  // in parameter order
};

class Optimizer {
 public:
  // Parameters by name (module.named_parameters()), or unnamed: then named "0", "1", ….
  Optimizer(NamedTensors named_params, float lr);
  Optimizer(const std::vector<Tensor>& params, float lr);
  virtual ~Optimizer() = default;
  virtual void step() = 0;  // parameters without a gradient are left alone
  void zero_grad();
  const std::vector<Tensor>& params() const { return params_; }
  const std::vector<std::string>& param_names() const { return names_; }
  int64_t steps() const { return t_; }

  // The buffers are shared, not copied (save them before the next step). load_state_dict
  // copies values in and rejects a missing, unexpected or wrongly shaped buffer by name.
  OptimizerState state_dict() const;
  void load_state_dict(const OptimizerState& state);

 protected:
  // Each buffer with its name; the optimizer's own, in a fixed order.
  virtual NamedTensors buffers() const = 0;
  std::vector<Tensor> params_;
  std::vector<std::string> names_;
  int64_t t_ = 0;

 public:
  float lr;
};

class SGD : public Optimizer {
 public:
  SGD(const std::vector<Tensor>& params, float lr, float momentum = 0.f, float weight_decay = 0.f);
  SGD(NamedTensors params, float lr, float momentum = 0.f, float weight_decay = 0.f);
  void step() override;
  float momentum, weight_decay;

 private:
  NamedTensors buffers() const override;
  std::vector<Tensor> buf_;
};

// Adam (Kingma & Ba); with decoupled weight decay it is AdamW (Loshchilov & Hutter).
class Adam : public Optimizer {
 public:
  Adam(const std::vector<Tensor>& params, float lr, float beta1 = 0.9f, float beta2 = 0.999f,
       float eps = 1e-8f, float weight_decay = 0.f, bool decoupled = false);
  Adam(NamedTensors params, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
       float weight_decay = 0.f, bool decoupled = false);
  void step() override;
  float beta1, beta2, eps, weight_decay;
  bool decoupled;

 private:
  void init_moments();  // zeros, one pair per parameter
  NamedTensors buffers() const override;
  std::vector<Tensor> m_, v_;  // the moment estimates, one per parameter (state_dict has them)
};

class AdamW : public Adam {
 public:
  template <class Params>  // std::vector<Tensor> or NamedTensors
  AdamW(const Params& params, float lr, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weight_decay = 0.01f)
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
