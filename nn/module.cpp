#include "nn/module.h"

#include <stdexcept>

#include "autograd/engine.h"

namespace qkv::nn {

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

void Module::collect(const std::string& prefix,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, t] : params_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_)
    if (child) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

void Module::collect_modules(
    const std::string& prefix,
    std::vector<std::pair<std::string, std::shared_ptr<Module>>>& out) const {
  for (const auto& [name, child] : children_) {
    if (!child) continue;
    out.emplace_back(prefix + name, child);
    child->collect_modules(prefix + name + ".", out);
  }
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  collect_modules("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& t : parameters()) n += t.numel();
  return n;
}

void Module::share_parameters_of(const Module& source) {
  const auto mine = named_parameters(), theirs = source.named_parameters();
  if (mine.size() != theirs.size())
    throw std::invalid_argument("share_parameters_of: " + std::to_string(mine.size()) +
                                " parameters here, " + std::to_string(theirs.size()) +
                                " in the source");
  for (size_t i = 0; i < mine.size(); ++i) {
    if (mine[i].first != theirs[i].first)
      throw std::invalid_argument("share_parameters_of: parameter " + std::to_string(i) + " is " +
                                  mine[i].first + " here, " + theirs[i].first + " in the source");
    if (mine[i].second.shape() != theirs[i].second.shape())
      throw std::invalid_argument("share_parameters_of: " + mine[i].first + " is " +
                                  shape_str(mine[i].second.shape()) + " here, " +
                                  shape_str(theirs[i].second.shape()) + " in the source");
  }
  for (size_t i = 0; i < mine.size(); ++i) {
    Tensor t = mine[i].second;
    t.set_(theirs[i].second);
  }
}

void Module::zero_grad() {
  for (auto& t : parameters()) t.zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_)
    if (child) child->train(on);
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out.emplace(name, t);
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state) {
  auto mine = named_parameters();
  for (auto& [name, t] : mine) {
    auto it = state.find(name);
    if (it == state.end())
      throw std::runtime_error("load_state_dict: missing parameter '" + name + "'");
    if (it->second.shape() != t.shape())
      throw std::runtime_error("load_state_dict: parameter '" + name + "' has shape " +
                               shape_str(it->second.shape()) + " in the state but " +
                               shape_str(t.shape()) + " in the model");
  }
  if (state.size() != mine.size())
    for (auto& [name, t] : state) {
      bool found = false;
      for (auto& m : mine) found = found || m.first == name;
      if (!found) throw std::runtime_error("load_state_dict: unexpected parameter '" + name + "'");
    }
  for (auto& [name, t] : mine) {
    const Tensor& src = state.at(name);
    std::copy(src.data(), src.data() + src.numel(), t.data());
  }
}

}  // namespace qkv::nn
