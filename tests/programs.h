// Running a program of build/ from a test, as a user would: its exit status and its output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "tests/catch.h"

namespace qkv::test {

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr together
  std::string last_line() const {
    std::string s = output;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    const size_t nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
  }
};

// Runs a shell command line from the repository root, stderr with stdout.
inline Result run_shell(const std::string& command) {
  const std::string cmd = "cd '" QKV_SOURCE_DIR "' && " + command + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `build/<args>` (a shell command line) from the repository root.
inline Result run(const std::string& args) {
  // Passive OpenMP waiting: on a busy machine, spinning threads slow everything down.
  return run_shell("OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} '" QKV_BUILD_DIR "'/" + args);
}

}  // namespace qkv::test
