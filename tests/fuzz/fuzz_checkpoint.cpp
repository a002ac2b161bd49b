// libFuzzer target: bytes → the translator's checkpoint reader → a model → one translation.
// The path a user's `build/translate --checkpoint FILE` takes with a damaged or foreign file:
// it must end in std::runtime_error naming the file, never in a crash, a sanitizer report
// or an attempt to allocate an impossible model.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "examples/translator/checkpoint.h"
#include "examples/translator/pipeline.h"

using namespace qkv;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/qkv-fuzz-checkpoint-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const app::Checkpoint ckpt = app::load_checkpoint(path);
    auto model = app::load_model(ckpt, path);
    app::TranslateOptions o;
    o.max_len = 4;
    (void)app::translate_ids(*model, {{data::Vocab::kUnk, data::Vocab::kUnk}}, o);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find(path) == std::string::npos) __builtin_trap();
  }
  return 0;
}
