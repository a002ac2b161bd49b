// A translator checkpoint under PyTorch's names (docs/export-to-pytorch.md).
//
// The target is the model docs/pytorch/translate.py builds from torch.nn pieces:
//   src_embed, tgt_embed        nn.Embedding                       ← src_embed, tgt_embed
//   positions                   a buffer [max_len, d_model]        ← the sinusoidal table (or
//                                                                    the learned one)
//   encoder                     nn.TransformerEncoder(batch_first, norm_first as trained)
//     layers.i.self_attn.in_proj_weight  [3D, D] = rows of w_q, then w_k, then w_v
//     layers.i.self_attn.in_proj_bias    [3D]    = b_q, b_k, b_v
//     layers.i.self_attn.out_proj.{weight,bias}  ← w_o
//     layers.i.linear1/linear2   ← ffn.linear1/linear2
//     layers.i.norm1/norm2       ← add_norm1.norm/add_norm2.norm
//     norm                       ← final_norm (pre-norm only: PyTorch has no final norm
//                                  unless it is given one, and post-norm needs none)
//   decoder                     nn.TransformerDecoder: the same, with multihead_attn ←
//                               cross_attn and norm3 ← add_norm3.norm
//   output                      nn.Linear(D, tgt_vocab) ← the target embedding (tied) and
//                               output_bias, or the untied output layer ("output", or
//                               "generator" in checkpoints written before it was renamed)
// The metadata holds the config (a JSON object) and both vocabularies (JSON arrays of
// tokens in id order), as strings. from_pytorch reads all of it back.
#pragma once

#include <memory>

#include "examples/translator/checkpoint.h"
#include "nn/safetensors.h"

namespace qkv::app {

// Throws naming `path` if a tensor the config implies is missing or one is left over.
nn::SafeTensors to_pytorch(const Checkpoint& ckpt, const std::string& path);

// The way back (export_checkpoint --import): the config and vocabularies from the metadata,
// the model with the file's weights. Throws naming `path` and the tensor or metadata entry at
// fault: a missing tensor, a wrong shape, a tensor with no place in the model, a tied pair
// (output/target embedding) that differs, an edited sinusoidal table, a bad config or vocab.
// (A wrong dtype or a truncated file is caught by nn::load_safetensors, naming the tensor.)
struct Imported {
  nn::Seq2SeqConfig config;
  data::Vocab src_vocab, tgt_vocab;
  std::unique_ptr<nn::Seq2SeqTransformer> model;
};
Imported from_pytorch(const nn::SafeTensors& file, const std::string& path);

std::string config_json(const nn::Seq2SeqConfig& c);
std::string vocab_json(const data::Vocab& v);

}  // namespace qkv::app
