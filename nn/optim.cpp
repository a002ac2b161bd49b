#include "nn/optim.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/kernels/optim.h"

namespace qkv::nn {

Optimizer::Optimizer(NamedTensors named_params, float lr) : lr(lr) {
  for (auto& [name, p] : named_params) {
    names_.push_back(name);
    params_.push_back(p);
  }
}

Optimizer::Optimizer(const std::vector<Tensor>& params, float lr) : params_(params), lr(lr) {
  for (size_t i = 0; i < params_.size(); ++i) names_.push_back(std::to_string(i));
}

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

OptimizerState Optimizer::state_dict() const { return {t_, buffers()}; }

void Optimizer::load_state_dict(const OptimizerState& state) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state.tensors) given[name] = &t;
  for (auto& [name, dst] : buffers()) {
    auto it = given.find(name);
    if (it == given.end()) throw std::runtime_error("no optimizer state '" + name + "'");
    const Tensor& src = *it->second;
    if (src.shape() != dst.shape())
      throw std::runtime_error("optimizer state '" + name + "' has shape " +
                               shape_str(src.shape()) + ", the parameter " +
                               shape_str(dst.shape()));
    std::copy(src.data(), src.data() + src.numel(), dst.data());
    given.erase(it);
  }
  if (!given.empty())
    throw std::runtime_error("optimizer state '" + given.begin()->first +
                             "' belongs to no parameter of this optimizer");
  t_ = state.steps;
}

NamedTensors SGD::buffers() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) out.emplace_back("momentum." + names_[i], buf_[i]);
  return out;
}

void SGD::step() {
  ++t_;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    kernels::sgd_update(params_[i].data(), g.data(), buf_[i].data(), params_[i].numel(), lr,
                        momentum, weight_decay);
  }
}

SGD::SGD(const std::vector<Tensor>& params, float lr, float mom, float wd)
    : Optimizer(params, lr), momentum(mom), weight_decay(wd) {
  for (auto& p : params_) buf_.push_back(Tensor::zeros(p.shape()));
}
SGD::SGD(NamedTensors params, float lr, float mom, float wd)
    : Optimizer(std::move(params), lr), momentum(mom), weight_decay(wd) {
  for (auto& p : params_) buf_.push_back(Tensor::zeros(p.shape()));
}

Adam::Adam(const std::vector<Tensor>& params, float lr, float b1, float b2, float e, float wd,
           bool dec)
    : Optimizer(params, lr), beta1(b1), beta2(b2), eps(e), weight_decay(wd), decoupled(dec) {
  init_moments();
}
Adam::Adam(NamedTensors params, float lr, float b1, float b2, float e, float wd, bool dec)
    : Optimizer(std::move(params), lr),
      beta1(b1),
      beta2(b2),
      eps(e),
      weight_decay(wd),
      decoupled(dec) {
  init_moments();
}

void Adam::init_moments() {
  for (auto& p : params_) {
    m_.push_back(Tensor::zeros(p.shape()));
    v_.push_back(Tensor::zeros(p.shape()));
  }
}

NamedTensors Adam::buffers() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) out.emplace_back("m." + names_[i], m_[i]);
  for (size_t i = 0; i < params_.size(); ++i) out.emplace_back("v." + names_[i], v_[i]);
  return out;
}

void Adam::step() {
  ++t_;
  const float bias1 = 1.f - std::pow(beta1, static_cast<float>(t_));
  const float bias2 = 1.f - std::pow(beta2, static_cast<float>(t_));
  std::vector<kernels::AdamSlot> slots;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    slots.push_back({params_[i].data(), g.data(), m_[i].data(), v_[i].data(), params_[i].numel()});
  }
  kernels::adam_update_all(slots, {lr, beta1, beta2, eps, weight_decay, decoupled, bias1, bias2});
}

float noam_lr(int64_t step, int64_t d_model, int64_t warmup, float factor) {
  if (step < 1) step = 1;
  const double s = static_cast<double>(step), w = static_cast<double>(warmup);
  return static_cast<float>(factor * std::pow(static_cast<double>(d_model), -0.5) *
                            std::min(std::pow(s, -0.5), s * std::pow(w, -1.5)));
}

double grad_norm(const std::vector<Tensor>& params) {
  double total = 0;
  for (const auto& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    const float* d = g.data();
    for (int64_t i = 0, n = g.numel(); i < n; ++i) total += static_cast<double>(d[i]) * d[i];
  }
  return std::sqrt(total);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  const double norm = grad_norm(params);
  if (!std::isfinite(norm)) return norm;
  if (norm > max_norm && norm > 0) {
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (const auto& p : params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      float* d = g.data();
      for (int64_t i = 0, n = g.numel(); i < n; ++i) d[i] *= scale;
    }
  }
  return norm;
}

}  // namespace qkv::nn
