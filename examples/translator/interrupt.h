// Ctrl-C during training (chapter 12, "Stopping and resuming"): the first SIGINT or SIGTERM
// only sets a flag, so the current step finishes, the checkpoint is written (atomically) and
// the program exits with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), saying
// how to resume. A second one exits at once, as the default action would: the last checkpoint
// cannot be damaged by that, since every save is a write to PATH.tmp and a rename.
#pragma once

namespace qkv::app {

// Installs the handlers for SIGINT and SIGTERM (once per process).
void catch_interrupts();
// 0 until a first signal arrived, then its number.
int interrupt_signal();

}  // namespace qkv::app
