// The one command-line parser and app shell of every program in examples/ (DESIGN.md: every
// app answers --help, rejects unknown flags and malformed values, exits non-zero on error):
//
//   int run(int argc, char** argv) {
//     int64_t steps = 100;
//     app::ArgParser args("prog", "What it does.");
//     args.option("--steps", "N", "how many (default 100)", steps);
//     if (!args.parse(argc, argv)) return 0;  // --help was printed
//     ...
//   }
//   int main(int argc, char** argv) { return app::run_app("prog", run, argc, argv); }
//
// Exit codes: 0 after --help or success; 2 for a bad command line (a UsageError: the message,
// then the usage line, on stderr); 1 for any other error ("prog: error: …"). Numbers are
// parsed strictly, in one place: parse_int and parse_double accept the whole string or fail.
// Header-only, so that every program in examples/ can include it (each .cpp there is a
// program of its own).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "examples/runtime_settings.h"

namespace qkv::app {

// Thrown for a bad command line; run_app prints it with the usage line and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Strict conversions: the whole string must be a number ("12x", "" and "1e999" fail).
inline int64_t parse_int(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError(flag + ": expected an integer, got '" + text + "'");
  return v;
}

inline double parse_double(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw UsageError(flag + ": expected a number, got '" + text + "'");
  return v;
}

// The usage line of the parser that ran last, for run_app's message on a usage error.
inline std::string& usage_line() {
  static std::string line;
  return line;
}

class ArgParser {
 public:
  ArgParser(std::string program, std::string summary)
      : program_(std::move(program)), summary_(std::move(summary)) {
    usage_line() = usage();
  }

  void flag(const std::string& name, const std::string& help, bool& target) {
    specs_.push_back({name, "", help, nullptr, &target});
  }
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              int64_t& target) {
    specs_.push_back({name, metavar, help,
                      [&target, name](const std::string& v) { target = parse_int(name, v); }});
  }
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              double& target) {
    specs_.push_back({name, metavar, help,
                      [&target, name](const std::string& v) { target = parse_double(name, v); }});
  }
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              std::string& target) {
    specs_.push_back({name, metavar, help, [&target](const std::string& v) { target = v; }});
  }
  // Positional arguments are accepted only when this is set (their description for --help).
  void positional(const std::string& metavar, const std::string& help) {
    pos_metavar_ = metavar;
    pos_help_ = help;
    usage_line() = usage();
  }

  // Parses argv. Returns false when --help was given (the help has been printed).
  bool parse(int argc, char** argv) {
    bool only_positionals = false;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (only_positionals || arg.size() < 2 || arg[0] != '-' || (arg[1] != '-' && arg != "-h")) {
        if (pos_metavar_.empty()) throw UsageError("unexpected argument '" + arg + "'");
        positionals_.push_back(arg);
        continue;
      }
      if (arg == "--") {
        only_positionals = true;
        continue;
      }
      if (arg == "--help" || arg == "-h") {
        std::fputs(help().c_str(), stdout);
        return false;
      }
      std::string value;
      bool has_value = false;
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
      const Spec* s = find(arg);
      if (!s) throw UsageError("unknown flag '" + arg + "'");
      given_.insert(arg);
      if (s->flag) {
        if (has_value) throw UsageError(arg + " takes no value");
        *s->flag = true;
        continue;
      }
      if (!has_value) {
        if (i + 1 >= argc) throw UsageError(arg + " needs a value (" + s->metavar + ")");
        value = argv[++i];
      }
      s->set(value);
    }
    return true;
  }

  bool given(const std::string& name) const { return given_.count(name) != 0; }
  const std::vector<std::string>& positionals() const { return positionals_; }

  std::string usage() const {
    return "usage: " + program_ + " [flags]" +
           (pos_metavar_.empty() ? "" : " [" + pos_metavar_ + " ...]");
  }
  std::string help() const {
    std::string out = usage() + "\n\n" + summary_ + "\n\nflags:\n";
    for (const auto& s : specs_) {
      std::string left = "  " + s.name + (s.metavar.empty() ? "" : " " + s.metavar);
      if (left.size() < 28)
        left.resize(28, ' ');
      else
        left += "\n" + std::string(28, ' ');
      out += left + s.help + "\n";
    }
    out += std::string("  --help") + std::string(20, ' ') + "print this help and exit\n";
    if (!pos_metavar_.empty()) out += "\n" + pos_metavar_ + ": " + pos_help_ + "\n";
    return out;
  }

 private:
  struct Spec {
    std::string name, metavar, help;
    std::function<void(const std::string&)> set;  // null for a flag without a value
    bool* flag = nullptr;
  };
  const Spec* find(const std::string& name) const {
    for (const auto& s : specs_)
      if (s.name == name) return &s;
    return nullptr;
  }
  std::string program_, summary_, pos_metavar_, pos_help_;
  std::vector<Spec> specs_;
  std::set<std::string> given_;
  std::vector<std::string> positionals_;
};

// Every program's main(): runs `run` and turns exceptions into the exit codes above. stdout
// is flushed first, so the message comes after whatever the program printed. With
// runtime_settings (the apps), OpenMP waits passively, after a short spin on an idle machine,
// unless OMP_WAIT_POLICY or GOMP_SPINCOUNT says otherwise (omp_wait.h), and glibc's heap asks for
// huge pages unless GLIBC_TUNABLES says otherwise (runtime_settings.h).
inline int run_app(const char* program, const std::function<int(int, char**)>& run, int argc,
                   char** argv, bool runtime_settings = true) {
  if (runtime_settings) choose_runtime_settings(argv);
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s (try --help)\n", program, e.what());
    if (!usage_line().empty()) std::fprintf(stderr, "%s\n", usage_line().c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

// The main() of a chapter program that takes no settings: --help, and where the chapter draws
// figures, --figures DIR (then only figures(DIR) runs: examples/plot/figure_file.h,
// tests/test_figures.cpp); otherwise body(). Anything else on the command line is a usage error
// (exit 2); errors come out as run_app says.
inline int chapter_main(int argc, char** argv, const char* program, const char* summary,
                        int (*body)(), const std::function<void(const char*)>& figures = nullptr) {
  auto run = [&](int n, char** words) {
    ArgParser args(program, summary);
    std::string dir;
    if (figures)
      args.option("--figures", "DIR", "write this chapter's SVG figures into DIR, then stop", dir);
    if (!args.parse(n, words)) return 0;
    if (dir.empty()) return body();
    figures(dir.c_str());
    return 0;
  };
  return run_app(program, run, argc, argv, /*runtime_settings=*/false);
}

}  // namespace qkv::app
