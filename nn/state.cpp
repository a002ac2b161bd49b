#include "nn/state.h"

#include <sstream>
#include <stdexcept>

#include "nn/layers.h"

namespace qkv::nn {

namespace {
bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::vector<std::pair<std::string, Dropout*>> dropouts(const Module& module) {
  std::vector<std::pair<std::string, Dropout*>> out;
  for (const auto& [name, m] : module.named_modules())
    if (auto* d = dynamic_cast<Dropout*>(m.get())) out.emplace_back(name, d);
  return out;
}
}  // namespace

void put_module(TensorFile& file, const Module& module, const std::string& prefix) {
  for (const auto& [name, t] : module.named_parameters())
    file.tensors.emplace_back(prefix + name, t);
}

void load_module(const TensorFile& file, Module& module, const std::string& prefix,
                 const std::map<std::string, std::string>& renames) {
  std::map<std::string, Tensor> state;
  for (const auto& [record, t] : file.tensors) {
    if (!starts_with(record, prefix)) continue;
    std::string name = record.substr(prefix.size());
    for (const auto& [from, to] : renames)
      if (starts_with(name, from)) name = to + name.substr(from.size());
    state.emplace(name, t);
  }
  module.load_state_dict(state);
}

void put_optimizer(TensorFile& file, const Optimizer& opt, const std::string& prefix) {
  for (const auto& [name, t] : opt.state_dict().tensors)
    file.tensors.emplace_back(prefix + name, t);
}

void load_optimizer(const TensorFile& file, Optimizer& opt, const std::string& prefix,
                    int64_t steps) {
  OptimizerState state;
  state.steps = steps;
  for (const auto& [record, t] : file.tensors)
    if (starts_with(record, prefix)) state.tensors.emplace_back(record.substr(prefix.size()), t);
  opt.load_state_dict(state);
}

GeneratorStates dropout_states(const Module& module) {
  GeneratorStates out;
  for (const auto& [name, d] : dropouts(module)) out.emplace_back(name, d->generator().get_state());
  return out;
}

void load_dropout_states(Module& module, const GeneratorStates& states) {
  const auto list = dropouts(module);
  const std::map<std::string, Dropout*> mine(list.begin(), list.end());
  const std::map<std::string, Generator::State> given(states.begin(), states.end());
  for (const auto& [name, d] : list)
    if (!given.count(name)) throw std::runtime_error("no rng state for the dropout '" + name + "'");
  for (const auto& [name, state] : states)
    if (!mine.count(name))
      throw std::runtime_error("rng state for '" + name + "', which is no dropout of the model");
  for (const auto& [name, d] : list) d->generator().set_state(given.at(name));
}

std::string dropout_states_to_text(const GeneratorStates& states) {
  std::string out;
  for (const auto& [name, s] : states) out += name + " " + Generator::state_to_text(s) + "\n";
  return out;
}

GeneratorStates dropout_states_from_text(const std::string& text) {
  GeneratorStates out;
  for (const auto& [name, line] : key_values(text, "rng")) {
    try {
      out.emplace_back(name, Generator::state_from_text(line));
    } catch (const std::invalid_argument&) {
      throw std::runtime_error("malformed rng line '" + name + " " + line +
                               "' (expected: module, four 16-digit hex words, then '-' or 8 hex "
                               "digits)");
    }
  }
  return out;
}

std::map<std::string, std::string> key_values(const std::string& text, const std::string& record) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos)
      throw std::runtime_error("malformed " + record + " line '" + line + "'");
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

int64_t key_int(const std::map<std::string, std::string>& kv, const std::string& key,
                const std::string& record) {
  auto it = kv.find(key);
  if (it == kv.end()) throw std::runtime_error("the " + record + " record has no '" + key + "'");
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw std::runtime_error(record + " '" + key + "' is not an integer: '" + it->second + "'");
  }
}

namespace {
const char kModuleMagic[] = "qkv-modl";
}

void save_module(const std::string& path, const Module& module) {
  TensorFile f;
  f.magic = kModuleMagic;
  f.version = 1;
  put_module(f, module, "");
  save_tensor_file(path, f);
}

void load_module(const std::string& path, Module& module) {
  const TensorFile f = load_tensor_file(path, kModuleMagic, 1);
  try {
    load_module(f, module, "");
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace qkv::nn
