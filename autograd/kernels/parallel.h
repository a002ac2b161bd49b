// When is a loop worth splitting across threads? (chapter 14)
//
// Opening an OpenMP parallel region costs microseconds: waking the other threads and
// waiting for all of them at the end, far more when they sleep between regions
// (OMP_WAIT_POLICY=passive) or share the cores with other programs; an element-wise loop
// over 30,000 floats takes about as long. So every row-wise and element-wise kernel stays on
// one thread below kParallelMin elements of work; only the GEMM, whose work grows as M·N·K,
// decides for itself (gemm.cpp). Chapter 14 ("The fifth round") timed 2^13 to 2^20 step by step
// against 2^15 at the tiny and small models, two threads: 2^13 and 2^14 the same, 2^17 up to
// 10% slower at small, 2^20 14-29% slower.
#pragma once

#include <cstdint>

namespace qkv::kernels {

#ifndef QKV_PARALLEL_MIN
#define QKV_PARALLEL_MIN (1 << 15)
#endif
constexpr int64_t kParallelMin = QKV_PARALLEL_MIN;

}  // namespace qkv::kernels
