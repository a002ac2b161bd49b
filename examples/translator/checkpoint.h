// The translator's checkpoint: one nn/serialize tensor file (magic "qkv-xlat", version 2)
// holding everything needed to translate and to resume training exactly, assembled from
// nn/state.h's pieces (the config's text, put_module, put_optimizer, dropout_states):
//
//   text   "config"      the Seq2SeqConfig, one "key value" per line
//   text   "train"       the training settings and position, one "key value" per line
//   text   "src_vocab"   data::Vocab::serialize() of the source vocabulary
//   text   "tgt_vocab"   the same for the target vocabulary
//   text   "rng"         every Dropout generator's state, one "module s0 s1 s2 s3 spare" per line
//   tensor "model.<name>"   every model.named_parameters() entry ("generator." before the
//                           output layer was renamed "output.": such files still load)
//   tensor "adam.m.<name>"  Adam's first moment for that parameter   (only when training
//   tensor "adam.v.<name>"  Adam's second moment                      state was saved)
//   tensor "train.losses"   [steps] the loss of every step so far (for the loss curve)
//
// docs/12-training.md documents every field so another program can read the file.
//
// Dropout is the only randomness in a training step (initialisation and the batch plan are
// functions of the seed), and each Dropout module advances its own generator with every
// mask. Version 2 saves those generators' states, as a PyTorch training loop saves
// torch.get_rng_state() (Hugging Face's Trainer: rng_state.pth), so a resumed run draws the
// masks the uninterrupted run would have. The alternative, masks as a pure function of
// (seed, step, module), would need the step passed down into every forward and would change
// every mask drawn so far; saved states leave Dropout as it is. Version 1 files (no "rng")
// still load: they translate, and resume exactly only without dropout.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autograd/random.h"
#include "data/vocab.h"
#include "nn/optim.h"
#include "nn/serialize.h"
#include "nn/state.h"
#include "nn/transformer.h"

namespace qkv::app {

inline const char kCheckpointMagic[] = "qkv-xlat";
constexpr uint32_t kCheckpointVersion = 2;
constexpr uint32_t kCheckpointOldestVersion = 1;  // the same records without "rng"

// Everything about a run that is not a tensor: settings and where training stands.
struct TrainState {
  int64_t step = 0;            // optimizer steps done
  int64_t epoch = 0;           // the epoch the next batch comes from
  int64_t batch_in_epoch = 0;  // the index of the next batch in that epoch's plan
  int64_t adam_step = 0;       // Adam's t (read back from the file; written from the optimizer)
  std::map<std::string, std::string> settings;  // lr, warmup, batch size, seed, task, … as text
};

struct Checkpoint {
  nn::Seq2SeqConfig config;
  data::Vocab src_vocab, tgt_vocab;
  TrainState state;
  std::vector<float> losses;
  nn::GeneratorStates rng;  // by Dropout module name; empty in a version 1 file
  nn::TensorFile file;      // the raw tensors, for load_model / load_optimizer
};

// Writes atomically (a temporary file, then rename). `opt` may be null (no Adam state).
void save_checkpoint(const std::string& path, const nn::Seq2SeqConfig& config,
                     const data::Vocab& src_vocab, const data::Vocab& tgt_vocab,
                     const nn::Seq2SeqTransformer& model, const nn::Adam* opt,
                     const TrainState& state, const std::vector<float>& losses);

// Reads and checks the file; throws std::runtime_error naming the file and the problem
// (truncated, foreign magic, wrong version, malformed config, vocabulary or rng).
Checkpoint load_checkpoint(const std::string& path);

// A model built from the checkpoint's config, with its weights loaded; a tensor of the
// wrong shape, or a missing or unexpected one, throws naming it.
std::unique_ptr<nn::Seq2SeqTransformer> load_model(const Checkpoint& ckpt, const std::string& path);
// The checkpoint's weights copied into a model built from its config (what --resume does
// to the model it trains); throws naming the file if a tensor is missing or misshapen.
void load_weights(const Checkpoint& ckpt, nn::Seq2SeqTransformer& model, const std::string& path);
// Adam's moments and step count; the optimizer must hold the model's named parameters.
void load_optimizer(const Checkpoint& ckpt, nn::Adam& opt, const std::string& path);
// Sets every Dropout generator of the model to its saved state; a Dropout the file does not
// name, or a name that is no Dropout of the model, throws naming it. Returns false, changing
// nothing, for a version 1 file, which has no generator states.
bool load_rng(const Checkpoint& ckpt, nn::Seq2SeqTransformer& model, const std::string& path);

}  // namespace qkv::app
