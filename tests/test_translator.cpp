// The translator apps end to end (chapters 12–13): a short training run that must learn
// the copy task, exact resume, checkpoints that fail loudly, the command-line contract,
// and beam search with one beam equal to greedy decoding.
#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "nn/decoding.h"
#include "nn/serialize.h"
#include "nn/transformer.h"
#include "tests/catch.h"
#include "tests/fixtures.h"
#include "tests/programs.h"

using namespace qkv;

namespace {
using test::Result;
using test::run;

std::string tmp(const std::string& name) {
  return std::string(QKV_BUILD_DIR) + "/test_translator_" + name;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double json_number(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\": ");
  REQUIRE(at != std::string::npos);
  return std::stod(json.substr(at + key.size() + 4));
}

// A small, fast model for the synthetic tasks.
const std::string kTiny =
    " --d-model 32 --heads 2 --d-ff 64 --layers 1 --dropout 0 --batch-size 32 --lr 5e-3 --warmup 40"
    " --task-max-len 6 --threads 1";
}  // namespace

TEST_CASE("train_translator learns the copy task in a few seconds", "[ch12][ch13]") {
  const std::string ckpt = tmp("copy.ckpt");
  Result r = run("train_translator --task copy --steps 800" + kTiny + " --checkpoint " + ckpt);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string json = r.last_line();
  CHECK(json.rfind("{\"exact_match\": ", 0) == 0);
  CHECK(json.find("\"checkpoint\": \"" + ckpt + "\"}") != std::string::npos);
  CHECK(r.output.find("OpenMP: 1 threads") != std::string::npos);
  CHECK(json_number(json, "exact_match") >= 0.95);
  CHECK(json_number(json, "bleu") >= 0.95);

  // The checkpoint translates: the last line printed is the translation.
  Result t = run("translate --checkpoint " + ckpt + " '3 1 4 1 5'");
  INFO(t.output);
  CHECK(t.status == 0);
  CHECK(t.last_line() == "3 1 4 1 5");
  // Beam search and the attention map.
  t = run("translate --checkpoint " + ckpt + " --beam 3 --attention " + tmp("att.svg") +
          " '2 7 1 8'");
  CHECK(t.status == 0);
  CHECK(t.last_line() == "2 7 1 8");
  const std::string svg = read_all(tmp("att.svg"));
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("Noto Sans CJK SC") != std::string::npos);
  CHECK(svg.find("head 1") != std::string::npos);
  // stdin, line by line: one translation per input line, in order
  const std::string lines = tmp("lines.txt");
  std::ofstream(lines) << "3 1 4 1 5\n2 7 1 8\n";
  t = run("translate --checkpoint " + ckpt + " < " + lines);
  INFO(t.output);
  CHECK(t.status == 0);
  REQUIRE(t.output.size() >= 18);
  CHECK(t.output.substr(t.output.size() - 18) == "3 1 4 1 5\n2 7 1 8\n");
  std::remove(lines.c_str());
  std::remove(tmp("att.svg").c_str());
}

// Each batch in shards, one thread each (chapter 14's fourteenth round): the shard count is
// part of the recipe, kept in the checkpoint; the thread count changes no byte.
TEST_CASE("train_translator: the shard count is a setting, the thread count is not", "[ch12]") {
  std::string opts = " --task reverse" + kTiny + " --dropout 0.1 --seed 5 --steps 12";
  opts = opts.substr(0, opts.find(" --threads 1")) + opts.substr(opts.find(" --threads 1") + 12);
  const std::string one = tmp("shards_t1.ckpt"), two = tmp("shards_t2.ckpt");
  Result a = run("train_translator" + opts + " --threads 1 --checkpoint " + one);
  INFO(a.output);
  REQUIRE(a.status == 0);
  CHECK(a.output.find(", each batch in 2 shards\n") != std::string::npos);  // the default
  Result b = run("train_translator" + opts + " --threads 2 --checkpoint " + two);
  REQUIRE(b.status == 0);
  CHECK(read_all(one) == read_all(two));
  // The model's weights, every tensor of the checkpoint named model.*, end to end.
  auto weights = [](const std::string& path) {
    const nn::TensorFile f = nn::decode_tensor_file(read_all(path), path, "qkv-xlat", 2);
    std::vector<float> out;
    for (const auto& [name, t] : f.tensors)
      if (name.rfind("model.", 0) == 0)
        for (float v : t.to_vector()) out.push_back(v);
    return out;
  };
  const std::vector<float> two_shards = weights(one);
  REQUIRE(two_shards.size() > 1000);
  // One shard is another run (the gradient summed in another order, other dropout masks), and
  // a resumed run keeps the checkpoint's count unless told otherwise.
  Result c = run("train_translator" + opts + " --threads 1 --shards 1 --checkpoint " + two);
  REQUIRE(c.status == 0);
  CHECK(c.output.find(", each batch in 1 shard\n") != std::string::npos);
  CHECK(weights(two) != two_shards);
  Result d =
      run("train_translator --resume " + two + " --steps 14 --threads 1 --checkpoint " + two);
  INFO(d.output);
  REQUIRE(d.status == 0);
  CHECK(d.output.find(", each batch in 1 shard\n") != std::string::npos);
  Result e = run("train_translator" + opts + " --shards 0");
  CHECK(e.status == 2);
  CHECK(e.output.find("--shards must be positive, got 0") != std::string::npos);
  std::remove(one.c_str());
  std::remove(two.c_str());
}

TEST_CASE("resuming from a checkpoint continues the same run bit for bit", "[ch12]") {
  // With dropout too: the masks of steps 31–60 must be the ones the straight run drew.
  for (const std::string dropout : {"0", "0.1"}) {
    INFO("dropout " + dropout);
    const std::string opts = " --task reverse" + kTiny + " --dropout " + dropout + " --seed 5";
    const std::string full = tmp("full.ckpt"), half = tmp("half.ckpt");
    Result a = run("train_translator" + opts + " --steps 60 --checkpoint " + full);
    INFO(a.output);
    REQUIRE(a.status == 0);
    Result b = run("train_translator" + opts + " --steps 30 --checkpoint " + half);
    REQUIRE(b.status == 0);
    Result c = run("train_translator --resume " + half + " --steps 60 --checkpoint " + half);
    INFO(c.output);
    REQUIRE(c.status == 0);
    CHECK(c.output.find("resuming from") != std::string::npos);
    // Weights, Adam moments, step counters, the loss history and the dropout generators:
    // the same bytes.
    const std::string x = read_all(full), y = read_all(half);
    CHECK(x.size() == y.size());
    CHECK(x == y);
    CHECK(json_number(a.last_line(), "exact_match") == json_number(c.last_line(), "exact_match"));
    std::remove(full.c_str());
    std::remove(half.c_str());
  }
}

TEST_CASE("a broken checkpoint is refused with a message saying what is wrong", "[ch12]") {
  const std::string good = tmp("good.ckpt");
  REQUIRE(run("train_translator --task copy --steps 2" + kTiny + " --checkpoint " + good).status ==
          0);
  const std::string bytes = read_all(good);
  auto try_file = [&](const std::string& name, const std::string& content) {
    const std::string path = tmp(name);
    std::ofstream(path, std::ios::binary) << content;
    Result r = run("translate --checkpoint " + path + " '1 2'");
    std::remove(path.c_str());
    CHECK(r.status == 1);
    return r.output;
  };
  CHECK_THAT(try_file("trunc.ckpt", bytes.substr(0, bytes.size() / 2)),
             Catch::Contains("truncated"));
  CHECK_THAT(try_file("foreign.ckpt", "\x89PNG\r\n\x1a\n" + bytes.substr(8)),
             Catch::Contains("not a qkv-xlat file"));
  std::string v = bytes;
  v[8] = 3;
  CHECK_THAT(try_file("version.ckpt", v),
             Catch::Contains("version 3, but this program reads versions 1 to 2"));
  // Wrong shape: one weight replaced by a tensor of another shape, the file otherwise valid.
  const nn::TensorFile good_file = nn::decode_tensor_file(bytes, "good", "qkv-xlat", 2);
  nn::TensorFile f = good_file;
  for (auto& [name, t] : f.tensors)
    if (name == "model.src_embed.weight") t = Tensor::zeros({t.size(0), t.size(1) + 1});
  CHECK_THAT(try_file("shape.ckpt", nn::encode_tensor_file(f)),
             Catch::Contains("'src_embed.weight' has shape") && Catch::Contains("in the model"));
  CHECK_THAT(try_file("missing.ckpt", ""), Catch::Contains("not a qkv-xlat file"));

  // The dropout generators' states ("rng", since version 2): required, well formed, and on
  // resume one for every Dropout of the model, no more.
  const std::string rng = good_file.text("rng");  // "embed_dropout s0 s1 s2 s3 -\n…"
  const size_t sp = rng.find(' '), nl = rng.find('\n');
  // The good file with its "rng" text replaced by `text`, or without it.
  auto with_rng = [&](const std::string& text) {
    nn::TensorFile g = good_file;
    for (auto& [name, t] : g.texts)
      if (name == "rng") t = text;
    return g;
  };
  auto without_rng = [&] {
    nn::TensorFile g = good_file;
    g.texts.erase(std::remove_if(g.texts.begin(), g.texts.end(),
                                 [](const auto& e) { return e.first == "rng"; }),
                  g.texts.end());
    return g;
  };
  auto try_resume = [&](const std::string& name, const std::string& content) {
    const std::string path = tmp(name);
    std::ofstream(path, std::ios::binary) << content;
    Result r =
        run("train_translator --resume " + path + " --steps 4 --checkpoint " + tmp("resumed.ckpt"));
    std::remove(path.c_str());
    std::remove(tmp("resumed.ckpt").c_str());
    return r;
  };
  CHECK_THAT(try_file("norng.ckpt", nn::encode_tensor_file(without_rng())),
             Catch::Contains("no text entry 'rng'"));
  CHECK_THAT(try_file("badrng.ckpt", nn::encode_tensor_file(with_rng("embed_dropout 12 34\n"))),
             Catch::Contains("malformed rng line 'embed_dropout 12 34'"));
  Result r = try_resume("lessrng.ckpt", nn::encode_tensor_file(with_rng(rng.substr(nl + 1))));
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("no rng state for the dropout 'embed_dropout'"));
  r = try_resume("morerng.ckpt",
                 nn::encode_tensor_file(with_rng(rng + "src_embed" + rng.substr(sp, nl + 1 - sp))));
  CHECK(r.status == 1);
  CHECK_THAT(r.output,
             Catch::Contains("rng state for 'src_embed', which is no dropout of the model"));
  // A version 1 file (the same records without "rng") still translates and resumes; with
  // dropout the resumed run says that its masks differ from an uninterrupted run's.
  nn::TensorFile v1 = without_rng();
  v1.version = 1;
  std::ofstream(tmp("v1.ckpt"), std::ios::binary) << nn::encode_tensor_file(v1);
  CHECK(run("translate --checkpoint " + tmp("v1.ckpt") + " '1 2'").status == 0);
  std::remove(tmp("v1.ckpt").c_str());
  r = try_resume("v1.ckpt", nn::encode_tensor_file(v1));
  CHECK(r.status == 0);
  CHECK(r.output.find("note:") == std::string::npos);
  for (auto& [name, text] : v1.texts)
    if (name == "config") text.replace(text.find("\ndropout 0\n"), 11, "\ndropout 0.1\n");
  r = try_resume("v1.ckpt", nn::encode_tensor_file(v1));
  CHECK(r.status == 0);
  CHECK_THAT(r.output,
             Catch::Contains("version 1 checkpoint, without the dropout generators' states"));
  std::remove(good.c_str());
}

TEST_CASE("checkpoints written by earlier releases (versions 1 and 2) still load and resume",
          "[ch12]") {
  // tests/fixtures/copy_v2.ckpt: written by train_translator as of commit 6e0d66b (--task copy
  // --task-pairs 200 --steps 30 --d-model 16 --heads 2 --d-ff 32 --layers 1 --dropout 0.1
  // --warmup 5 --lr 1e-2); copy_v1.ckpt: the same file as version 1 wrote it (no "rng"). The
  // translations below are what that release's translate printed for them.
  for (const char* name : {"copy_v1.ckpt", "copy_v2.ckpt"}) {
    INFO(name);
    const std::string path = std::string("tests/fixtures/") + name;
    Result r = run("translate --threads 1 --checkpoint " + path + " '1 2 3' '7 7 0 4'");
    CHECK(r.status == 0);
    CHECK(r.output == "7\n7 7 7 7 7 7\n");
    r = run("translate --threads 1 --beam 3 --checkpoint " + path + " '1 2 3' '7 7 0 4'");
    CHECK(r.output == "2 7\n7 7 7 7\n");
    r = run("train_translator --resume " + path + " --steps 32 --progress lines --checkpoint " +
            tmp(name));
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("resuming from " + path + " at step 30") != std::string::npos);
    std::remove(tmp(name).c_str());
  }
}

TEST_CASE("the apps answer --help and reject unknown flags and malformed values", "[ch12]") {
  for (const char* app : {"train_translator", "translate"}) {
    INFO(app);
    Result r = run(std::string(app) + " --help");
    CHECK(r.status == 0);
    CHECK(r.output.find("usage: ") == 0);
    r = run(std::string(app) + " --no-such-flag");
    CHECK(r.status == 2);
    CHECK(r.output.find("unknown flag '--no-such-flag'") != std::string::npos);
  }
  Result r = run("train_translator --steps 12x");
  CHECK(r.status == 2);
  CHECK(r.output.find("--steps: expected an integer, got '12x'") != std::string::npos);
  r = run("train_translator --d-model 30 --heads 4");
  CHECK(r.status == 2);
  r = run("train_translator --task shuffle");
  CHECK(r.status == 2);
  r = run("train_translator --corpus /no/such/file.tsv");
  CHECK(r.status == 1);
  r = run("translate --beam 0 --checkpoint x");
  CHECK(r.status == 2);
  r = run("translate 'hello'");
  CHECK(r.status == 2);
  CHECK(r.output.find("--checkpoint PATH is required") != std::string::npos);
}

TEST_CASE("a diverging loss stops training with a clear error and keeps the last checkpoint",
          "[ch12]") {
  const std::string ckpt = tmp("nan.ckpt");
  std::remove(ckpt.c_str());
  Result r = run("train_translator --task copy --steps 50" + kTiny +
                 " --lr 1e30 --warmup 0 --checkpoint-every 1 --checkpoint " + ckpt);
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK((r.output.find("the loss became NaN") != std::string::npos ||
         r.output.find("the loss became infinite") != std::string::npos ||
         r.output.find("its gradient NaN or infinite") != std::string::npos));
  CHECK(r.output.find("The last good checkpoint is " + ckpt) != std::string::npos);
  CHECK(run("translate --checkpoint " + ckpt + " '1 2'").status == 0);
  std::remove(ckpt.c_str());
}

TEST_CASE("beam search with one beam is greedy decoding", "[ch13]") {
  const nn::Seq2SeqConfig c = test::tiny_config(12, 10);
  for (uint64_t seed : {1, 2, 3}) {
    Generator gen(seed);
    nn::Seq2SeqTransformer model(c, gen);
    nn::DecodeOptions o;
    o.max_len = 12;
    const std::vector<std::vector<int64_t>> sources{{4, 5, 6}, {7}, {11, 10, 9, 8, 4}};
    const auto greedy = nn::greedy_decode(model, sources, o);
    for (size_t i = 0; i < sources.size(); ++i) {
      INFO("seed " << seed << ", sentence " << i);
      const nn::Hypothesis beam = nn::beam_search(model, sources[i], o);
      CHECK(beam.tokens == greedy[i].tokens);
      CHECK(beam.log_prob == Approx(greedy[i].log_prob).epsilon(1e-5));
    }
  }
}
