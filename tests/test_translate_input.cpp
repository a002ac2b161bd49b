// build/translate with an input longer than the model's max_len (chapter 13): translated
// sentence by sentence, and a single over-long sentence cut with a warning, not refused.
#include <cstdio>
#include <string>

#include "tests/catch.h"
#include "tests/programs.h"

using namespace qkv;

TEST_CASE("translate splits an over-long input into sentences", "[ch13]") {
  const std::string ckpt = std::string(QKV_BUILD_DIR) + "/test_translate_input.ckpt";
  const test::Result t = test::run(
      "train_translator --task copy --task-pairs 20 --steps 1 --d-model 8 --heads 2 "
      "--d-ff 8 --layers 1 --max-len 16 --threads 1 --show-worst 0 --checkpoint " +
      ckpt);
  INFO(t.output);
  REQUIRE(t.status == 0);
  std::string sentence;  // 10 tokens: "1 2 3 4 5 6 7 8 9 ."
  for (int i = 1; i <= 9; ++i) sentence += std::to_string(i) + " ";
  sentence += ".";
  // Three sentences, 30 tokens, against a max_len of 16: each goes alone, no warning.
  const test::Result r = test::run("translate --checkpoint " + ckpt + " '" + sentence + " " +
                                   sentence + " " + sentence + "'");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("longer than the model's max_len") == std::string::npos);
  // One sentence of 20 tokens: cut to 16, with a warning saying so.
  const test::Result w =
      test::run("translate --checkpoint " + ckpt + " '1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9 1 2'");
  INFO(w.output);
  CHECK(w.status == 0);
  CHECK(w.output.find("a sentence of 20 tokens is longer than the model's max_len 16: only its "
                      "first 16 tokens are translated") != std::string::npos);
  std::remove(ckpt.c_str());
}
