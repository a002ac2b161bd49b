// The way back: a safetensors file under PyTorch's names (what to_pytorch writes, perhaps
// trained further or edited in PyTorch) → the config, vocabularies and weights of a qkv
// translator. Every check names the file and the tensor or metadata entry at fault.
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "examples/export/torch_names.h"
#include "nn/layers.h"

namespace qkv::app {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error(path + ": " + why);
}

const std::string& metadata(const nn::SafeTensors& f, const std::string& key,
                            const std::string& path) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end())
    fail(path, "no \"" + key + "\" in __metadata__ (export_checkpoint writes it: keep the " +
                   "metadata when saving from PyTorch)");
  return it->second;
}

// The config; *tie_given says whether it names "tie_output" (files exported before --import
// existed do not).
nn::Seq2SeqConfig read_config(const nn::SafeTensors& f, const std::string& path, bool* tie_given) {
  const std::string what = path + ": metadata \"config\"";
  const nn::Json j = nn::parse_json(metadata(f, "config", path), what);
  if (j.kind != nn::Json::Object) fail(path, "metadata \"config\" is not a JSON object");
  auto get = [&](const char* key, nn::Json::Kind kind, bool required) -> const nn::Json* {
    const nn::Json* v = j.member(key);
    if (!v && required) throw std::runtime_error(what + ": no \"" + key + "\"");
    if (v && v->kind != kind)
      throw std::runtime_error(what + ": \"" + key + "\" has the wrong type");
    return v;
  };
  auto count = [&](const char* key) -> int64_t {
    const nn::Json* v = get(key, nn::Json::Number, true);
    if (!v->whole || v->number > (uint64_t{1} << 31))
      throw std::runtime_error(what + ": \"" + key + "\" is not a whole number of a sane size");
    return static_cast<int64_t>(v->number);
  };
  auto flag = [&](const char* key, bool fallback) {
    const nn::Json* v = get(key, nn::Json::Bool, false);
    return v ? v->boolean : fallback;
  };
  nn::Seq2SeqConfig c;
  c.src_vocab = count("src_vocab");
  c.tgt_vocab = count("tgt_vocab");
  c.d_model = count("d_model");
  c.heads = count("heads");
  c.d_ff = count("d_ff");
  c.encoder_layers = count("encoder_layers");
  c.decoder_layers = count("decoder_layers");
  c.max_len = count("max_len");
  c.pad_id = count("pad_id");
  c.norm_first = flag("norm_first", false);
  // Written since --import exists; a file without them is read as the defaults of a model
  // whose output layer then decides the tying (read_weights).
  c.learned_positions = flag("learned_positions", false);
  c.share_embeddings = flag("share_embeddings", false);
  c.tie_output = flag("tie_output", true);
  *tie_given = j.member("tie_output") != nullptr;
  const nn::Json* dropout = get("dropout", nn::Json::Number, false);
  c.dropout = dropout ? static_cast<float>(dropout->real) : 0.f;
  const std::string activation = get("activation", nn::Json::String, true)->text;
  if (activation != "relu" && activation != "gelu")
    throw std::runtime_error(what + ": activation '" + activation + "', qkv has relu and gelu");
  c.activation = activation == "gelu" ? nn::Activation::GELU : nn::Activation::ReLU;
  const nn::Json* eps = get("layer_norm_eps", nn::Json::Number, false);
  if (eps && eps->real != 1e-5)
    throw std::runtime_error(what + ": layer_norm_eps " + std::to_string(eps->real) +
                             ", but qkv's LayerNorm uses 1e-05");
  for (auto [key, id] : {std::pair<const char*, int64_t>{"bos_id", data::Vocab::kBos},
                         {"eos_id", data::Vocab::kEos},
                         {"unk_id", data::Vocab::kUnk}})
    if (j.member(key) && count(key) != id)
      throw std::runtime_error(what + ": \"" + key + "\" must be " + std::to_string(id));
  try {  // the same checks a checkpoint's config gets (heads divide d_model, sizes positive…)
    return nn::config_from_text(nn::config_to_text(c));
  } catch (const std::exception& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
}

// A JSON array of tokens in id order → a Vocab (through its own checked text form).
data::Vocab read_vocab(const nn::SafeTensors& f, const std::string& key, int64_t size,
                       const std::string& path) {
  const std::string what = path + ": metadata \"" + key + "\"";
  const nn::Json j = nn::parse_json(metadata(f, key, path), what);
  if (j.kind != nn::Json::Array) fail(path, "metadata \"" + key + "\" is not a JSON array");
  if (static_cast<int64_t>(j.items.size()) != size)
    fail(path, "metadata \"" + key + "\" has " + std::to_string(j.items.size()) +
                   " tokens but the config says " + std::to_string(size));
  std::string text = "qkv-vocab 1 " + std::to_string(j.items.size()) + "\n";
  for (size_t i = 0; i < j.items.size(); ++i) {
    if (j.items[i].kind != nn::Json::String)
      fail(path, "metadata \"" + key + "\": token " + std::to_string(i) + " is not a string");
    std::string token;
    for (char ch : j.items[i].text)
      token += ch == '\\' ? "\\\\" : ch == '\t' ? "\\t" : ch == '\n' ? "\\n" : std::string(1, ch);
    text += std::to_string(i) + "\t" + token + "\t0\n";
  }
  try {
    return data::Vocab::deserialize(text);
  } catch (const std::exception& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

// Fills a qkv model's parameters from the file's tensors under PyTorch's names, and keeps
// account of both sides: every tensor of the file used, every parameter filled.
class Filler {
 public:
  Filler(const nn::SafeTensors& file, nn::Module& model, std::string path)
      : path_(std::move(path)) {
    for (const auto& [name, t] : file.tensors) torch_.emplace(name, t);
    for (const auto& [name, t] : model.named_parameters()) params_.emplace(name, t);
  }

  const Tensor& source(const std::string& name) {
    auto it = torch_.find(name);
    if (it == torch_.end())
      fail(path_, "no tensor '" + name + "', which the config in its metadata implies");
    used_.insert(name);
    return it->second;
  }

  // Copies block `part` of `parts` (rows stacked on dim 0, as in_proj stacks Q, K, V) of the
  // PyTorch tensor into the qkv parameter, after checking the PyTorch tensor's shape.
  void fill(const std::string& to, const std::string& from, int64_t part = 0, int64_t parts = 1) {
    const Tensor& src = source(from);
    Tensor dst = params_.at(to);
    Shape want = dst.shape();
    want[0] *= parts;
    if (src.shape() != want)
      fail(path_, "tensor '" + from + "' has shape " + shape_str(src.shape()) +
                      " but the config in its metadata needs " + shape_str(want));
    const size_t n = static_cast<size_t>(dst.numel());
    std::memcpy(dst.data(), src.data() + static_cast<size_t>(part) * n, n * sizeof(float));
    filled_.insert(to);
  }

  // weight and bias of a Linear or LayerNorm.
  void same(const std::string& to, const std::string& from) {
    fill(to + ".weight", from + ".weight");
    fill(to + ".bias", from + ".bias");
  }

  // PyTorch's in_proj holds Q, K and V stacked; qkv keeps three Linears.
  void attention(const std::string& to, const std::string& from) {
    const char* qkv[] = {".w_q", ".w_k", ".w_v"};
    for (int k = 0; k < 3; ++k) {
      fill(to + qkv[k] + ".weight", from + ".in_proj_weight", k, 3);
      fill(to + qkv[k] + ".bias", from + ".in_proj_bias", k, 3);
    }
    same(to + ".w_o", from + ".out_proj");
  }

  // A tensor qkv keeps once that PyTorch's model holds twice must be the same bytes there.
  void must_equal(const std::string& name, const std::string& other, const char* why) {
    if (!same_bytes(source(name), source(other)))
      fail(path_, "tensor '" + name + "' differs from '" + other + "', but " + why);
  }

  // A buffer in PyTorch: an edited one would change the model, so it must be the table.
  void sinusoidal_positions(int64_t max_len, int64_t d_model) {
    const Tensor& p = source("positions");
    const Tensor table = nn::sinusoidal_positions(max_len, d_model);
    if (p.shape() != table.shape())
      fail(path_, "tensor 'positions' has shape " + shape_str(p.shape()) +
                      " but the config in its metadata needs " + shape_str(table.shape()));
    for (int64_t i = 0; i < p.numel(); ++i)
      if (std::fabs(p.data()[i] - table.data()[i]) > 1e-6f)
        fail(path_, "tensor 'positions' differs from the sinusoidal table at element " +
                        std::to_string(i) + "; a model with learned positions says " +
                        "\"learned_positions\": true in its config");
  }

  void check_complete() const {
    for (const auto& [name, t] : torch_)
      if (!used_.count(name))
        fail(path_, "tensor '" + name + "' has no place in the model its config describes");
    for (const auto& [name, t] : params_)
      if (!filled_.count(name)) fail(path_, "nothing fills parameter '" + name + "' (a qkv bug)");
  }

 private:
  std::string path_;
  std::map<std::string, Tensor> torch_, params_;
  std::set<std::string> used_, filled_;
};

void fill_embeddings(Filler& f, const nn::Seq2SeqConfig& c) {
  f.fill("src_embed.weight", "src_embed.weight");
  if (c.share_embeddings)
    f.must_equal("tgt_embed.weight", "src_embed.weight", "the config shares the embeddings");
  else
    f.fill("tgt_embed.weight", "tgt_embed.weight");
  if (c.learned_positions)
    f.fill("positions.table", "positions");
  else
    f.sinusoidal_positions(c.max_len, c.d_model);
}

void fill_layers(Filler& f, const nn::Seq2SeqConfig& c) {
  for (const char* stack : {"encoder", "decoder"}) {
    const bool dec = std::string(stack) == "decoder";
    for (int64_t i = 0; i < (dec ? c.decoder_layers : c.encoder_layers); ++i) {
      const std::string p = std::string(stack) + ".layers." + std::to_string(i);
      f.attention(p + ".self_attn", p + ".self_attn");
      if (dec) f.attention(p + ".cross_attn", p + ".multihead_attn");
      f.same(p + ".ffn.linear1", p + ".linear1");
      f.same(p + ".ffn.linear2", p + ".linear2");
      for (int k = 1; k <= (dec ? 3 : 2); ++k)
        f.same(p + ".add_norm" + std::to_string(k) + ".norm", p + ".norm" + std::to_string(k));
    }
    if (c.norm_first) f.same(std::string(stack) + ".final_norm", std::string(stack) + ".norm");
  }
}

void fill_output(Filler& f, const nn::Seq2SeqConfig& c) {
  if (c.tie_output) {
    f.must_equal("output.weight", "tgt_embed.weight",
                 "the config ties the output layer to the target embedding (\"tie_output\": true)");
    f.fill("output_bias", "output.bias");
  } else {
    f.same("output", "output");
  }
}

}  // namespace

Imported from_pytorch(const nn::SafeTensors& file, const std::string& path) {
  Imported out;
  bool tie_given = false;
  nn::Seq2SeqConfig c = read_config(file, path, &tie_given);
  out.src_vocab = read_vocab(file, "src_vocab", c.src_vocab, path);
  out.tgt_vocab = read_vocab(file, "tgt_vocab", c.tgt_vocab, path);
  // A file without "tie_output" (written before --import existed) ties when it can exactly.
  auto tensor = [&](const char* name) -> const Tensor* {
    for (const auto& [n, t] : file.tensors)
      if (n == name) return &t;
    return nullptr;
  };
  if (!tie_given && tensor("output.weight") && tensor("tgt_embed.weight"))
    c.tie_output = same_bytes(*tensor("output.weight"), *tensor("tgt_embed.weight"));
  out.config = c;

  Generator gen(0);  // every weight is overwritten below
  out.model = std::make_unique<nn::Seq2SeqTransformer>(c, gen);
  Filler f(file, *out.model, path);
  fill_embeddings(f, c);
  fill_layers(f, c);
  fill_output(f, c);
  f.check_complete();
  return out;
}

}  // namespace qkv::app
