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
//
// Most loops share their rows out statically, one equal block per thread: the block a thread
// writes in one op is the block it reads in the next, from its own cache. The heaviest row-wise
// loops (attention's (batch, head) pairs, LayerNorm's forward, cross-entropy) use
// schedule(guided) instead: the first chunks are still large and in order, half the rows and
// then a quarter, so the rows mostly stay where the static split had them, and the last, small
// chunks go to whichever thread is free. On a shared host one core can run 1.17 to 1.39 times
// as fast as the other for seconds (chapter 14, the sixth round), and an equal split waits for
// the slower. Every
// row is still computed whole by one thread, so the results do not depend on who takes which.
// Timed step by step on two threads, guided / static: small 1.009 to 1.022, tiny 0.974 to
// 1.023, base 1.012.
#pragma once

#include <cstdint>

namespace qkv::kernels {

#ifndef QKV_PARALLEL_MIN
#define QKV_PARALLEL_MIN (1 << 15)
#endif
constexpr int64_t kParallelMin = QKV_PARALLEL_MIN;

}  // namespace qkv::kernels
