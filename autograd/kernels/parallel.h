// When is a loop worth splitting across threads? (chapter 14)
//
// Opening an OpenMP parallel region costs microseconds: waking the other threads and
// waiting for all of them at the end, far more when they sleep between regions
// (OMP_WAIT_POLICY=passive) or share the cores with other programs; an element-wise loop
// over 30,000 floats takes about as long. So every row-wise and element-wise kernel stays on
// one thread below kParallelMin elements of work; only the GEMM, whose work grows as M·N·K,
// decides for itself (gemm.cpp). Chapter 14 measured 2^15 against 2^17, 2^18 and 2^20 with
// bench_train: no difference beyond noise at the default size, so the threshold is not what
// makes two threads slow there.
#pragma once

#include <cstdint>

namespace qkv::kernels {

#ifndef QKV_PARALLEL_MIN
#define QKV_PARALLEL_MIN (1 << 15)
#endif
constexpr int64_t kParallelMin = QKV_PARALLEL_MIN;

}  // namespace qkv::kernels
