// A small command-line parser for the translator apps: --name VALUE or --name=VALUE,
// strict number parsing, --help, and a clear message for anything it does not know.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace qkv::app {

// Thrown for a bad command line; the apps print it with "try --help" and exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ArgParser {
 public:
  ArgParser(std::string program, std::string summary)
      : program_(std::move(program)), summary_(std::move(summary)) {}

  void flag(const std::string& name, const std::string& help, bool& target);
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              int64_t& target);
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              double& target);
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              std::string& target);
  // Positional arguments are accepted only when this is set (their description for --help).
  void positional(const std::string& metavar, const std::string& help);

  // Parses argv. Returns false when --help was given (the help has been printed).
  bool parse(int argc, char** argv);
  bool given(const std::string& name) const { return given_.count(name) != 0; }
  const std::vector<std::string>& positionals() const { return positionals_; }
  std::string help() const;

 private:
  struct Spec {
    std::string name, metavar, help;
    std::function<void(const std::string&)> set;  // null for a flag without a value
    bool* flag = nullptr;
  };
  const Spec* find(const std::string& name) const;
  std::string program_, summary_, pos_metavar_, pos_help_;
  std::vector<Spec> specs_;
  std::set<std::string> given_;
  std::vector<std::string> positionals_;
};

// OpenMP threads that wait for each other by spinning are fast on an idle machine and many
// times slower than one thread on a busy one (measured: 200 training steps took 15 s with
// passive waiting and 204 s with spinning, on 2 cores shared with other jobs). The OpenMP
// runtime reads OMP_WAIT_POLICY before main() runs, so when it is unset this re-executes the
// program once with OMP_WAIT_POLICY=passive. Set OMP_WAIT_POLICY yourself to choose.
void prefer_passive_omp_wait(char** argv);

// The apps' main(): prefers passive OpenMP waiting, runs `run`, and turns exceptions into
// the exit codes of DESIGN.md: a UsageError prints "PROGRAM: … (try --help)" and exits 2,
// any other error "PROGRAM: error: …" and exits 1. stdout is flushed first, so the message
// comes after whatever the program printed.
int run_app(const char* program, int (*run)(int, char**), int argc, char** argv);

// Strict conversions: the whole string must be a number ("12x", "" and "1e999" fail).
int64_t parse_int(const std::string& flag, const std::string& text);
double parse_double(const std::string& flag, const std::string& text);

}  // namespace qkv::app
