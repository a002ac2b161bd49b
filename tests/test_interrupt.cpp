// Ctrl-C during training (chapter 12): a real signal to a real train_translator process.
// The first SIGINT/SIGTERM finishes the step, writes the checkpoint, says how to resume and
// exits 130/143; a second one exits at once and leaves the last checkpoint loadable.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "nn/serialize.h"
#include "tests/catch.h"
#include "tests/programs.h"

using namespace qkv;

namespace {
std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts build/train_translator with `args` (its output to `log`), waits until it has
// printed "step N/" (training is under way), sends the signals, and returns its wait status.
int train_and_signal(const std::string& args, const std::string& log, int step,
                     std::initializer_list<int> signals) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string cmd = "cd '" QKV_SOURCE_DIR
                            "' && exec env OMP_WAIT_POLICY=passive '" QKV_BUILD_DIR
                            "'/train_translator " +
                            args + " > '" + log + "' 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string marker = "step " + std::to_string(step) + "/";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (read_all(log).find(marker) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int sig : signals) kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

const std::string kTask =
    "--task copy --task-pairs 200 --steps 100000 --d-model 16 --heads 2 --d-ff 32 --layers 1 "
    "--threads 1 --progress lines --log-every 1 --show-worst 0";
}  // namespace

TEST_CASE("Ctrl-C or SIGTERM: the step finishes, the checkpoint is written, exit 130 / 143",
          "[ch12]") {
  for (const int sig : {SIGINT, SIGTERM}) {
    INFO("signal " << sig);
    const std::string ckpt = std::string(QKV_BUILD_DIR) + "/test_interrupt.ckpt";
    const std::string log = std::string(QKV_BUILD_DIR) + "/test_interrupt.log";
    std::remove(ckpt.c_str());
    const int status = train_and_signal(kTask + " --checkpoint " + ckpt, log, 3, {sig});
    const std::string out = read_all(log);
    INFO(out);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 128 + sig);
    CHECK(out.find("resume with: build/train_translator --resume " + ckpt) != std::string::npos);
    // The checkpoint holds the steps done, and resuming continues from there.
    const nn::TensorFile f = nn::load_tensor_file(ckpt, "qkv-xlat", 2);
    const std::string train = f.text("train");
    const long long done = std::stoll(train.substr(train.find("step ") + 5));
    CHECK(done >= 3);
    const test::Result r = test::run("train_translator --resume " + ckpt + " --steps " +
                                     std::to_string(done + 2) + " --threads 1 --show-worst 0");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("resuming from " + ckpt + " at step " + std::to_string(done)) !=
          std::string::npos);
    std::remove(ckpt.c_str());
    std::remove(log.c_str());
  }
}

TEST_CASE("a second Ctrl-C exits at once and the last checkpoint still loads", "[ch12]") {
  const std::string ckpt = std::string(QKV_BUILD_DIR) + "/test_interrupt2.ckpt";
  const std::string log = std::string(QKV_BUILD_DIR) + "/test_interrupt2.log";
  std::remove(ckpt.c_str());
  // A checkpoint every 2 steps, so one exists before the signals.
  const int status = train_and_signal(kTask + " --checkpoint-every 2 --checkpoint " + ckpt, log, 5,
                                      {SIGINT, SIGINT});
  INFO(read_all(log));
  // Either the second signal ended it at once (killed by SIGINT), or the first had already
  // finished its save and exit; both must leave a checkpoint that loads.
  CHECK(((WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) ||
         (WIFEXITED(status) && WEXITSTATUS(status) == 130)));
  CHECK_NOTHROW(nn::load_tensor_file(ckpt, "qkv-xlat", 2));
  const test::Result t = test::run("translate --checkpoint " + ckpt + " '1 2'");
  CHECK(t.status == 0);
  std::remove(ckpt.c_str());
  std::remove((ckpt + ".tmp").c_str());
  std::remove(log.c_str());
}
