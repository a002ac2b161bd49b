// build/export_checkpoint: a translator checkpoint → one safetensors file PyTorch loads with
// load_state_dict(strict=True) (docs/export-to-pytorch.md, chapter 13).
//
//   build/export_checkpoint --checkpoint build/translator.ckpt --out build/translator.safetensors
//   build/export_checkpoint --import build/translator.safetensors --out build/imported.ckpt
//   build/export_checkpoint --checkpoint build/translator.ckpt --out build/translator.safetensors
//       --logits-out build/qkv_logits.safetensors "I love you." "Good morning!"   (one line)
//
// With --logits-out it also writes what qkv itself makes of the given sentences: its greedy
// translation (token ids) and the logits of every decoding step, so that
// docs/pytorch/translate.py can print the largest difference to PyTorch's.
// The last line it prints is the path of the exported model.
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "data/tokenizer.h"
#include "examples/cli.h"
#include "examples/export/torch_names.h"
#include "examples/translator/checkpoint.h"
#include "examples/translator/pipeline.h"

using namespace qkv;
using app::UsageError;

namespace {

// For each sentence: its greedy translation, and the logits [T+1, tgt_vocab] the model gives
// when it reads <bos> and that translation (the last row is the step that chose <eos>).
nn::SafeTensors reference_logits(const app::Checkpoint& ckpt, const std::string& path,
                                 const std::vector<std::string>& sentences) {
  auto model = app::load_model(ckpt, path);
  NoGradGuard no_grad;
  model->eval();
  nn::SafeTensors out;
  std::string texts = "[", outputs = "[";
  for (size_t i = 0; i < sentences.size(); ++i) {
    const auto src = app::to_ids(ckpt.src_vocab, data::tokenize(sentences[i]));
    const auto hyp = app::translate_ids(*model, {src}, app::TranslateOptions{})[0];
    std::vector<float> s(src.begin(), src.end()), t{static_cast<float>(data::Vocab::kBos)};
    std::string ids;
    for (int64_t id : hyp) {
      t.push_back(static_cast<float>(id));
      ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    }
    const int64_t S = static_cast<int64_t>(s.size()), T = static_cast<int64_t>(t.size());
    Tensor logits = model->forward(Tensor::from_vector(s, {1, S}), Tensor::ones({1, S}),
                                   Tensor::from_vector(t, {1, T}), Tensor::ones({1, T}));
    out.tensors.emplace_back("logits." + std::to_string(i),
                             reshape(logits, {T, ckpt.config.tgt_vocab}));
    texts += (i ? ", " : "") + nn::json_quote(sentences[i]);
    outputs += std::string(i ? ", " : "") + "[" + ids + "]";
    std::printf("qkv: %s → %s\n", sentences[i].c_str(),
                data::detokenize(app::to_tokens(ckpt.tgt_vocab, hyp)).c_str());
  }
  out.metadata["sentences"] = texts + "]";
  out.metadata["outputs"] = outputs + "]";
  return out;
}

// --import: a safetensors file under PyTorch's names → a translator checkpoint (no optimizer
// state: it translates, and training it further starts a new run from its weights).
int import_file(const std::string& in, const std::string& out) {
  const app::Imported m = app::from_pytorch(nn::load_safetensors(in), in);
  app::save_checkpoint(out, m.config, m.src_vocab, m.tgt_vocab, *m.model, nullptr,
                       app::TrainState{}, {});
  std::printf("imported %lld parameters (%s config, %d + %d tokens of vocabulary)\n",
              static_cast<long long>(m.model->num_parameters()),
              m.config.norm_first ? "pre-norm" : "post-norm", m.src_vocab.size(),
              m.tgt_vocab.size());
  std::printf("%s\n", out.c_str());
  return 0;
}

int run(int argc, char** argv) {
  std::string checkpoint, out, logits_out, import;
  app::ArgParser args(
      "export_checkpoint",
      "Writes a translator checkpoint's weights as safetensors, under the names of a model\n"
      "made of torch.nn.TransformerEncoder/TransformerDecoder, two embeddings and an output\n"
      "layer, with the config and both vocabularies in its metadata\n"
      "(docs/export-to-pytorch.md). With --import, the other way: such a file (trained or\n"
      "edited in PyTorch) becomes a checkpoint. Prints, last, the path written.");
  args.option("--checkpoint", "X.ckpt", "the checkpoint to export (required)", checkpoint);
  args.option("--import", "MODEL.safetensors",
              "read this file (PyTorch's names, the exporter's metadata) and write the "
              "checkpoint --out instead",
              import);
  args.option("--out", "PATH", "the file to write: safetensors, or with --import the checkpoint",
              out);
  args.option("--logits-out", "PATH",
              "also write qkv's greedy translations of TEXT and their logits (for comparing)",
              logits_out);
  args.positional("TEXT", "sentences for --logits-out");
  if (!args.parse(argc, argv)) return 0;
  if (!import.empty()) {
    if (!checkpoint.empty() || !logits_out.empty() || !args.positionals().empty())
      throw UsageError("--import takes only --out");
    if (out.empty()) throw UsageError("--import needs --out X.ckpt");
    return import_file(import, out);
  }
  if (checkpoint.empty() || out.empty()) throw UsageError("--checkpoint and --out are required");
  if (!args.positionals().empty() && logits_out.empty())
    throw UsageError("sentences are only used with --logits-out");

  const app::Checkpoint ckpt = app::load_checkpoint(checkpoint);
  const nn::SafeTensors file = app::to_pytorch(ckpt, checkpoint);
  if (!logits_out.empty())
    nn::save_safetensors(logits_out, reference_logits(ckpt, checkpoint, args.positionals()));
  nn::save_safetensors(out, file);
  std::printf("exported %zu tensors (%s config, %d + %d tokens of vocabulary)\n",
              file.tensors.size(), ckpt.config.norm_first ? "pre-norm" : "post-norm",
              ckpt.src_vocab.size(), ckpt.tgt_vocab.size());
  if (!logits_out.empty()) std::printf("qkv's logits: %s\n", logits_out.c_str());
  std::printf("%s\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return app::run_app("export_checkpoint", run, argc, argv); }
