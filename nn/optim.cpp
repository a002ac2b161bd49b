#include "nn/optim.h"

#include <cmath>

#include "autograd/kernels/optim.h"

namespace qkv::nn {

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

SGD::SGD(std::vector<Tensor> params, float lr, float mom, float wd)
    : Optimizer(std::move(params), lr), momentum(mom), weight_decay(wd) {
  for (auto& p : params_) buf_.push_back(Tensor::zeros(p.shape()));
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

Adam::Adam(std::vector<Tensor> params, float lr, float b1, float b2, float e, float wd, bool dec)
    : Optimizer(std::move(params), lr),
      beta1(b1),
      beta2(b2),
      eps(e),
      weight_decay(wd),
      decoupled(dec) {
  for (auto& p : params_) {
    m.push_back(Tensor::zeros(p.shape()));
    v.push_back(Tensor::zeros(p.shape()));
  }
}

void Adam::step() {
  ++t_;
  const float bias1 = 1.f - std::pow(beta1, static_cast<float>(t_));
  const float bias2 = 1.f - std::pow(beta2, static_cast<float>(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    kernels::adam_update(params_[i].data(), g.data(), m[i].data(), v[i].data(), params_[i].numel(),
                         lr, beta1, beta2, eps, weight_decay, decoupled, bias1, bias2);
  }
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
