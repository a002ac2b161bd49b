// A small command-line parser shared by the apps: `--name value` and `--name=value` flags,
// `--help`, and clear errors for unknown flags and malformed values (DESIGN.md: every app
// answers --help, rejects unknown flags, exits non-zero on error).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace qkv::cli {

class Args {
 public:
  Args(std::string program, std::string summary)
      : program_(std::move(program)), summary_(std::move(summary)) {}

  // Declare flags before parse(). `value_name` empty means a boolean switch.
  void flag(const std::string& name, const std::string& value_name, const std::string& def,
            const std::string& help) {
    specs_.push_back({name, value_name, def, help});
    if (!value_name.empty()) values_[name] = def;
  }

  // Returns false if --help was printed (the caller exits 0). Throws on bad input.
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        print_help();
        return false;
      }
      if (a.rfind("--", 0) != 0) {
        positional_.push_back(a);
        continue;
      }
      std::string name = a.substr(2), value;
      const bool has_eq = name.find('=') != std::string::npos;
      if (has_eq) {
        value = name.substr(name.find('=') + 1);
        name = name.substr(0, name.find('='));
      }
      const Spec* s = find(name);
      if (!s) throw std::invalid_argument(program_ + ": unknown flag --" + name + " (see --help)");
      if (s->value_name.empty()) {
        if (has_eq) throw std::invalid_argument(program_ + ": --" + name + " takes no value");
        switches_[name] = true;
        continue;
      }
      if (!has_eq) {
        if (i + 1 >= argc)
          throw std::invalid_argument(program_ + ": --" + name + " needs a value (" +
                                      s->value_name + ")");
        value = argv[++i];
      }
      values_[name] = value;
      given_[name] = true;
    }
    return true;
  }

  bool has(const std::string& name) const {
    return switches_.count(name) > 0 || given_.count(name) > 0;
  }
  std::string str(const std::string& name) const { return values_.at(name); }
  int64_t integer(const std::string& name, int64_t min = INT64_MIN) const {
    const std::string v = str(name);
    char* end = nullptr;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0')
      throw std::invalid_argument(program_ + ": --" + name + " expects an integer, got '" + v +
                                  "'");
    if (x < min)
      throw std::invalid_argument(program_ + ": --" + name + " must be at least " +
                                  std::to_string(min) + ", got " + v);
    return x;
  }
  double number(const std::string& name) const {
    const std::string v = str(name);
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0')
      throw std::invalid_argument(program_ + ": --" + name + " expects a number, got '" + v + "'");
    return x;
  }
  const std::vector<std::string>& positional() const { return positional_; }

  void print_help() const {
    std::printf("usage: %s [flags]\n%s\n\nflags:\n", program_.c_str(), summary_.c_str());
    for (const auto& s : specs_) {
      std::string left = "  --" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
      std::printf(
          "%-28s %s%s\n", left.c_str(), s.help.c_str(),
          s.value_name.empty() || s.def.empty() ? "" : (" (default " + s.def + ")").c_str());
    }
    std::printf("  --help                     this text\n");
  }

 private:
  struct Spec {
    std::string name, value_name, def, help;
  };
  const Spec* find(const std::string& n) const {
    for (const auto& s : specs_)
      if (s.name == n) return &s;
    return nullptr;
  }
  std::string program_, summary_;
  std::vector<Spec> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> switches_, given_;
  std::vector<std::string> positional_;
};

}  // namespace qkv::cli
