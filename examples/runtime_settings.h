// What the apps set for their runtime libraries before those start (chapter 14): how OpenMP's
// threads wait (omp_wait.h, "The ninth round") and whether glibc's heap asks for huge pages
// ("The thirteenth round"). Both libraries read their settings from the environment before
// main() runs, so an app that wants either re-executes itself once with them set.
//
// Huge pages. Linux backs memory with 4 KiB pages, each faulted in on its first write: a base
// model run took 274,000 faults (1.8 to 2.6 s of kernel time), nearly all of them while the
// model is built and in its first step, where its weights' gradients and Adam's moments are
// first written. With transparent huge pages (2 MiB) it took 1,000, and started training 1.7 to
// 2.9 s sooner. Debian's kernel gives them only to memory a program asks for (`madvise` in
// /sys/kernel/mm/transparent_hugepage/enabled), and glibc asks for its heap's when its tunable
// glibc.malloc.hugetlb is 1 (glibc 2.35 on; older ones ignore it). Asking from the library for
// each big tensor's pages instead (madvise after each allocation) made the base model's steps
// twice as slow on one thread (1.15 times on two), most likely because memory the heap hands
// out again was written in small pages already, and the kernel then collapses them into huge
// ones, again and again.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "examples/omp_wait.h"

namespace qkv::app {

constexpr const char* kHugePagesTunable = "glibc.malloc.hugetlb";

// GLIBC_TUNABLES with glibc.malloc.hugetlb=1 added ("a=1" → "a=1:glibc.malloc.hugetlb=1"), or
// "" if `tunables` already sets it: the user's value stands.
inline std::string with_huge_pages(const char* tunables) {
  const std::string t = tunables ? tunables : "";
  if (t.find(kHugePagesTunable) != std::string::npos) return "";
  return t + (t.empty() ? "" : ":") + kHugePagesTunable + "=1";
}

// Set in the environment of the re-executed program only, which removes it at once: whatever
// that program's environment then shows (glibc drops GLIBC_TUNABLES for setuid programs, say),
// it never re-executes itself again.
constexpr const char* kReexecuted = "QKV_REEXECUTED";

// Re-executes the program once with OMP_WAIT_POLICY=passive and, on an idle machine,
// GOMP_SPINCOUNT for kSpinSeconds, unless either is already set; and with
// glibc.malloc.hugetlb=1 in GLIBC_TUNABLES, unless that names it. Nothing if neither is missing.
inline void choose_runtime_settings(char** argv) {
  if (std::getenv(kReexecuted) != nullptr) {
    unsetenv(kReexecuted);  // this is the re-executed program: its children start afresh
    return;
  }
  const bool wait_given =
      std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr;
  const char* old_tunables = std::getenv("GLIBC_TUNABLES");
  const std::string before = old_tunables ? old_tunables : "";
  const std::string tunables = with_huge_pages(old_tunables);
  if (wait_given && tunables.empty()) return;
  if (!wait_given) {
    const bool busy = machine_busy();
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    if (!busy) setenv("GOMP_SPINCOUNT", std::to_string(spins_for(kSpinSeconds)).c_str(), 1);
  }
  if (!tunables.empty()) setenv("GLIBC_TUNABLES", tunables.c_str(), 1);
  setenv(kReexecuted, "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
  unsetenv(kReexecuted);
  if (!wait_given) {
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("GOMP_SPINCOUNT");
  }
  if (old_tunables)
    setenv("GLIBC_TUNABLES", before.c_str(), 1);
  else
    unsetenv("GLIBC_TUNABLES");
}

// "glibc.malloc.hugetlb=1" (or the value given), or "" if unset: for the apps' banners.
inline std::string huge_pages_setting() {
  const char* t = std::getenv("GLIBC_TUNABLES");
  if (!t) return "";
  const std::string s = t;
  const size_t at = s.find(kHugePagesTunable);
  if (at == std::string::npos) return "";
  return s.substr(at, s.find(':', at) - at);
}

}  // namespace qkv::app
