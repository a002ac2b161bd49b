// Printing helpers shared by the chapter programs.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace qkv::report {

// Rounding-level differences depend on the compiler (fused multiply-adds) and on the
// GEMM's summation order, so they are printed as a bound, not digit by digit:
// "< 1e-6", or "= 2.4e-01" when the difference is real.
inline std::string bound(double v) {
  if (std::fabs(v) < 1e-6) return "< 1e-6";
  char buf[32];
  std::snprintf(buf, sizeof buf, "= %.1e", v);
  return buf;
}

}  // namespace qkv::report
