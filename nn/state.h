// The pieces a checkpoint is made of (chapter 12), each a record or a group of records of
// nn's tensor file (nn/serialize.h), so that any Module, optimizer or run can be saved:
//
//   put_module / load_module       a module's parameters as tensors "<prefix><name>"
//   put_optimizer / load_optimizer an optimizer's buffers as "<prefix><buffer>.<name>"
//   dropout_states / load_dropout_states   every Dropout generator of a module, as text
//   key_values / key_int           "key value" text records (configs, training settings)
//   save_module / load_module      a file holding one module, for the simple case
//
// Loading copies values into the existing tensors (an optimizer holding them stays valid)
// and throws std::runtime_error naming the record that is missing, unexpected or misshapen.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/random.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "nn/serialize.h"

namespace qkv::nn {

void put_module(TensorFile& file, const Module& module, const std::string& prefix);
// Every parameter of `module` from "<prefix><name>"; other records with the prefix are an
// error, records without it are ignored. `renames` maps old parameter-name prefixes to new
// ones (a file written before a rename still loads), e.g. {"generator.", "output."}.
void load_module(const TensorFile& file, Module& module, const std::string& prefix,
                 const std::map<std::string, std::string>& renames = {});

// The optimizer's state_dict() tensors under the prefix; its step count is the caller's to
// keep (a checkpoint keeps it with the training position).
void put_optimizer(TensorFile& file, const Optimizer& opt, const std::string& prefix);
void load_optimizer(const TensorFile& file, Optimizer& opt, const std::string& prefix,
                    int64_t steps);

// Generator states by module name, in named_modules() order.
using GeneratorStates = std::vector<std::pair<std::string, Generator::State>>;

// Every Dropout below `module` by module name ("encoder.layers.0.ffn.dropout"): its
// generator's state. Loading sets each; a Dropout with no state, or a state for a name that
// is no Dropout of the module, throws naming it.
GeneratorStates dropout_states(const Module& module);
void load_dropout_states(Module& module, const GeneratorStates& states);
// As text, one "name s0 s1 s2 s3 spare" line per Dropout (Generator::state_to_text).
std::string dropout_states_to_text(const GeneratorStates& states);
GeneratorStates dropout_states_from_text(const std::string& text);

// "key value" lines → a map; `record` names the text record in error messages.
std::map<std::string, std::string> key_values(const std::string& text, const std::string& record);
int64_t key_int(const std::map<std::string, std::string>& kv, const std::string& key,
                const std::string& record);

// One module in a file of its own (magic "qkv-modl", version 1, records "<name>"): enough to
// keep any model, e.g. the GRU baseline; the caller rebuilds it with the same config first.
void save_module(const std::string& path, const Module& module);
void load_module(const std::string& path, Module& module);

}  // namespace qkv::nn
