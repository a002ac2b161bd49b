// `make exercises`: check the exercises linked into this program (docs/exercises.md).
//   build/exercises [NAME]            the learner's functions (examples/exercises/ch*.cpp)
//   build/exercise_solutions [NAME]   the reference solutions (examples/exercises/solutions/)
//   build/exercise_solutions --wrong NAME   the solutions, with NAME's deliberately wrong
//                                           answer in its place: what a wrong answer prints
// One line per exercise, then exactly `exercises: S of N solved`. Exit 0 whatever the
// count (an unsolved exercise is work to do, not an error); 2 for an unknown name.
#include <cstdio>
#include <string>
#include <vector>

#include "examples/exercises/check/checker.h"

using namespace qkv::exercises;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool wrong = !args.empty() && args[0] == "--wrong";
  if (wrong) args.erase(args.begin());
  if (args.size() > 1 || (wrong && args.empty()) || (!args.empty() && args[0].rfind("-", 0) == 0)) {
    std::fprintf(stderr, "usage: %s [--wrong] [EXERCISE]\n", argv[0]);
    return 2;
  }
  std::vector<const Exercise*> chosen;
  for (const Exercise& e : all_exercises())
    if (args.empty() || e.name == args[0]) chosen.push_back(&e);
  if (chosen.empty()) {
    std::fprintf(stderr, "exercises: no exercise named '%s'; the names:", args[0].c_str());
    for (const Exercise& e : all_exercises()) std::fprintf(stderr, " %s", e.name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  const Answers answers = wrong ? wrong_variant(args[0]) : linked_answers();
  int solved = 0;
  for (const Exercise* ex : chosen) {
    const Outcome o = check_exercise(*ex, answers);
    solved += o.status == Status::Passed;
    std::printf("%-24s %s  %s\n", ex->name.c_str(), ex->chapter.c_str(), status_name(o.status));
    if (!o.detail.empty()) std::printf("    %s\n", o.detail.c_str());
    std::fflush(stdout);
  }
  std::printf("exercises: %d of %zu solved\n", solved, chosen.size());
  return 0;
}
