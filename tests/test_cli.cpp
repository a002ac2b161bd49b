// examples/cli.h: the one command-line parser and app shell of every program.
#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "examples/cli.h"
#include "examples/fma_probe.h"
#include "tests/catch.h"
#include "tests/helpers.h"
#include "tests/programs.h"

using namespace qkv;

namespace {
// argv from words (argv[0] is the program).
struct Argv {
  explicit Argv(std::vector<std::string> w) : words(std::move(w)) {
    for (auto& s : words) ptrs.push_back(s.data());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> words;
  std::vector<char*> ptrs;
};

// One training step of a very small model: enough for an app's banner (runtime_settings.h).
const std::string kOneStep = "'" QKV_BUILD_DIR
                             "/bench_train' --d-model 16 --heads 2 --d-ff 32 --layers 1 "
                             "--batch 4 --src-len 4 --tgt-len 4 --src-vocab 20 --tgt-vocab 20 "
                             "--warmup 0 --steps 1";

// The output of kOneStep run in the environment `env` (`env -u ... VAR=value `), which must
// succeed; UNSCOPED_INFO shows it beside the caller's failed checks.
std::string one_step_output(const std::string& env) {
  const test::Result r = test::run_shell(env + kOneStep);
  UNSCOPED_INFO(r.output);
  REQUIRE(r.status == 0);
  return r.output;
}

// The number after `"key": ` in a JSON line; NaN if the key is not there.
double json_number(const std::string& line, const std::string& key) {
  const size_t at = line.find("\"" + key + "\": ");
  return at == std::string::npos ? std::nan("") : std::stod(line.substr(at + key.size() + 4));
}
}  // namespace

TEST_CASE("ArgParser: values, switches, positionals, and strict numbers in one place", "[cli]") {
  int64_t n = 1;
  double x = 0;
  std::string s;
  bool on = false;
  app::ArgParser p("prog", "test");
  p.option("--n", "N", "", n);
  p.option("--x", "X", "", x);
  p.option("--s", "S", "", s);
  p.flag("--on", "", on);
  p.positional("TEXT", "");
  Argv a({"prog", "--n", "42", "--x=2.5", "word", "--on", "--", "--s"});
  REQUIRE(p.parse(a.argc(), a.argv()));
  CHECK(n == 42);
  CHECK(x == 2.5);
  CHECK(on);
  CHECK(p.given("--n"));
  CHECK_FALSE(p.given("--s"));
  CHECK(p.positionals() == std::vector<std::string>{"word", "--s"});
  for (const char* bad : {"12x", "", "1.5", "99999999999999999999"})
    CHECK_THROWS_AS(app::parse_int("--n", bad), app::UsageError);
  for (const char* bad : {"1e999", "nan", "2,5", "inf"})
    CHECK_THROWS_AS(app::parse_double("--x", bad), app::UsageError);
  CHECK(app::parse_double("--x", "-1e-3") == -1e-3);
  Argv unknown({"prog", "--m", "1"});
  CHECK_THROWS_WITH(p.parse(unknown.argc(), unknown.argv()), "unknown flag '--m'");
  Argv missing({"prog", "--n"});
  CHECK_THROWS_WITH(p.parse(missing.argc(), missing.argv()), "--n needs a value (N)");
}

TEST_CASE("every program: --help exits 0, a bad flag exits 2 with the usage line", "[cli]") {
  for (const char* program :
       {"train_translator", "translate", "bench_train", "bench_kernels", "make_toy_corpus",
        "ch06_rnn_vs_attention", "ch06_worked_example", "ch07_head_cost", "ch10_layer_norm",
        "ch11_transformer",
        // the chapter programs without settings: --help and nothing else
        "ch01_tensors", "ch02_autograd", "ch03_gemm_steps", "ch04_layers", "ch05_softmax",
        "ch06_rnn_limits", "ch08_masks_and_cross_attention", "ch09_positional_encoding",
        "ch11_context_and_memory", "ch12_data_pipeline", "ch12_lr_schedule", "ch13_bleu",
        "ch13_kv_cache", "ch15_encoder_decoder_only"}) {
    INFO(program);
    test::Result r = test::run(std::string(program) + " --help");
    CHECK(r.status == 0);
    CHECK(r.output.rfind(std::string("usage: ") + program + " [flags]", 0) == 0);
    r = test::run(std::string(program) + " --no-such-flag");
    CHECK(r.status == 2);
    CHECK(r.output.find(std::string(program) + ": unknown flag '--no-such-flag' (try --help)\n" +
                        "usage: " + program) != std::string::npos);
  }
  test::Result r = test::run("bench_train --steps 3x");
  CHECK(r.status == 2);
  CHECK(r.output.find("--steps: expected an integer, got '3x'") != std::string::npos);
}

TEST_CASE("bench_train --alternate-threads: half the steps on each count, the same numbers",
          "[cli][ch14]") {
  const std::string model =
      "bench_train --d-model 16 --heads 2 --d-ff 32 --layers 1 --batch 4 --src-len 4 --tgt-len 4 "
      "--src-vocab 20 --tgt-vocab 20 --warmup 2 --steps 6";
  test::Result alt = test::run(model + " --threads 2 --alternate-threads");
  REQUIRE(alt.status == 0);
  INFO(alt.output);
  // 6 timed steps: 3 on each thread count, whatever order the pairs drew.
  CHECK(alt.output.find("1 thread ") != std::string::npos);
  CHECK(alt.output.find("(median of 3 steps), 2 threads") != std::string::npos);
  CHECK(alt.output.find("(median of 3); 2 threads are") != std::string::npos);
  // Then the same split by phase: forward, backward, and Adam's update with zero_grad.
  for (const char* phase : {"\n  forward ", "\n  backward ", "\n  adam+zero_grad "}) {
    const size_t at = alt.output.find(phase);
    REQUIRE(at != std::string::npos);
    const std::string line = alt.output.substr(at + 1, alt.output.find('\n', at + 1) - at - 1);
    CHECK(line.find(" 1 thread ") != std::string::npos);
    CHECK(line.find(", 2 threads ") != std::string::npos);
  }
  const std::string json = alt.last_line();
  for (const char* key : {"\"step_ms_median_1\": ", "\"step_ms_median_n\": ", "\"threads\": 2, ",
                          "\"speedup\": ", "\"peak_rss_mb\": "})
    CHECK(json.find(key) != std::string::npos);
  // Results do not depend on the thread count, so switching it every step changes no number:
  // the final loss is the one of a run on one thread throughout.
  test::Result one = test::run(model + " --threads 1");
  REQUIRE(one.status == 0);
  auto final_loss = [](const std::string& out) {
    const size_t at = out.find("final loss ");
    return at == std::string::npos ? std::string("missing") : out.substr(at + 11, 6);
  };
  CHECK(final_loss(alt.output) != "missing");
  CHECK(final_loss(alt.output) == final_loss(one.output));

  test::Result r = test::run(model + " --threads 1 --alternate-threads");
  CHECK(r.status == 2);
  CHECK(r.output.find("--alternate-threads needs 2 or more threads, got 1") != std::string::npos);
  r = test::run(model + " --alternate-threads --count");
  CHECK(r.status == 2);
  CHECK(r.output.find("does not combine with --count") != std::string::npos);
  // With --profile, each op's medians on 1 and 2 threads, and the same training.
  r = test::run(model + " --threads 2 --alternate-threads --profile");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("1 thread ms") != std::string::npos);
  CHECK(r.output.find("\nlinear (backward) ") != std::string::npos);
  CHECK(final_loss(r.output) == final_loss(one.output));
  r = test::run(model + " --alternate-threads --mode greedy");
  CHECK(r.status == 2);
  CHECK(r.output.find("times training steps only") != std::string::npos);
  // --probe-cores: the machine's 2T/1T before each step, and the ratio over the pairs that had
  // two cores (how many depends on the machine; the keys do not). The probes change no number.
  r = test::run(model + " --threads 2 --alternate-threads --probe-cores");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("machine: FMA loop 2T/1T before each step, median ") != std::string::npos);
  CHECK(r.output.find(" of 3 pairs had two cores") != std::string::npos);
  for (const char* key : {"\"fma_two_core_ratio\": ", "\"pairs_two_cores\": "})
    CHECK(r.last_line().find(key) != std::string::npos);
  // The ratio over those pairs, printed and in the JSON, exactly when there were any.
  const bool any = r.last_line().find("\"pairs_two_cores\": 0") == std::string::npos;
  CHECK((r.output.find("  over those pairs: 1 thread ") != std::string::npos) == any);
  CHECK((r.last_line().find("\"speedup_two_cores\": ") != std::string::npos) == any);
  // How far apart the cores were (a cache line's round trip before each step), and the pairs
  // with two cores split into near and far: each pair in at most one of the two, a ratio for
  // each side exactly when it has pairs.
  CHECK(r.output.find("  a cache line between the cores and back, before each step: median ") !=
        std::string::npos);
  const std::string probed = r.last_line();
  const double trip = json_number(probed, "round_trip_us");
  CHECK(trip > 0);
  CHECK(trip < 1000);
  const double near = json_number(probed, "pairs_near");
  const double far = json_number(probed, "pairs_far");
  CHECK(near >= 0);
  CHECK(far >= 0);
  CHECK(near + far <= json_number(probed, "pairs_two_cores"));
  CHECK(std::isnan(json_number(probed, "speedup_near")) == (near == 0));
  CHECK(std::isnan(json_number(probed, "speedup_far")) == (far == 0));
  CHECK(final_loss(r.output) == final_loss(one.output));
  r = test::run(model + " --threads 2 --probe-cores");
  CHECK(r.status == 2);
  CHECK(r.output.find("--probe-cores goes with --alternate-threads") != std::string::npos);
  r = test::run(model + " --threads 3 --alternate-threads --probe-cores");
  CHECK(r.status == 2);
  CHECK(r.output.find("--probe-cores needs --alternate-threads on 2 threads, got 3") !=
        std::string::npos);
}

// bench_train --shards: the batch in shards, one thread each (nn/data_parallel.h). The numbers
// depend on the shard count, not on the thread count.
TEST_CASE("bench_train --shards: the same numbers on one thread and two", "[cli][ch14]") {
  const std::string model =
      "bench_train --d-model 16 --heads 2 --d-ff 32 --layers 1 --batch 5 --src-len 4 --tgt-len 4 "
      "--src-vocab 20 --tgt-vocab 20 --warmup 1 --steps 3";
  auto final_loss = [](const std::string& out) {
    const size_t at = out.find("final loss ");
    return at == std::string::npos ? std::string("missing") : out.substr(at + 11, 6);
  };
  test::Result one = test::run(model + " --shards 2 --threads 1");
  REQUIRE(one.status == 0);
  INFO(one.output);
  CHECK(one.output.find("batch 5 × (4 + 4) tokens in 2 shards\n") != std::string::npos);
  CHECK(one.output.find("forward+backward in shards ") != std::string::npos);
  test::Result two = test::run(model + " --shards 2 --threads 2 --alternate-threads");
  REQUIRE(two.status == 0);
  INFO(two.output);
  CHECK(two.output.find("\n  fwd+backward ") != std::string::npos);
  CHECK(final_loss(one.output) != "missing");
  CHECK(final_loss(two.output) == final_loss(one.output));
  test::Result r = test::run(model + " --shards 6");
  CHECK(r.status == 2);
  CHECK(r.output.find("--shards 6 is more than --batch 5") != std::string::npos);
  // A model whose replica's gradients fill more than a glibc heap (16.8 million parameters)
  // takes one heap for all threads; the small one above does not.
  CHECK(one.output.find("one heap") == std::string::npos);
  r = test::run(
      "bench_train --d-model 64 --heads 2 --d-ff 64 --layers 1 --batch 2 --src-len 2 --tgt-len 2 "
      "--src-vocab 90000 --tgt-vocab 90000 --warmup 0 --steps 1 --shards 2");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("in 2 shards, one heap for all threads\n") != std::string::npos);
  r = test::run(model + " --shards 2 --count");
  CHECK(r.status == 2);
  CHECK(r.output.find("--count counts one batch's ops") != std::string::npos);
}

// bench_kernels --cores: the machine's own 2T/1T, which compare.py prints beside qkv's.
TEST_CASE("bench_kernels --cores: one JSON line, the FMA loop on 1 and 2 threads and their ratio",
          "[cli][ch14]") {
  test::Result r = test::run("bench_kernels --cores");
  REQUIRE(r.status == 0);
  INFO(r.output);
  const std::string json = r.last_line();
  for (const char* key : {"{\"fma_1t_gflops\": ", "\"fma_2t_gflops\": ", "\"two_core_ratio\": "})
    CHECK(json.find(key) != std::string::npos);
  // The ratio is a median of 2T/1T throughputs: positive, and no more than 2 threads can give
  // (a little over 2 only from timing noise).
  const size_t at = json.find("\"two_core_ratio\": ");
  REQUIRE(at != std::string::npos);
  const double ratio = std::stod(json.substr(at + 18));
  CHECK(ratio > 0.1);
  CHECK(ratio < 2.5);
  // A cache line's round trip between the two cores, in µs: 0.15 to 0.6 on this project's hosts
  // (0 where OpenMP gives one thread, which has no other core to reach).
  const double trip = json_number(json, "round_trip_us");
  CHECK((trip > 0) == test::two_threads_available());
  CHECK(trip < 1000);
}

// examples/fma_probe.h's round_trip_us: a time when two threads run, 0 when only one does (here
// a region nested in another, which OpenMP gives one thread).
TEST_CASE("round_trip_us: a cache line's round trip between two threads, 0 on one thread",
          "[cli][ch14]") {
  if (!test::two_threads_available()) {
    WARN("one thread only: round_trip_us is not tested");
    return;
  }
  const double us = app::round_trip_us();
  CHECK(us > 0);
  CHECK(us < 1000);
  // Inside a region of two threads, the probe's own region is nested: OpenMP gives it one.
  double nested[2] = {-1, -1};
#pragma omp parallel num_threads(2)
  nested[omp_get_thread_num()] = app::round_trip_us();
  CHECK(nested[0] == 0);
  CHECK(nested[1] == 0);
}

// examples/omp_wait.h: how the apps' OpenMP threads wait (chapter 14, the ninth round).
TEST_CASE("omp_wait: /proc/loadavg's runnable tasks, the spin count, and the apps' choice",
          "[cli][ch14]") {
  CHECK(app::runnable_tasks("0.52 0.58 0.59 3/467 12345\n") == 3);
  CHECK(app::runnable_tasks("0.00 0.01 0.05 1/90 77") == 1);
  CHECK(app::runnable_tasks("0.52 0.58 0.59") == -1);  // no runnable count
  CHECK(app::runnable_tasks("0.52 0.58 0.59 3-467 1") == -1);
  CHECK(app::runnable_tasks("") == -1);

  const double others = app::busy_cpus(0.01);
  CHECK(others >= 0);  // /proc/loadavg is there on Linux
  // Busy means busy in every window: a program that keeps one core busy all along is seen.
  {
    std::atomic<bool> stop{false};
    std::thread hog([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
    const bool busy = app::machine_busy();
    stop = true;
    hog.join();
    CHECK(busy);
  }
  const int64_t spins = app::spins_for(app::kSpinSeconds);
  CHECK(spins >= 100);
  CHECK(spins <= 20000);

  // An app started with neither variable set re-executes itself with its choice; the test
  // programs run with OMP_WAIT_POLICY set, so run one without it.
  CHECK(one_step_output("env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u GLIBC_TUNABLES ")
            .find("(OMP_WAIT_POLICY=passive") != std::string::npos);  // spin or not: busy?
  // Given by the user, both are left as they are; the heap's huge pages are still asked for
  // (runtime_settings.h): the app re-executed itself for them.
  CHECK(one_step_output("env -u GLIBC_TUNABLES OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=123 ")
            .find("(OMP_WAIT_POLICY=passive, GOMP_SPINCOUNT=123, glibc.malloc.hugetlb=1)") !=
        std::string::npos);
}

// examples/runtime_settings.h: glibc's heap asks for huge pages (chapter 14, the thirteenth
// round), unless the user's GLIBC_TUNABLES says otherwise.
TEST_CASE("runtime_settings: glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES, a given value kept",
          "[cli][ch14]") {
  CHECK(app::with_huge_pages(nullptr) == "glibc.malloc.hugetlb=1");
  CHECK(app::with_huge_pages("") == "glibc.malloc.hugetlb=1");
  CHECK(app::with_huge_pages("glibc.malloc.trim_threshold=7") ==
        "glibc.malloc.trim_threshold=7:glibc.malloc.hugetlb=1");
  CHECK(app::with_huge_pages("glibc.malloc.hugetlb=0").empty());  // the user's choice stands
  CHECK(app::with_huge_pages("a=1:glibc.malloc.hugetlb=2:b=3").empty());

  // The tests run with OMP_WAIT_POLICY set: the app re-executes itself for the tunable alone.
  CHECK(one_step_output("env -u GLIBC_TUNABLES -u GOMP_SPINCOUNT OMP_WAIT_POLICY=passive ")
            .find("(OMP_WAIT_POLICY=passive, glibc.malloc.hugetlb=1)") != std::string::npos);
  CHECK(
      one_step_output("env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=passive "
                      "GLIBC_TUNABLES=glibc.malloc.trim_threshold=67108864:glibc.malloc.hugetlb=0 ")
          .find("(OMP_WAIT_POLICY=passive, glibc.malloc.hugetlb=0)") != std::string::npos);
  // A program that finds QKV_REEXECUTED set is the re-executed one: it never re-executes again,
  // whatever its environment shows (here neither setting, as glibc can leave it for a setuid
  // program), and removes the marker, so that programs it starts choose for themselves.
  CHECK(one_step_output("env -u GLIBC_TUNABLES -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY "
                        "QKV_REEXECUTED=1 ")
            .find("(OMP_WAIT_POLICY=(unset))") != std::string::npos);
}
