// The exercise track (examples/exercises/, docs/exercises.md), tagged by the chapter each
// exercise belongs to. Whatever state the learner's own files are in (they are not in this
// binary), every reference solution must pass its check, and every check must reject both a
// never-written stub and a deliberately wrong answer, so the checker cannot rot into one
// that passes anything.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "examples/exercises/check/checker.h"
#include "tests/catch.h"
#include "tests/programs.h"

using namespace qkv;
using namespace qkv::exercises;

namespace {

std::string read_doc(const std::string& path) {
  std::ifstream in(std::string(QKV_SOURCE_DIR) + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The chapter's page, "ch05" → docs/05-*.md.
std::string chapter_doc(const std::string& chapter) {
  for (const auto& e : std::filesystem::directory_iterator(std::string(QKV_SOURCE_DIR) + "/docs")) {
    const std::string name = e.path().filename().string();
    if (name.rfind(chapter.substr(2) + "-", 0) == 0) return read_doc("docs/" + name);
  }
  return "";
}

void check_chapter(const std::string& chapter) {
  int count = 0;
  for (const Exercise& ex : all_exercises()) {
    if (ex.chapter != chapter) continue;
    ++count;
    INFO(ex.name);
    const Outcome solved = check_exercise(ex, linked_answers());
    INFO(solved.detail);
    CHECK(solved.status == Status::Passed);
    CHECK(check_exercise(ex, unwritten_answers()).status == Status::NotWritten);
    const Outcome wrong = check_exercise(ex, wrong_variant(ex.name));
    INFO("the wrong answer: " << wrong.detail);
    CHECK(wrong.status == Status::Wrong);
    CHECK(wrong.detail.find(ex.name) != std::string::npos);  // the report names what failed
  }
  CHECK(count > 0);
}

}  // namespace

TEST_CASE("exercises ch01: unbroadcast", "[ch01][exercises]") { check_chapter("ch01"); }
TEST_CASE("exercises ch02: matmul_backward", "[ch02][exercises]") { check_chapter("ch02"); }
TEST_CASE("exercises ch04: GELU and Embedding", "[ch04][exercises]") { check_chapter("ch04"); }
TEST_CASE("exercises ch05: softmax and cross-entropy", "[ch05][exercises]") {
  check_chapter("ch05");
}
TEST_CASE("exercises ch06: the worked example and the GRU cell", "[ch06][exercises]") {
  check_chapter("ch06");
}
TEST_CASE("exercises ch07: splitting and merging heads", "[ch07][exercises]") {
  check_chapter("ch07");
}
TEST_CASE("exercises ch08: masks and attention's backward", "[ch08][exercises]") {
  check_chapter("ch08");
}
TEST_CASE("exercises ch09: sinusoidal positions", "[ch09][exercises]") { check_chapter("ch09"); }
TEST_CASE("exercises ch10: LayerNorm", "[ch10][exercises]") { check_chapter("ch10"); }
TEST_CASE("exercises ch12: Adam and clipping", "[ch12][exercises]") { check_chapter("ch12"); }

TEST_CASE("exercises: at least 15, in chapter order, each checked above and in the docs",
          "[exercises]") {
  const auto& list = all_exercises();
  CHECK(list.size() >= 15);
  const std::set<std::string> tested = {"ch01", "ch02", "ch04", "ch05", "ch06",
                                        "ch07", "ch08", "ch09", "ch10", "ch12"};
  const std::string track = read_doc("docs/exercises.md");
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const Exercise& ex = list[i];
    INFO(ex.name << " (" << ex.chapter << ")");
    CHECK(names.insert(ex.name).second);
    CHECK(find_exercise(ex.name) == &ex);
    CHECK(tested.count(ex.chapter) == 1);  // a new chapter needs its TEST_CASE above
    if (i > 0) CHECK(list[i - 1].chapter <= ex.chapter);
    // The statement in docs/exercises.md, and the list in the chapter's Exercises section.
    CHECK(track.find("### " + ex.name) != std::string::npos);
    const std::string chapter = chapter_doc(ex.chapter);
    const size_t section = chapter.find("\n## Exercises\n");
    REQUIRE(section != std::string::npos);
    const size_t next = chapter.find("\n## ", section + 1);
    CHECK(chapter.substr(section, next - section).find("make exercises EX=" + ex.name + "`") !=
          std::string::npos);
  }
}

TEST_CASE("exercises: a wrong gradient is reported the way gradcheck reports it", "[exercises]") {
  const Outcome o =
      check_exercise(*find_exercise("softmax_backward"), wrong_variant("softmax_backward"));
  REQUIRE(o.status == Status::Wrong);
  INFO(o.detail);
  // Which input, the index of its worst element, the finite difference and the answer's value.
  CHECK(o.detail.find("gradcheck: gradient of x (input 0) at [") != std::string::npos);
  CHECK(o.detail.find("(central difference), got ") != std::string::npos);

  // A fully masked row: NaN is named, never taken for a number close to 0.
  const Outcome nan =
      check_exercise(*find_exercise("masked_softmax"), wrong_variant("masked_softmax"));
  INFO(nan.detail);
  CHECK(nan.detail.find("got nan") != std::string::npos);
}

TEST_CASE("exercises: an answer that throws, or returns the wrong shape, is wrong, not a crash",
          "[exercises]") {
  Answers a = linked_answers();
  a.softmax_backward = [](const Tensor&, const Tensor&) -> Tensor {
    throw std::runtime_error("index out of range");
  };
  const Outcome threw = check_exercise(*find_exercise("softmax_backward"), a);
  CHECK(threw.status == Status::Wrong);
  CHECK(threw.detail == "it threw: index out of range");

  a.layer_norm_backward = [](const Tensor& x, const Tensor& w, float, const Tensor&) {
    return LayerNormGrads{Tensor::zeros(x.shape()), Tensor::zeros(w.shape()), Tensor()};
  };
  const Outcome missing = check_exercise(*find_exercise("layer_norm_backward"), a);
  CHECK(missing.status == Status::Wrong);
  CHECK(missing.detail.find("gradient of bias is an undefined tensor") != std::string::npos);

  const auto solution = linked_answers().gru_cell;  // right values, but outside the graph
  a.gru_cell = [solution](const Tensor& x, const Tensor& h, const Tensor& w_ih, const Tensor& w_hh,
                          const Tensor& b_ih, const Tensor& b_hh) {
    NoGradGuard no_grad;
    return solution(x, h, w_ih, w_hh, b_ih, b_hh);
  };
  const Outcome detached = check_exercise(*find_exercise("gru_cell"), a);
  INFO(detached.detail);
  CHECK(detached.detail.find("no gradient reaches the inputs") != std::string::npos);
  CHECK(detached.status == Status::Wrong);
}

TEST_CASE("exercises: the program behind `make exercises SOLUTIONS=1`", "[exercises]") {
  // Every exercise in a process of its own, one line each, then exactly the count.
  const test::Result all = test::run("exercise_solutions");
  CHECK(all.status == 0);
  CHECK(all.last_line() == "exercises: " + std::to_string(all_exercises().size()) + " of " +
                               std::to_string(all_exercises().size()) + " solved");
  CHECK(all.output.find("softmax_backward         ch05  passed\n") != std::string::npos);

  const test::Result wrong = test::run("exercise_solutions --wrong layer_norm_backward");
  CHECK(wrong.status == 0);
  CHECK(wrong.output.rfind("layer_norm_backward      ch10  wrong\n    layer_norm_backward on ",
                           0) == 0);
  CHECK(wrong.last_line() == "exercises: 0 of 1 solved");

  // An answer that never returns is stopped by the time limit and reported, not waited for:
  // a microsecond is far less than any check takes, so the correct solution is stopped too.
  const test::Result slow = test::run("exercise_solutions --time-limit 0.000001 gru_cell");
  CHECK(slow.status == 0);
  CHECK(slow.output.find("gru_cell                 ch06  wrong\n    it ran longer than 1e-06 s "
                         "and was stopped") == 0);
  CHECK(slow.last_line() == "exercises: 0 of 1 solved");
  CHECK(test::run("exercise_solutions --time-limit 0 gru_cell").status == 2);

  const test::Result unknown = test::run("exercise_solutions no_such_exercise");
  CHECK(unknown.status == 2);
  CHECK(unknown.output.find("no exercise named 'no_such_exercise'") != std::string::npos);
}
