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
// tokens in id order), as strings.
#pragma once

#include "examples/translator/checkpoint.h"
#include "nn/safetensors.h"

namespace qkv::app {

// Throws naming `path` if a tensor the config implies is missing or one is left over.
nn::SafeTensors to_pytorch(const Checkpoint& ckpt, const std::string& path);

std::string config_json(const nn::Seq2SeqConfig& c);
std::string vocab_json(const data::Vocab& v);

}  // namespace qkv::app
