// The Catch2 main, compiled once in a file of its own (it is the slow one to build). The same
// file serves Catch2 v2 and v3 (tests/catch.h); with v3 it replaces libCatch2Main.
// After the run it prints one plain summary line, `tests: N passed, M failed`, counting
// test cases, so that CI and a reader see the result without scrolling.
#define CATCH_CONFIG_RUNNER
#include <cstdio>
#include <utility>

#include "tests/catch.h"

namespace {
Catch::Totals g_totals;

struct SummaryListener : Catch::TestEventListenerBase {
  using Base = Catch::TestEventListenerBase;  // v3: Catch::EventListenerBase (tests/catch.h)
  // v2 constructs a listener from a ReporterConfig, v3 from an IConfig*: take either.
  template <class Config>
  explicit SummaryListener(Config&& config) : Base(std::forward<Config>(config)) {}
  void testRunEnded(Catch::TestRunStats const& stats) override { g_totals = stats.totals; }
};
}  // namespace

CATCH_REGISTER_LISTENER(SummaryListener)

int main(int argc, char** argv) {
  const int rc = Catch::Session().run(argc, argv);
  std::fflush(stdout);
  std::printf("tests: %llu passed, %llu failed\n",
              static_cast<unsigned long long>(g_totals.testCases.passed),
              static_cast<unsigned long long>(g_totals.testCases.failed));
  return rc;
}
