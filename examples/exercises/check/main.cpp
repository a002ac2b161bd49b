// `make exercises`: check the exercises linked into this program (docs/exercises.md).
//   build/exercises [NAME]            the learner's functions (examples/exercises/ch*.cpp)
//   build/exercise_solutions [NAME]   the reference solutions (examples/exercises/solutions/)
//   build/exercise_solutions --wrong NAME   the solutions, with NAME's deliberately wrong
//                                           answer in its place: what a wrong answer prints
//   --time-limit SECONDS              how long one exercise may run (default 60)
// One line per exercise, then exactly `exercises: S of N solved`. Exit 0 whatever the
// count (an unsolved exercise is work to do, not an error); 2 for an unknown name.
//
// Each exercise is checked in a process of its own (this program, run again with --one), so
// a half-written answer that reads outside a tensor and crashes is reported as wrong, and
// the exercises after it are still checked; and one that loops forever is stopped by a
// timer (SIGALRM) and reported as too slow.
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "examples/cli.h"
#include "examples/exercises/check/checker.h"

using namespace qkv::exercises;

namespace {

// The child's exit codes: one per status.
int exit_code(Status s) { return s == Status::Passed ? 0 : s == Status::NotWritten ? 10 : 11; }

// Every check takes well under a second; a minute is for a slow machine or a sanitizer build.
constexpr double kDefaultTimeLimit = 60;

// --one [--wrong] NAME: check one exercise here and now; print only the detail. The timer's
// default action ends the process with SIGALRM, which the parent reads as "too slow".
int check_one(const Exercise& ex, bool wrong, double time_limit) {
  itimerval t{};
  t.it_value.tv_sec = static_cast<time_t>(time_limit);
  t.it_value.tv_usec = static_cast<suseconds_t>((time_limit - double(t.it_value.tv_sec)) * 1e6);
  setitimer(ITIMER_REAL, &t, nullptr);
  const Outcome o = check_exercise(ex, wrong ? wrong_variant(ex.name) : linked_answers());
  if (!o.detail.empty()) std::printf("    %s\n", o.detail.c_str());
  return exit_code(o.status);
}

// Run `self --one [--wrong] NAME`, pass its output on, and read its verdict from its exit.
Status check_in_child(const std::string& self, const Exercise& ex, bool wrong, double time_limit,
                      std::string& out) {
  char limit[32];
  std::snprintf(limit, sizeof limit, "%.17g", time_limit);
  const std::string command = "exec '" + self + "' --time-limit " + limit + " --one " +
                              (wrong ? "--wrong " : "") + ex.name + " 2>&1";
  FILE* child = popen(command.c_str(), "r");
  if (!child) {
    out = "    could not run " + self + ": " + std::strerror(errno) + "\n";
    return Status::Wrong;
  }
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, child)) > 0;) out.append(buf, n);
  const int status = pclose(child);
  if (WIFEXITED(status) && WEXITSTATUS(status) == exit_code(Status::Passed)) return Status::Passed;
  if (WIFEXITED(status) && WEXITSTATUS(status) == exit_code(Status::NotWritten))
    return Status::NotWritten;
  if (WIFEXITED(status) && WEXITSTATUS(status) == exit_code(Status::Wrong)) return Status::Wrong;
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;  // exec: no shell in between
  const std::string rerun = self + " --one " + ex.name;
  if (sig == SIGALRM) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", time_limit);
    out += "    it ran longer than " + std::string(limit) +
           " s and was stopped (a loop that never ends? gdb -ex run --args " + rerun + ")\n";
    return Status::Wrong;
  }
  out += sig ? "    it crashed: " + std::string(strsignal(sig)) +
                   " (an index outside a tensor's data()? gdb -ex run --args " + rerun + ")\n"
             : "    it stopped with exit status " + std::to_string(WEXITSTATUS(status)) + "\n";
  return Status::Wrong;
}

}  // namespace

int run(int argc, char** argv) {
  double time_limit = kDefaultTimeLimit;
  bool one = false, wrong = false;
  qkv::app::ArgParser cli("exercises",
                          "Checks the exercises linked into this program (docs/exercises.md): one "
                          "line each, then 'exercises: S of N solved'.");
  cli.option("--time-limit", "SECONDS", "how long one exercise may run (default 60)", time_limit);
  cli.flag("--wrong", "put NAME's deliberately wrong answer in its place (needs NAME)", wrong);
  cli.flag("--one", "check NAME here, in this process (how each child is run)", one);
  cli.positional("NAME", "the one exercise to check (default: all of them)");
  if (!cli.parse(argc, argv)) return 0;
  if (!(time_limit > 0) || time_limit > 1e6)
    throw qkv::app::UsageError("--time-limit wants seconds > 0, got " + std::to_string(time_limit));
  const std::vector<std::string>& args = cli.positionals();
  if (args.size() > 1) throw qkv::app::UsageError("one exercise at a time");
  if ((wrong || one) && args.empty()) throw qkv::app::UsageError("--wrong and --one need NAME");
  std::vector<const Exercise*> chosen;
  for (const Exercise& e : all_exercises())
    if (args.empty() || e.name == args[0]) chosen.push_back(&e);
  if (chosen.empty()) {
    std::fprintf(stderr, "exercises: no exercise named '%s'; the names:", args[0].c_str());
    for (const Exercise& e : all_exercises()) std::fprintf(stderr, " %s", e.name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  if (one) return check_one(*chosen[0], wrong, time_limit);

  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string exe = len > 0 ? std::string(self, static_cast<size_t>(len)) : argv[0];
  int solved = 0;
  for (const Exercise* ex : chosen) {
    std::string detail;
    const Status s = check_in_child(exe, *ex, wrong, time_limit, detail);
    solved += s == Status::Passed;
    std::printf("%-24s %s  %s\n%s", ex->name.c_str(), ex->chapter.c_str(), status_name(s),
                detail.c_str());
    std::fflush(stdout);
  }
  std::printf("exercises: %d of %zu solved\n", solved, chosen.size());
  return 0;
}

int main(int argc, char** argv) {
  return qkv::app::run_app("exercises", run, argc, argv, /*runtime_settings=*/false);
}
