// Module: the base of every layer (chapter 04). It keeps named parameters and child
// modules, so a whole model's parameters are reachable from the top with dotted names
// like "encoder.layers.0.self_attn.w_q.weight", as in PyTorch's state_dict.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace qkv::nn {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  int64_t num_parameters() const;
  // Every module below this one by dotted name ("encoder.layers.0.ffn.dropout"), depth
  // first in registration order, as torch's named_modules() (which also lists the module
  // itself, as ""): for finding the modules of one kind, e.g. every Dropout.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules() const;
  void zero_grad();

  // train() turns dropout on; eval() off. Applies to every child.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // The parameters by dotted name. load_state_dict copies values in place (the model keeps
  // its tensors, so optimisers holding them stay valid) and rejects a missing, unexpected
  // or wrongly shaped entry with its name.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state);
  // Makes every parameter of this module use the values of source's parameter of the same
  // name (Tensor::set_: shared storage, no copy), each keeping a gradient of its own: a
  // replica for data-parallel training (nn/data_parallel.h). Throws naming the parameter if
  // the two modules' names or shapes differ; what the names and shapes do not show (the
  // number of heads, the dropout rate) is the caller's to keep equal: build both from one
  // configuration.
  void share_parameters_of(const Module& source);

 protected:
  Tensor register_parameter(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_modules(const std::string& prefix,
                       std::vector<std::pair<std::string, std::shared_ptr<Module>>>& out) const;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace qkv::nn
