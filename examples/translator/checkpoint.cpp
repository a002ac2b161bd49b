#include "examples/translator/checkpoint.h"

#include <sstream>
#include <stdexcept>

#include "nn/state.h"

namespace qkv::app {

namespace {
// Parameter names of earlier releases: the output layer was called "generator".
const std::map<std::string, std::string> kRenamed = {{"generator.", "output."}};

// Runs `f`, prefixing an error that does not name the file yet with the file's name.
template <class F>
void naming(const std::string& path, const std::string& suffix, F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    throw std::runtime_error((msg.rfind(path, 0) == 0 ? msg : path + ": " + msg) + suffix);
  }
}
}  // namespace

void save_checkpoint(const std::string& path, const nn::Seq2SeqConfig& config,
                     const data::Vocab& src_vocab, const data::Vocab& tgt_vocab,
                     const nn::Seq2SeqTransformer& model, const nn::Adam* opt,
                     const TrainState& state, const std::vector<float>& losses) {
  nn::TensorFile f;
  f.magic = kCheckpointMagic;
  f.version = kCheckpointVersion;
  f.texts.emplace_back("config", nn::config_to_text(config));
  std::ostringstream train;
  train << "step " << state.step << "\nepoch " << state.epoch << "\nbatch_in_epoch "
        << state.batch_in_epoch << "\nadam_step " << (opt ? opt->steps() : 0) << "\n";
  for (const auto& [k, v] : state.settings) train << k << " " << v << "\n";
  f.texts.emplace_back("train", train.str());
  f.texts.emplace_back("src_vocab", src_vocab.serialize());
  f.texts.emplace_back("tgt_vocab", tgt_vocab.serialize());
  f.texts.emplace_back("rng", nn::dropout_states_to_text(nn::dropout_states(model)));
  nn::put_module(f, model, "model.");
  if (opt) nn::put_optimizer(f, *opt, "adam.");
  f.tensors.emplace_back("train.losses",
                         Tensor::from_vector(losses, {static_cast<int64_t>(losses.size())}));
  nn::save_tensor_file(path, f);
}

Checkpoint load_checkpoint(const std::string& path) {
  Checkpoint c;
  c.file =
      nn::load_tensor_file(path, kCheckpointMagic, kCheckpointVersion, kCheckpointOldestVersion);
  naming(path, "", [&] {
    c.config = nn::config_from_text(c.file.text("config"));
    c.src_vocab = data::Vocab::deserialize(c.file.text("src_vocab"));
    c.tgt_vocab = data::Vocab::deserialize(c.file.text("tgt_vocab"));
    auto kv = nn::key_values(c.file.text("train"), "train");
    c.state.step = nn::key_int(kv, "step", "train");
    c.state.epoch = nn::key_int(kv, "epoch", "train");
    c.state.batch_in_epoch = nn::key_int(kv, "batch_in_epoch", "train");
    c.state.adam_step =
        kv.count("adam_step") ? nn::key_int(kv, "adam_step", "train") : c.state.step;
    for (const char* key : {"step", "epoch", "batch_in_epoch", "adam_step"}) kv.erase(key);
    c.state.settings = kv;
    if (c.file.has_tensor("train.losses")) c.losses = c.file.tensor("train.losses").to_vector();
    if (c.file.version >= 2) c.rng = nn::dropout_states_from_text(c.file.text("rng"));
  });
  // The model the config describes must be the one whose tensors the file holds, checked
  // before anything is allocated for it: a damaged "d_model 64" → "d_model 64000" would ask
  // for gigabytes, "encoder_layers 100000000" for an hour of construction.
  int64_t in_file = 0;
  for (const auto& [name, t] : c.file.tensors)
    if (name.rfind("model.", 0) == 0) in_file += t.numel();
  // (A model smaller than the file is cheap to build, and loading it names the tensor that
  // does not fit, a more useful message.)
  if (c.config.parameter_count() > in_file)
    throw std::runtime_error(path + ": the config describes a model of " +
                             std::to_string(c.config.parameter_count()) +
                             " parameters, the file holds only " + std::to_string(in_file) +
                             " model values (a corrupt checkpoint?)");
  if (c.src_vocab.size() != c.config.src_vocab || c.tgt_vocab.size() != c.config.tgt_vocab)
    throw std::runtime_error(
        path + ": the vocabularies (" + std::to_string(c.src_vocab.size()) + ", " +
        std::to_string(c.tgt_vocab.size()) + " tokens) do not match the config (" +
        std::to_string(c.config.src_vocab) + ", " + std::to_string(c.config.tgt_vocab) + ")");
  return c;
}

std::unique_ptr<nn::Seq2SeqTransformer> load_model(const Checkpoint& ckpt,
                                                   const std::string& path) {
  Generator gen(0);
  auto model = std::make_unique<nn::Seq2SeqTransformer>(ckpt.config, gen);
  load_weights(ckpt, *model, path);
  return model;
}

void load_weights(const Checkpoint& ckpt, nn::Seq2SeqTransformer& model, const std::string& path) {
  naming(path, " (a checkpoint of another model, or a corrupt file)",
         [&] { nn::load_module(ckpt.file, model, "model.", kRenamed); });
}

void load_optimizer(const Checkpoint& ckpt, nn::Adam& opt, const std::string& path) {
  naming(path, " (cannot resume)",
         [&] { nn::load_optimizer(ckpt.file, opt, "adam.", ckpt.state.adam_step); });
}

bool load_rng(const Checkpoint& ckpt, nn::Seq2SeqTransformer& model, const std::string& path) {
  if (ckpt.file.version < 2) return false;
  naming(path, " (cannot resume)", [&] { nn::load_dropout_states(model, ckpt.rng); });
  return true;
}

}  // namespace qkv::app
