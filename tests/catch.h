// Catch2 v2 or v3, whichever is installed: every test file includes this header, not Catch2's.
//
// v2 (Debian 12's `catch2` package) is one header, catch2/catch.hpp, and the test binary needs
// nothing else. v3 (Ubuntu 24.04's and Debian 13's `catch2`) has no catch.hpp: it ships
// catch2/catch_all.hpp and a compiled library, libCatch2 (linked with -lCatch2; we bring our own
// main, so not Catch2Main), and it moved a few names. The Makefile finds which one the compiler
// sees and defines QKV_CATCH2 to 2 or 3; compiled by hand, __has_include decides. The few v2
// names the tests use are given back below, so a test reads the same under both.
#pragma once

#ifndef QKV_CATCH2
#if __has_include(<catch2/catch_all.hpp>)
#define QKV_CATCH2 3
#else
#define QKV_CATCH2 2
#endif
#endif

#if QKV_CATCH2 == 3
#include <catch2/catch_all.hpp>
#include <string>

using Catch::Approx;  // v2 declared Approx in the global namespace

namespace Catch {
// v2's string matchers under their v2 names (v3 renamed Contains to ContainsSubstring, and
// Catch::Contains is now the range matcher in Catch::Matchers).
inline Matchers::StringContainsMatcher Contains(const std::string& s,
                                                CaseSensitive cs = CaseSensitive::Yes) {
  return Matchers::ContainsSubstring(s, cs);
}
using Matchers::StartsWith;
// v2's base class for listeners (tests/catch_main.cpp).
using TestEventListenerBase = EventListenerBase;
}  // namespace Catch
#else
#include <catch2/catch.hpp>
#endif
