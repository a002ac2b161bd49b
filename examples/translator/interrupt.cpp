#include "examples/translator/interrupt.h"

#include <unistd.h>

#include <csignal>

namespace qkv::app {

namespace {
volatile std::sig_atomic_t g_signal = 0;

// Only async-signal-safe calls in here: write, signal, raise.
extern "C" void on_signal(int sig) {
  if (g_signal != 0) {  // the second one: do what the signal would have done at once
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal = sig;
  const char msg[] =
      "\n(stopping after this step to save a checkpoint; press Ctrl-C again to quit at once)\n";
  const ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}
}  // namespace

void catch_interrupts() {
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a write interrupted by the signal carries on
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int interrupt_signal() { return g_signal; }

}  // namespace qkv::app
