// build/translate: translates with a checkpoint that build/train_translator wrote (ch. 13).
//
//   build/translate --checkpoint build/translator.ckpt "I love you."
//   build/translate --checkpoint build/translator.ckpt --beam 4 --attention att.svg "I love you."
//   echo "Good morning!" | build/translate --checkpoint build/translator.ckpt
//
// Each argument is one sentence (quote it); without arguments it reads stdin line by line,
// with a prompt when stdin is a terminal. The last line it prints is the translation.
#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "data/tokenizer.h"
#include "examples/cli.h"
#include "examples/plot/heatmap.h"
#include "examples/translator/checkpoint.h"
#include "examples/translator/pipeline.h"

using namespace qkv;
using app::UsageError;

namespace {

// Cross-attention of one decoder layer while the decoder reads <bos> y1 … yn with teacher
// forcing: weights [1, H, n+1, S]. Row t is the step that produced y(t+1) (or <eos>).
Tensor cross_attention(nn::Seq2SeqTransformer& model, const std::vector<int64_t>& src,
                       const std::vector<int64_t>& out, int64_t layer) {
  NoGradGuard no_grad;
  model.eval();
  const int64_t S = static_cast<int64_t>(src.size()), T = static_cast<int64_t>(out.size()) + 1;
  std::vector<float> s(src.begin(), src.end()), t{static_cast<float>(data::Vocab::kBos)};
  for (int64_t id : out) t.push_back(static_cast<float>(id));
  Tensor src_ids = Tensor::from_vector(s, {1, S}), tgt_ids = Tensor::from_vector(t, {1, T});
  std::vector<Tensor> weights;  // one [1, H, T, S] per decoder layer, on request
  model.decode(tgt_ids, model.encode(src_ids, Tensor::ones({1, S})), Tensor::ones({1, S}),
               Tensor::ones({1, T}), &weights);
  return weights[static_cast<size_t>(layer)];
}

void write_attention_svg(const std::string& path, const Tensor& w,
                         const std::vector<std::string>& src_tokens,
                         const std::vector<std::string>& out_tokens, int64_t layer, int64_t layers,
                         const std::string& source, const std::string& translation) {
  const int64_t H = w.size(1), T = w.size(2), S = w.size(3);
  std::vector<std::vector<std::vector<float>>> panels;
  std::vector<std::string> titles;
  std::vector<std::vector<float>> mean(static_cast<size_t>(T),
                                       std::vector<float>(static_cast<size_t>(S), 0.f));
  for (int64_t h = 0; h < H; ++h) {
    std::vector<std::vector<float>> panel(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t s = 0; s < S; ++s) {
        const float v = w.data()[((h * T) + t) * S + s];
        panel[static_cast<size_t>(t)].push_back(v);
        mean[static_cast<size_t>(t)][static_cast<size_t>(s)] += v / static_cast<float>(H);
      }
    panels.push_back(std::move(panel));
    titles.push_back("head " + std::to_string(h + 1) + " of " + std::to_string(H));
  }
  panels.insert(panels.begin(), mean);
  titles.insert(titles.begin(), "mean of the " + std::to_string(H) + " heads");
  std::vector<std::string> rows = out_tokens;
  rows.push_back("<eos>");
  // Layers and heads are counted from 1 here, as the text counts them ("layer 2 of 2");
  // --attention-layer counts from 0.
  const std::string title = "cross-attention, decoder layer " + std::to_string(layer + 1) + " of " +
                            std::to_string(layers) + ": " + source + " → " + translation;
  std::ofstream f(path);
  f << plot::attention_svg(panels, src_tokens, rows, titles, title);
  if (!f) throw std::runtime_error("cannot write " + path);
}

struct Flags {
  std::string checkpoint, attention;
  int64_t beam = 1, max_len = 0, threads = 0, layer = -1;
  double length_penalty = 1.0;
  bool show_tokens = false;
};

void declare_flags(app::ArgParser& args, Flags& f) {
  args.option("--checkpoint", "PATH", "the checkpoint to translate with (required)", f.checkpoint);
  args.option("--beam", "N", "beam search with N hypotheses (default 1: greedy)", f.beam);
  args.option("--length-penalty", "A", "beam scores are log p / length^A (default 1)",
              f.length_penalty);
  args.option("--max-len", "N", "longest translation in tokens (default: 2 × source + 10)",
              f.max_len);
  args.option("--attention", "OUT.svg", "draw the cross-attention heat map of the (last) sentence",
              f.attention);
  args.option("--attention-layer", "L",
              "which decoder layer's cross-attention to draw (default: the last)", f.layer);
  args.flag("--show-tokens", "also print the source and output tokens with their ids",
            f.show_tokens);
  args.option("--threads", "N", "OpenMP threads (default: OMP_NUM_THREADS or every core)",
              f.threads);
  args.positional("TEXT", "a sentence to translate; without any, stdin is read line by line");
}

void validate(const Flags& f) {
  if (f.checkpoint.empty()) throw UsageError("--checkpoint PATH is required");
  if (f.beam < 1) throw UsageError("--beam must be at least 1");
  if (f.max_len < 0 || f.threads < 0)
    throw UsageError("--max-len and --threads must not be negative");
  if (f.length_penalty < 0) throw UsageError("--length-penalty must not be negative");
}

// The checkpoint's model and vocabularies, and how to decode with them.
struct Translator {
  app::Checkpoint ckpt;
  std::unique_ptr<nn::Seq2SeqTransformer> model;
  app::TranslateOptions options;
  int64_t layer = 0;  // the decoder layer whose cross-attention --attention draws
};

Translator load_translator(Flags& f) {
  Translator t{app::load_checkpoint(f.checkpoint), nullptr, {}, 0};
  t.model = app::load_model(t.ckpt, f.checkpoint);
  const int64_t layers = t.model->config.decoder_layers;
  t.layer = f.layer < 0 ? layers - 1 : f.layer;
  if (t.layer >= layers)
    throw UsageError("--attention-layer " + std::to_string(t.layer) + ": the model has " +
                     std::to_string(layers) + " decoder layers");
  t.options.beam = f.beam;
  t.options.length_penalty = static_cast<float>(f.length_penalty);
  t.options.max_len = f.max_len;
  return t;
}

void print_tokens(const std::vector<std::string>& tokens, const std::vector<int64_t>& ids,
                  const std::vector<std::string>& out_tokens, const std::vector<int64_t>& out) {
  std::string line = "source tokens:";
  for (size_t i = 0; i < tokens.size(); ++i) line += " " + tokens[i] + "/" + std::to_string(ids[i]);
  std::printf("%s\noutput tokens:", line.c_str());
  for (size_t i = 0; i < out.size(); ++i)
    std::printf(" %s/%lld", out_tokens[i].c_str(), static_cast<long long>(out[i]));
  std::printf(" <eos>\n");
}

// An input longer than the model's max_len goes sentence by sentence (split after . ! ?),
// and a single sentence still too long is cut to max_len tokens, with a warning.
std::vector<int64_t> translate_long(Translator& tr, const std::vector<int64_t>& ids,
                                    const std::vector<std::string>& tokens) {
  const size_t limit = static_cast<size_t>(tr.model->config.max_len);
  if (ids.size() <= limit) return app::translate_ids(*tr.model, {ids}, tr.options)[0];
  std::vector<int64_t> out;
  size_t at = 0;
  for (const auto& sentence : data::split_sentences(tokens)) {
    std::vector<int64_t> piece(ids.begin() + static_cast<std::ptrdiff_t>(at),
                               ids.begin() + static_cast<std::ptrdiff_t>(at + sentence.size()));
    at += sentence.size();
    if (piece.size() > limit) {
      std::fprintf(stderr,
                   "translate: a sentence of %zu tokens is longer than the model's max_len %zu: "
                   "only its first %zu tokens are translated\n",
                   piece.size(), limit, limit);
      piece.resize(limit);
    }
    const auto translated = app::translate_ids(*tr.model, {piece}, tr.options);
    out.insert(out.end(), translated[0].begin(), translated[0].end());
  }
  return out;
}

void translate_one(const Flags& f, Translator& tr, const std::string& text) {
  const auto tokens = data::tokenize(text, data::TextSource{"input", 0});
  if (tokens.empty()) {
    std::printf("\n");
    return;
  }
  const auto ids = app::to_ids(tr.ckpt.src_vocab, tokens);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (ids[i] == data::Vocab::kUnk)
      std::fprintf(stderr, "translate: '%s' is not in the training vocabulary (read as <unk>)\n",
                   tokens[i].c_str());
  const auto out = translate_long(tr, ids, tokens);
  const auto out_tokens = app::to_tokens(tr.ckpt.tgt_vocab, out);
  const std::string translation = data::detokenize(out_tokens);
  if (f.show_tokens) print_tokens(tokens, ids, out_tokens, out);
  if (!f.attention.empty()) {
    Tensor w = cross_attention(*tr.model, ids, out, tr.layer);
    write_attention_svg(f.attention, w, tokens, out_tokens, tr.layer,
                        tr.model->config.decoder_layers, text, translation);
    std::fprintf(stderr, "translate: cross-attention heat map written to %s\n",
                 f.attention.c_str());
  }
  std::printf("%s\n", translation.c_str());
  std::fflush(stdout);
}

// stdin line by line; on a terminal with a prompt, and a bad line is reported, not fatal.
void translate_stdin(const Flags& f, Translator& tr) {
  const bool interactive = isatty(STDIN_FILENO);
  if (interactive)
    std::fprintf(
        stderr,
        "Type an English sentence and press Enter (Ctrl-D to quit). Vocabulary: %d words.\n",
        tr.ckpt.src_vocab.size());
  std::string line;
  while (true) {
    if (interactive) std::fprintf(stderr, "en> ");
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    try {
      translate_one(f, tr, line);
    } catch (const data::Utf8Error& e) {
      if (!interactive) throw;
      std::fprintf(stderr, "translate: %s\n", e.what());
    }
  }
  if (interactive) std::fprintf(stderr, "\n");
}

int run(int argc, char** argv) {
  Flags f;
  app::ArgParser args(
      "translate",
      "Translates each TEXT argument (quote each sentence), or stdin line by line, with a\n"
      "checkpoint written by train_translator. Prints one translation per input line;\n"
      "the last line printed is the (last) translation.");
  declare_flags(args, f);
  if (!args.parse(argc, argv)) return 0;
  validate(f);
  if (f.threads > 0) omp_set_num_threads(static_cast<int>(f.threads));
  Translator tr = load_translator(f);
  if (args.positionals().empty()) translate_stdin(f, tr);
  for (const auto& text : args.positionals()) translate_one(f, tr, text);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return app::run_app("translate", run, argc, argv); }
