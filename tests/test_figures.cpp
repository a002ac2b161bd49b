// The figures in docs/img (every chapter): each block
//
//     <!-- figures: build/ch02_autograd --figures docs/img -->
//
// is re-run here with `docs/img` pointing at a fresh temporary folder, and every SVG it
// writes must equal the committed copy byte for byte, like the text outputs of
// tests/test_docs.cpp. Figures of timed or long runs have no such block; their chapter
// says which machine drew them. Every SVG under docs/img must be shown by a page and
// be well formed.
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/catch.h"
#include "tests/svg_check.h"

namespace {

const std::string kSourceDir = QKV_SOURCE_DIR;
const std::string kBuildDir = QKV_BUILD_DIR;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> list_dir(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct FigureBlock {
  std::string file, command;
  int line = 0;
};

std::vector<FigureBlock> figure_blocks() {
  std::vector<FigureBlock> out;
  const std::string open = "<!-- figures:", close = "-->";
  for (const auto& name : list_dir(kSourceDir + "/docs", ".md")) {
    std::istringstream in(read_file(kSourceDir + "/docs/" + name));
    int n = 0;
    for (std::string l; std::getline(in, l);) {
      ++n;
      if (l.rfind(open, 0) != 0) continue;
      const size_t end = l.find(close);
      out.push_back({"docs/" + name, l.substr(open.size(), end - open.size()), n});
    }
  }
  return out;
}

// `build/` → this build's folder; ` docs/img` → `dir`.
std::string resolve(std::string cmd, const std::string& dir) {
  while (!cmd.empty() && cmd.front() == ' ') cmd.erase(0, 1);
  while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
  if (cmd.rfind("build/", 0) == 0) cmd = "'" + kBuildDir + "'/" + cmd.substr(6);
  const size_t at = cmd.find(" docs/img");
  if (at != std::string::npos) cmd = cmd.substr(0, at) + " '" + dir + "'" + cmd.substr(at + 9);
  return cmd;
}

}  // namespace

TEST_CASE("figures: every program-drawn figure equals its committed copy byte for byte",
          "[docs][figures]") {
  const auto blocks = figure_blocks();
  REQUIRE(!blocks.empty());
  for (const auto& b : blocks) {
    INFO(b.file << ":" << b.line << ": " << b.command);
    char tmpl[] = "/tmp/qkv_figures_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    const std::string cmd =
        "cd '" + kSourceDir + "' && " + resolve(b.command, dir) + " > /dev/null";
    const int st = std::system(cmd.c_str());
    CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0));
    const auto written = list_dir(dir, ".svg");
    CHECK(!written.empty());
    for (const auto& name : written) {
      INFO("figure " << name << " (refresh: " << b.command << ")");
      const std::string fresh = read_file(dir + "/" + name);
      const std::string committed = read_file(kSourceDir + "/docs/img/" + name);
      CHECK(!committed.empty());
      CHECK((fresh == committed));
      std::remove((dir + "/" + name).c_str());
    }
    rmdir(dir.c_str());
  }
}

TEST_CASE("figures: every SVG in docs/img is well formed and shown by a page", "[docs][figures]") {
  std::string pages = read_file(kSourceDir + "/README.md");
  for (const auto& name : list_dir(kSourceDir + "/docs", ".md"))
    pages += read_file(kSourceDir + "/docs/" + name);
  const auto figures = list_dir(kSourceDir + "/docs/img", ".svg");
  CHECK(figures.size() >= 12);  // issue 10: at least a dozen, each shown by its chapter
  for (const auto& name : figures) {
    INFO("docs/img/" << name);
    CHECK(qkv::test::svg_problem(read_file(kSourceDir + "/docs/img/" + name)) == "");
    CHECK(pages.find("img/" + name + ")") != std::string::npos);
  }
}
