#include "examples/translator/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "autograd/random.h"

namespace qkv::app {

namespace {
std::string fmt_float(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// "key value" lines → a map; a line without a space is an error naming the source.
std::map<std::string, std::string> parse_lines(const std::string& text, const std::string& source,
                                               const std::string& what) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos)
      throw std::runtime_error(source + ": malformed " + what + " line '" + line + "'");
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

// `section` names the record ("config", "train") in the error messages.
int64_t get_int(const std::map<std::string, std::string>& kv, const std::string& key,
                const std::string& source, const char* section = "config") {
  auto it = kv.find(key);
  if (it == kv.end())
    throw std::runtime_error(source + ": the " + section + " record has no '" + key + "'");
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw std::runtime_error(source + ": " + section + " '" + key + "' is not an integer: '" +
                             it->second + "'");
  }
}

// Every Dropout of the model by module name, e.g. "encoder.layers.0.self_attn.attn_dropout":
// the generators a training step draws from.
std::vector<std::pair<std::string, nn::Dropout*>> dropouts(const nn::Module& model) {
  std::vector<std::pair<std::string, nn::Dropout*>> out;
  for (const auto& [name, m] : model.named_modules())
    if (auto* d = dynamic_cast<nn::Dropout*>(m.get())) out.emplace_back(name, d);
  return out;
}

// One generator's state as "s0 s1 s2 s3 spare": xoshiro's four words in 16 hex digits each,
// then normal()'s kept number as the 8 hex digits of its float bits, or "-" if none.
std::string rng_to_text(const Generator::State& g) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%016llx %016llx %016llx %016llx ",
                static_cast<unsigned long long>(g.s[0]), static_cast<unsigned long long>(g.s[1]),
                static_cast<unsigned long long>(g.s[2]), static_cast<unsigned long long>(g.s[3]));
  std::string out = buf;
  if (!g.has_spare) return out + "-";
  uint32_t bits;
  std::memcpy(&bits, &g.spare, 4);
  std::snprintf(buf, sizeof buf, "%08x", bits);
  return out + buf;
}

Generator::State rng_from_text(const std::string& name, const std::string& text,
                               const std::string& source) {
  auto fail = [&] {
    return std::runtime_error(
        source + ": malformed rng line '" + name + " " + text +
        "' (expected: module, four 16-digit hex words, then '-' or 8 hex digits)");
  };
  auto hex = [&](const std::string& word, size_t digits) {
    if (word.size() != digits || word.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw fail();
    return std::stoull(word, nullptr, 16);
  };
  std::istringstream in(text);
  std::string w[5], extra;
  if (!(in >> w[0] >> w[1] >> w[2] >> w[3] >> w[4]) || (in >> extra)) throw fail();
  Generator::State g{};
  for (int i = 0; i < 4; ++i) g.s[i] = hex(w[i], 16);
  if ((g.s[0] | g.s[1] | g.s[2] | g.s[3]) == 0) throw fail();  // xoshiro's one impossible state
  g.has_spare = w[4] != "-";
  if (g.has_spare) {
    const uint32_t bits = static_cast<uint32_t>(hex(w[4], 8));
    std::memcpy(&g.spare, &bits, 4);
  }
  return g;
}
}  // namespace

std::string config_to_text(const nn::Seq2SeqConfig& c) {
  std::ostringstream o;
  o << "src_vocab " << c.src_vocab << "\ntgt_vocab " << c.tgt_vocab << "\nd_model " << c.d_model
    << "\nheads " << c.heads << "\nd_ff " << c.d_ff << "\nencoder_layers " << c.encoder_layers
    << "\ndecoder_layers " << c.decoder_layers << "\nmax_len " << c.max_len << "\ndropout "
    << fmt_float(c.dropout) << "\nnorm_first " << c.norm_first << "\nlearned_positions "
    << c.learned_positions << "\ntie_output " << c.tie_output << "\nshare_embeddings "
    << c.share_embeddings << "\nactivation "
    << (c.activation == nn::Activation::GELU ? "gelu" : "relu") << "\npad_id " << c.pad_id << "\n";
  return o.str();
}

nn::Seq2SeqConfig config_from_text(const std::string& text, const std::string& source) {
  auto kv = parse_lines(text, source, "config");
  nn::Seq2SeqConfig c;
  c.src_vocab = get_int(kv, "src_vocab", source);
  c.tgt_vocab = get_int(kv, "tgt_vocab", source);
  c.d_model = get_int(kv, "d_model", source);
  c.heads = get_int(kv, "heads", source);
  c.d_ff = get_int(kv, "d_ff", source);
  c.encoder_layers = get_int(kv, "encoder_layers", source);
  c.decoder_layers = get_int(kv, "decoder_layers", source);
  c.max_len = get_int(kv, "max_len", source);
  c.norm_first = get_int(kv, "norm_first", source) != 0;
  c.learned_positions = get_int(kv, "learned_positions", source) != 0;
  c.tie_output = get_int(kv, "tie_output", source) != 0;
  c.share_embeddings = get_int(kv, "share_embeddings", source) != 0;
  c.pad_id = get_int(kv, "pad_id", source);
  const std::string act = kv.count("activation") ? kv["activation"] : "";
  if (act != "relu" && act != "gelu")
    throw std::runtime_error(source + ": config 'activation' is '" + act + "'");
  c.activation = act == "gelu" ? nn::Activation::GELU : nn::Activation::ReLU;
  try {
    c.dropout = std::stof(kv.at("dropout"));
  } catch (const std::exception&) {
    throw std::runtime_error(source + ": config 'dropout' is missing or not a number");
  }
  if (c.src_vocab <= 0 || c.tgt_vocab <= 0 || c.d_model <= 0 || c.heads <= 0 || c.d_ff <= 0 ||
      c.encoder_layers < 0 || c.decoder_layers < 0 || c.max_len <= 0 || c.d_model % c.heads != 0)
    throw std::runtime_error(source + ": the config describes an impossible model:\n" + text);
  return c;
}

void save_checkpoint(const std::string& path, const nn::Seq2SeqConfig& config,
                     const data::Vocab& src_vocab, const data::Vocab& tgt_vocab,
                     const nn::Seq2SeqTransformer& model, const nn::Adam* opt,
                     const TrainState& state, const std::vector<float>& losses) {
  nn::TensorFile f;
  f.magic = kCheckpointMagic;
  f.version = kCheckpointVersion;
  f.texts.emplace_back("config", config_to_text(config));
  std::ostringstream train;
  train << "step " << state.step << "\nepoch " << state.epoch << "\nbatch_in_epoch "
        << state.batch_in_epoch << "\nadam_step " << (opt ? opt->steps() : 0) << "\n";
  for (const auto& [k, v] : state.settings) train << k << " " << v << "\n";
  f.texts.emplace_back("train", train.str());
  f.texts.emplace_back("src_vocab", src_vocab.serialize());
  f.texts.emplace_back("tgt_vocab", tgt_vocab.serialize());
  std::string rng;
  for (const auto& [name, d] : dropouts(model))
    rng += name + " " + rng_to_text(d->generator().get_state()) + "\n";
  f.texts.emplace_back("rng", rng);
  const auto named = model.named_parameters();
  for (const auto& [name, t] : named) f.tensors.emplace_back("model." + name, t);
  if (opt) {
    if (opt->m.size() != named.size())
      throw std::logic_error("save_checkpoint: the optimizer is not the model's");
    for (size_t i = 0; i < named.size(); ++i)
      f.tensors.emplace_back("adam.m." + named[i].first, opt->m[i]);
    for (size_t i = 0; i < named.size(); ++i)
      f.tensors.emplace_back("adam.v." + named[i].first, opt->v[i]);
  }
  f.tensors.emplace_back("train.losses",
                         Tensor::from_vector(losses, {static_cast<int64_t>(losses.size())}));
  nn::save_tensor_file(path, f);
}

Checkpoint load_checkpoint(const std::string& path) {
  Checkpoint c;
  c.file =
      nn::load_tensor_file(path, kCheckpointMagic, kCheckpointVersion, kCheckpointOldestVersion);
  try {
    c.config = config_from_text(c.file.text("config"), path);
    c.src_vocab = data::Vocab::deserialize(c.file.text("src_vocab"));
    c.tgt_vocab = data::Vocab::deserialize(c.file.text("tgt_vocab"));
    auto kv = parse_lines(c.file.text("train"), path, "train");
    c.state.step = get_int(kv, "step", path, "train");
    c.state.epoch = get_int(kv, "epoch", path, "train");
    c.state.batch_in_epoch = get_int(kv, "batch_in_epoch", path, "train");
    c.state.adam_step =
        kv.count("adam_step") ? get_int(kv, "adam_step", path, "train") : c.state.step;
    for (const char* key : {"step", "epoch", "batch_in_epoch", "adam_step"}) kv.erase(key);
    c.state.settings = kv;
    if (c.file.has_tensor("train.losses")) c.losses = c.file.tensor("train.losses").to_vector();
    if (c.file.version >= 2)
      for (const auto& [name, text] : parse_lines(c.file.text("rng"), path, "rng"))
        c.rng[name] = rng_from_text(name, text, path);
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    throw std::runtime_error(msg.rfind(path, 0) == 0 ? msg : path + ": " + msg);
  }
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
  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : ckpt.file.tensors)
    if (name.rfind("model.", 0) == 0) state.emplace(name.substr(6), t);
  try {
    model.load_state_dict(state);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what() +
                             " (a checkpoint of another model, or a corrupt file)");
  }
}

void load_optimizer(const Checkpoint& ckpt, const nn::Seq2SeqTransformer& model, nn::Adam& opt,
                    const std::string& path) {
  const auto named = model.named_parameters();
  auto copy_into = [&](const std::string& key, Tensor& dst) {
    if (!ckpt.file.has_tensor(key))
      throw std::runtime_error(path + ": no optimizer state '" + key + "' (cannot resume)");
    const Tensor& src = ckpt.file.tensor(key);
    if (src.shape() != dst.shape())
      throw std::runtime_error(path + ": optimizer state '" + key + "' has shape " +
                               shape_str(src.shape()) + ", the parameter " +
                               shape_str(dst.shape()));
    std::copy(src.data(), src.data() + src.numel(), dst.data());
  };
  for (size_t i = 0; i < named.size(); ++i) {
    copy_into("adam.m." + named[i].first, opt.m[i]);
    copy_into("adam.v." + named[i].first, opt.v[i]);
  }
  opt.set_steps(ckpt.state.adam_step);
}

bool load_rng(const Checkpoint& ckpt, nn::Seq2SeqTransformer& model, const std::string& path) {
  if (ckpt.file.version < 2) return false;
  const auto list = dropouts(model);
  const std::map<std::string, nn::Dropout*> mine(list.begin(), list.end());
  for (const auto& [name, d] : mine)
    if (!ckpt.rng.count(name))
      throw std::runtime_error(path + ": no rng state for the dropout '" + name +
                               "' (cannot resume)");
  for (const auto& [name, state] : ckpt.rng)
    if (!mine.count(name))
      throw std::runtime_error(path + ": rng state for '" + name +
                               "', which is no dropout of the model");
  for (const auto& [name, d] : mine) d->generator().set_state(ckpt.rng.at(name));
  return true;
}

}  // namespace qkv::app
