#include "examples/export/torch_names.h"

#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

#include "autograd/ops.h"
#include "nn/layers.h"

namespace qkv::app {

std::string config_json(const nn::Seq2SeqConfig& c) {
  auto b = [](bool v) { return v ? "true" : "false"; };
  char dropout[32];  // shortest text that reads back as the same float
  std::snprintf(dropout, sizeof dropout, "%.9g", static_cast<double>(c.dropout));
  return "{\"src_vocab\": " + std::to_string(c.src_vocab) +
         ", \"tgt_vocab\": " + std::to_string(c.tgt_vocab) +
         ", \"d_model\": " + std::to_string(c.d_model) + ", \"heads\": " + std::to_string(c.heads) +
         ", \"d_ff\": " + std::to_string(c.d_ff) +
         ", \"encoder_layers\": " + std::to_string(c.encoder_layers) +
         ", \"decoder_layers\": " + std::to_string(c.decoder_layers) +
         ", \"max_len\": " + std::to_string(c.max_len) + ", \"norm_first\": " + b(c.norm_first) +
         ", \"learned_positions\": " + b(c.learned_positions) +
         ", \"tie_output\": " + b(c.tie_output) +
         ", \"share_embeddings\": " + b(c.share_embeddings) + ", \"dropout\": " + dropout +
         ", \"activation\": \"" + (c.activation == nn::Activation::GELU ? "gelu" : "relu") +
         "\", \"layer_norm_eps\": 1e-05, \"embedding_scale\": \"sqrt(d_model)\", \"pad_id\": " +
         std::to_string(c.pad_id) + ", \"bos_id\": 1, \"eos_id\": 2, \"unk_id\": 3}";
}

std::string vocab_json(const data::Vocab& v) {
  std::string out = "[";
  for (TokenId i = 0; i < v.size(); ++i) out += (i ? ", " : "") + nn::json_quote(v.token(i));
  return out + "]";
}

nn::SafeTensors to_pytorch(const Checkpoint& ckpt, const std::string& path) {
  const nn::Seq2SeqConfig& c = ckpt.config;
  std::map<std::string, Tensor> model;  // the checkpoint's "model.*" tensors, by qkv name
  for (const auto& [name, t] : ckpt.file.tensors)
    if (name.rfind("model.", 0) == 0) model.emplace(name.substr(6), t);
  std::set<std::string> used;
  auto take = [&](const std::string& name) -> Tensor {
    auto it = model.find(name);
    if (it == model.end())
      throw std::runtime_error(path + ": no tensor 'model." + name +
                               "', which the config implies (a corrupt checkpoint?)");
    used.insert(name);
    return it->second;
  };
  nn::SafeTensors out;
  auto put = [&](const std::string& name, const Tensor& t) { out.tensors.emplace_back(name, t); };

  put("src_embed.weight", take("src_embed.weight"));
  const Tensor tgt = take(c.share_embeddings ? "src_embed.weight" : "tgt_embed.weight");
  put("tgt_embed.weight", tgt);
  put("positions", c.learned_positions ? take("positions.table")
                                       : nn::sinusoidal_positions(c.max_len, c.d_model));
  auto attention = [&](const std::string& to, const std::string& from) {
    put(to + ".in_proj_weight",
        concat({take(from + ".w_q.weight"), take(from + ".w_k.weight"), take(from + ".w_v.weight")},
               0));
    put(to + ".in_proj_bias",
        concat({take(from + ".w_q.bias"), take(from + ".w_k.bias"), take(from + ".w_v.bias")}, 0));
    put(to + ".out_proj.weight", take(from + ".w_o.weight"));
    put(to + ".out_proj.bias", take(from + ".w_o.bias"));
  };
  auto same = [&](const std::string& to, const std::string& from) {
    put(to + ".weight", take(from + ".weight"));
    put(to + ".bias", take(from + ".bias"));
  };
  for (const char* stack : {"encoder", "decoder"}) {
    const bool dec = std::string(stack) == "decoder";
    const int64_t n = dec ? c.decoder_layers : c.encoder_layers;
    for (int64_t i = 0; i < n; ++i) {
      const std::string p = std::string(stack) + ".layers." + std::to_string(i);
      attention(p + ".self_attn", p + ".self_attn");
      if (dec) attention(p + ".multihead_attn", p + ".cross_attn");
      same(p + ".linear1", p + ".ffn.linear1");
      same(p + ".linear2", p + ".ffn.linear2");
      for (int k = 1; k <= (dec ? 3 : 2); ++k)
        same(p + ".norm" + std::to_string(k), p + ".add_norm" + std::to_string(k) + ".norm");
    }
    if (c.norm_first) same(std::string(stack) + ".norm", std::string(stack) + ".final_norm");
  }
  if (c.tie_output) {
    put("output.weight", tgt);
    put("output.bias", take("output_bias"));
  } else {  // "output" since the restructure; "generator" in older checkpoints
    same("output", model.count("output.weight") ? "output" : "generator");
  }
  for (const auto& [name, t] : model)
    if (!used.count(name))
      throw std::runtime_error(path + ": tensor 'model." + name +
                               "' has no place in the exported model (a newer checkpoint?)");

  out.metadata["format"] = "qkv seq2seq Transformer (docs/export-to-pytorch.md)";
  out.metadata["config"] = config_json(c);
  out.metadata["src_vocab"] = vocab_json(ckpt.src_vocab);
  out.metadata["tgt_vocab"] = vocab_json(ckpt.tgt_vocab);
  return out;
}

}  // namespace qkv::app
