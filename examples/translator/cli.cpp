#include "examples/translator/cli.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace qkv::app {

int64_t parse_int(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError(flag + ": expected an integer, got '" + text + "'");
  return v;
}

double parse_double(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw UsageError(flag + ": expected a number, got '" + text + "'");
  return v;
}

void prefer_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
  unsetenv("OMP_WAIT_POLICY");
}

int run_app(const char* program, int (*run)(int, char**), int argc, char** argv) {
  prefer_passive_omp_wait(argv);
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s (try --help)\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

void ArgParser::flag(const std::string& name, const std::string& help, bool& target) {
  specs_.push_back({name, "", help, nullptr, &target});
}
void ArgParser::option(const std::string& name, const std::string& metavar, const std::string& help,
                       int64_t& target) {
  specs_.push_back({name, metavar, help,
                    [&target, name](const std::string& v) { target = parse_int(name, v); }});
}
void ArgParser::option(const std::string& name, const std::string& metavar, const std::string& help,
                       double& target) {
  specs_.push_back({name, metavar, help,
                    [&target, name](const std::string& v) { target = parse_double(name, v); }});
}
void ArgParser::option(const std::string& name, const std::string& metavar, const std::string& help,
                       std::string& target) {
  specs_.push_back({name, metavar, help, [&target](const std::string& v) { target = v; }});
}
void ArgParser::positional(const std::string& metavar, const std::string& help) {
  pos_metavar_ = metavar;
  pos_help_ = help;
}

const ArgParser::Spec* ArgParser::find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

bool ArgParser::parse(int argc, char** argv) {
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

std::string ArgParser::help() const {
  std::string out = "usage: " + program_ + " [flags]" +
                    (pos_metavar_.empty() ? "" : " [" + pos_metavar_ + " ...]") + "\n\n" +
                    summary_ + "\n\nflags:\n";
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

}  // namespace qkv::app
