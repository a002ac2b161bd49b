// The docs show real output (every chapter): each block
//
//     <!-- run: build/ch02_autograd -->
//     ```text
//     …what the command prints…
//     ```
//
// is re-run here from the repository root, with the leading `build/` pointing at this
// build's directory (so `make sanitize`, which builds into build/sanitize, checks its own
// programs), and its standard output must equal the fenced text exactly, up to trailing
// newlines. A chapter that drifts from its program fails `make test`.
#include <dirent.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/catch.h"

namespace {

const std::string kSourceDir = QKV_SOURCE_DIR;
const std::string kBuildDir = QKV_BUILD_DIR;

struct RunBlock {
  std::string file;
  int line = 0;          // 1-based line of the `<!-- run: … -->` marker
  std::string command;   // as written in the docs
  std::string expected;  // the fenced text, lines joined by '\n', no trailing newline
  std::string error;     // non-empty when the block is malformed (marker without a fence)
};

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string strip_trailing_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Every `<!-- run: CMD -->` line and the ```text fence right below it.
std::vector<RunBlock> parse_run_blocks(const std::string& text, const std::string& file) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  const std::string open = "<!-- run:", close = "-->";
  std::vector<RunBlock> blocks;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string t = trim(lines[i]);
    if (t.rfind(open, 0) != 0 || t.size() < open.size() + close.size() ||
        t.compare(t.size() - close.size(), close.size(), close) != 0)
      continue;
    RunBlock b;
    b.file = file;
    b.line = static_cast<int>(i + 1);
    b.command = trim(t.substr(open.size(), t.size() - open.size() - close.size()));
    if (b.command.empty()) b.error = "the run marker names no command";
    if (i + 1 >= lines.size() || trim(lines[i + 1]) != "```text") {
      if (b.error.empty()) b.error = "the run marker is not followed by a ```text fence";
      blocks.push_back(b);
      continue;
    }
    size_t j = i + 2;
    std::string body;
    for (; j < lines.size() && trim(lines[j]) != "```"; ++j) body += lines[j] + "\n";
    if (j == lines.size() && b.error.empty()) b.error = "the ```text fence is never closed";
    b.expected = strip_trailing_newlines(body);
    blocks.push_back(b);
    i = j;
  }
  return blocks;
}

// `build/` at the start of a word names this build's directory.
std::string resolve_command(const std::string& command, const std::string& build_dir) {
  std::string out;
  for (size_t i = 0; i < command.size(); ++i) {
    const bool word_start = i == 0 || command[i - 1] == ' ' || command[i - 1] == '|' ||
                            command[i - 1] == '(' || command[i - 1] == ';';
    if (word_start && command.compare(i, 6, "build/") == 0) {
      out += "'" + build_dir + "'/";
      i += 5;
    } else {
      out += command[i];
    }
  }
  return out;
}

struct RunResult {
  std::string out;
  int status = -1;  // the exit status, or -1 if the program did not exit normally
};

RunResult run_in_repo(const std::string& command) {
  const std::string full = "cd '" + kSourceDir + "' && " + resolve_command(command, kBuildDir);
  RunResult r;
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

// "" when equal, else a description of the first line that differs.
std::string first_difference(const std::string& expected, const std::string& actual) {
  const std::string e = strip_trailing_newlines(expected), a = strip_trailing_newlines(actual);
  if (e == a) return "";
  const auto el = split_lines(e), al = split_lines(a);
  size_t i = 0;
  while (i < el.size() && i < al.size() && el[i] == al[i]) ++i;
  std::ostringstream msg;
  msg << "output line " << i + 1
      << " differs\n  docs:    " << (i < el.size() ? "\"" + el[i] + "\"" : "(docs end here)")
      << "\n  program: " << (i < al.size() ? "\"" + al[i] + "\"" : "(program output ends here)");
  return msg.str();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// docs/*.md, sorted, as paths relative to the repository root.
std::vector<std::string> docs_files() {
  std::vector<std::string> out;
  if (DIR* d = opendir((kSourceDir + "/docs").c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 3 && name.compare(name.size() - 3, 3, ".md") == 0)
        out.push_back("docs/" + name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<RunBlock> all_blocks() {
  std::vector<RunBlock> all;
  for (const auto& f : docs_files()) {
    auto b = parse_run_blocks(read_file(kSourceDir + "/" + f), f);
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

}  // namespace

TEST_CASE("docs checker: the parser finds run blocks and only those", "[docs]") {
  const std::string md =
      "# A chapter\n"
      "Some prose with a `<!-- run: not-a-marker -->` in the middle of a line.\n"
      "<!-- run: build/first --flag -->\n"
      "```text\n"
      "line one\n"
      "  indented line two\n"
      "\n"
      "```\n"
      "```text\n"
      "a text fence without a marker is not checked\n"
      "```\n"
      "<!-- run: build/second -->\n"
      "```text\n"
      "```\n"
      "<!-- run: build/third -->\n"
      "```cpp\n"
      "int main() {}\n"
      "```\n";
  const auto blocks = parse_run_blocks(md, "mem.md");
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].line == 3);
  CHECK(blocks[0].command == "build/first --flag");
  CHECK(blocks[0].expected == "line one\n  indented line two");
  CHECK(blocks[0].error.empty());
  CHECK(blocks[1].line == 12);
  CHECK(blocks[1].command == "build/second");
  CHECK(blocks[1].expected.empty());
  CHECK(blocks[1].error.empty());
  // A marker over the wrong kind of fence is reported, not skipped.
  CHECK(blocks[2].command == "build/third");
  CHECK_FALSE(blocks[2].error.empty());
  CHECK(parse_run_blocks("no blocks at all\n", "empty.md").empty());
}

TEST_CASE("docs checker: commands and comparisons", "[docs]") {
  CHECK(resolve_command("build/ch02_autograd", "/b") == "'/b'/ch02_autograd");
  CHECK(resolve_command("build/ch01_tensors | head -n 3", "/x/build/sanitize") ==
        "'/x/build/sanitize'/ch01_tensors | head -n 3");
  CHECK(resolve_command("echo rebuild/x", "/b") == "echo rebuild/x");
  CHECK(first_difference("a\nb\n", "a\nb") == "");
  CHECK(first_difference("a\nb", "a\nb\n\n") == "");
  CHECK_THAT(first_difference("a\nb\nc", "a\nB\nc"), Catch::Contains("output line 2 differs"));
  CHECK_THAT(first_difference("a\nb", "a"), Catch::Contains("program output ends here"));
  // The runner really runs from the repository root, through the shell.
  const RunResult r =
      run_in_repo("printf 'x\\ny\\n'; test -d docs && test -d autograd && echo root");
  CHECK(r.status == 0);
  CHECK(r.out == "x\ny\nroot\n");
}

TEST_CASE("docs: every chapter 00-15 exists and shows at least one checked run", "[docs]") {
  const auto files = docs_files();
  for (int ch = 0; ch <= 15; ++ch) {
    const std::string p = std::string("docs/") + (ch < 10 ? "0" : "") + std::to_string(ch) + "-";
    auto it = std::find_if(files.begin(), files.end(),
                           [&](const std::string& f) { return f.rfind(p, 0) == 0; });
    INFO("chapter " << p << "*.md");
    REQUIRE(it != files.end());
    INFO(*it << " has no <!-- run: --> block");
    CHECK_FALSE(parse_run_blocks(read_file(kSourceDir + "/" + *it), *it).empty());
  }
}

// Every chapter closes with a recap (what was built, the key equations, the files, and
// questions whose answers a program or test prints); only an exercises section may follow it.
TEST_CASE("docs: every chapter 00-15 ends with a recap", "[docs]") {
  for (const auto& f : docs_files()) {
    const std::string name = f.substr(5);
    if (name.size() < 3 || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    INFO(f);
    const auto lines = split_lines(read_file(kSourceDir + "/" + f));
    std::vector<std::string> headings;  // the "## " headings, outside code fences
    bool in_fence = false;
    for (const auto& l : lines) {
      if (l.rfind("```", 0) == 0) in_fence = !in_fence;
      if (!in_fence && l.rfind("## ", 0) == 0) headings.push_back(trim(l));
    }
    const auto recap = std::find(headings.begin(), headings.end(), "## Recap");
    REQUIRE(recap != headings.end());
    CHECK(std::count(headings.begin(), headings.end(), "## Recap") == 1);
    for (auto h = recap + 1; h != headings.end(); ++h) CHECK(*h == "## Exercises");
    const std::string text = read_file(kSourceDir + "/" + f);
    const std::string after = text.substr(text.find("\n## Recap"));
    for (const char* part : {"Check yourself", "Files:", "1. ", "2. "})
      CHECK(after.find(part) != std::string::npos);
  }
}

// Catch2 v3 has no catch2/catch.hpp: a test file that includes it directly builds on Debian 12
// and breaks on Ubuntu 24.04. Every file in tests/ goes through tests/catch.h instead.
TEST_CASE("tests include Catch2 only through tests/catch.h", "[docs]") {
  std::vector<std::string> files;
  if (DIR* d = opendir((kSourceDir + "/tests").c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      auto ends_with = [&](const std::string& suffix) {
        return name.size() >= suffix.size() &&
               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      };
      if (name != "catch.h" && (ends_with(".cpp") || ends_with(".h"))) files.push_back(name);
    }
    closedir(d);
  }
  REQUIRE(files.size() > 10);
  const std::string direct = std::string("#include <") + "catch2/";  // split: not found here
  for (const auto& name : files) {
    INFO("tests/" << name);
    CHECK(read_file(kSourceDir + "/tests/" + name).find(direct) == std::string::npos);
  }
}

TEST_CASE("docs: every run block prints what the docs show", "[docs]") {
  const auto blocks = all_blocks();
  for (const auto& b : blocks) {
    DYNAMIC_SECTION(b.file << ":" << b.line << ": " << b.command) {
      INFO(b.file << ":" << b.line << ": `" << b.command << "`");
      if (!b.error.empty()) FAIL(b.error);
      const RunResult r = run_in_repo(b.command);
      INFO("exit status " << r.status);
      CHECK(r.status == 0);
      const std::string diff = first_difference(b.expected, r.out);
      INFO(diff);
      CHECK(diff.empty());
    }
  }
}
