// Damaged checkpoints that fuzzing (tests/fuzz/fuzz_checkpoint.cpp) or a reading of its
// findings turned up: each must be refused with an error naming the file, before any model
// is built: no out-of-bounds write, no std::bad_alloc, no hour-long construction.
#include <string>

#include "nn/serialize.h"
#include "tests/catch.h"
#include "tests/programs.h"

using namespace qkv;

TEST_CASE("a checkpoint whose config was damaged is refused naming the file", "[ch12]") {
  const std::string ckpt = std::string(QKV_BUILD_DIR) + "/test_damage.ckpt";
  const std::string bad = std::string(QKV_BUILD_DIR) + "/test_damage_bad.ckpt";
  const test::Result t = test::run(
      "train_translator --task copy --task-pairs 20 --steps 1 --d-model 4 --heads 1 "
      "--d-ff 4 --layers 1 --threads 1 --show-worst 0 --checkpoint " +
      ckpt);
  REQUIRE(t.status == 0);
  const nn::TensorFile good = nn::load_tensor_file(ckpt, "qkv-xlat", 2);
  struct Case {
    const char *from, *to, *why;
  };
  const Case cases[] = {
      // found by reading the fuzz target's first crashes
      {"pad_id 0\n", "pad_id -5\n", "impossible model"},      // was a heap-buffer-overflow write
      {"pad_id 0\n", "pad_id 100000\n", "impossible model"},  // was an uncaught invalid_argument
      {"dropout 0\n", "dropout nan\n", "impossible model"},   // was an uncaught op error
      // sizes that do not match the tensors in the file
      {"d_model 4\n", "d_model 400000\n", "the config describes a model of"},  // was bad_alloc
      {"d_ff 4\n", "d_ff 4000000000000\n", "the config describes a model of"},
      {"encoder_layers 1\n", "encoder_layers 100000000\n", "the config describes a model of"},
      {"max_len ", "max_len 4000000000\nx ", "more than 2^26 position values"},  // was bad_alloc
  };
  for (const Case& k : cases) {
    INFO(k.to);
    nn::TensorFile f = good;
    std::string& config = f.texts[0].second;
    REQUIRE(f.texts[0].first == "config");
    const size_t at = config.find(k.from);
    REQUIRE(at != std::string::npos);
    config.replace(at, std::string(k.from).size(), k.to);
    nn::save_tensor_file(bad, f);
    const test::Result r = test::run("translate --checkpoint " + bad + " 1");
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK(r.output.find(bad + ": ") != std::string::npos);
    CHECK(r.output.find(k.why) != std::string::npos);
  }
  std::remove(ckpt.c_str());
  std::remove(bad.c_str());
}
