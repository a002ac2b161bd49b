// GEMM: C = alpha · op(A) · op(B) + beta · C on row-major float arrays (chapter 03).
//
// op(X) is X or Xᵀ (trans_* flag). op(A) is [M, K], op(B) is [K, N], C is [M, N]; lda, ldb
// and ldc are the row strides of A, B and C as stored (before any transpose). The same
// routine serves matmul's forward (C = A·B) and both backward products
// (dA += dC·Bᵀ with trans_b, dB += Aᵀ·dC with trans_a, each with beta = 1).
//
// Contract: C must not overlap A or B. beta == 0 means C is overwritten (its old contents,
// even NaN, are ignored). Each element of C is summed over k in one fixed order whatever
// the number of OpenMP threads, so results do not depend on OMP_NUM_THREADS. One exception:
// where a NaN already in C (beta != 0) meets a NaN from the products, C stays NaN, but which
// of the two comes out, its sign and payload, may depend on the thread count (x86 keeps one
// operand's NaN, and the compiler picks the operand order of each add; chapter 14).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "autograd/kernels/parallel.h"

namespace qkv::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The same product as a struct, with an optional epilogue for a Linear layer's forward pass:
// after the sum, C[i, j] += bias[j], then C[i, j] = max(C[i, j], 0) if relu (NaN becomes 0).
// Rounded exactly as a separate pass over C would round it.
struct Gemm {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  const float* bias;  // [N] or nullptr
  bool relu;
  Gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
       int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
       const float* bias = nullptr, bool relu = false)
      : trans_a(trans_a),
        trans_b(trans_b),
        M(M),
        N(N),
        K(K),
        alpha(alpha),
        A(A),
        lda(lda),
        B(B),
        ldb(ldb),
        beta(beta),
        C(C),
        ldc(ldc),
        bias(bias),
        relu(relu) {}
};
void gemm(const Gemm& g);

// Several products in one parallel region (chapter 14: each region wakes the other threads).
// Inside a region of `threads` threads that the caller opened, thread `thread` computes its
// share of C (a rectangle; or, for a small C with a long sum, some of the sum's slices and then
// its rows of their total; or, given claims, the rows it claims); together they compute
// gemm(g), bit for bit, whatever `threads` is.
// Every thread of the region calls it, each for its own number: a product whose sum over k the
// threads split waits at two barriers inside (so one thread calling it for several numbers
// inside a region would wait forever; outside any region, in turn, is fine: nothing splits k
// there). Otherwise a thread may go on to its share of the next product at once, as long as
// that product does not read this one's C.
// gemm_worth_threads says whether `macs` multiply-adds pay for waking the threads (gemm() uses
// the same rule).
// With `claims`, two threads may share the rows of C by claiming them from opposite ends
// instead of in fixed halves, so that the one that started late does fewer (chapter 14): which
// thread computes a row then varies, the row's bits do not. Only for a product below the paced
// size whose packed B fits 1 MB (K·N up to 2^18) and that the two threads of a two-thread
// region split by rows; otherwise claims are ignored. One GemmClaims per product, made before
// the region, and every thread passes the same one (with one each, every thread would compute
// all of C).
using GemmClaims = EndClaims;  // parallel.h: row tiles claimed so far, by either thread
void gemm_part(const Gemm& g, int thread, int threads, GemmClaims* claims = nullptr);
bool gemm_worth_threads(int64_t macs);
// Call before opening a region that runs gemm_part, outside any region: sets how the next
// products are shared among the threads, from how fast each thread has been lately (gemm.cpp,
// chapter 14). Without it, gemm_part shares as gemm() did last; the results are the same
// either way, only the time differs.
void gemm_prepare_parts();
// For tests: how many products so far were split by k among the threads, and how many were
// shared by claims (gemm.cpp).
int64_t gemm_products_split_by_k();
int64_t gemm_products_claimed();
// For tests and benchmarks: sets each thread's recorded pace (multiply-adds per second; 0 =
// none yet), which the next gemm() or gemm_prepare_parts() turns into shares.
void gemm_set_paces(const std::vector<double>& macs_per_second);

// `batch` independent GEMMs; matrix i starts at A + i·stride_a (likewise B, C). A stride of
// 0 repeats one matrix across the batch (broadcasting), allowed for A and B, not for C.
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  float alpha, const float* A, int64_t lda, int64_t stride_a, const float* B,
                  int64_t ldb, int64_t stride_b, float beta, float* C, int64_t ldc,
                  int64_t stride_c);

// The cache blocks gemm uses on this machine: KC fixed (it sets the order of the sums), MC and
// NC derived from the L2 and L3 sizes the machine reports (gemm.cpp explains the rule).
struct GemmBlocks {
  int64_t MC, KC, NC;
};
GemmBlocks gemm_blocks();

// Multiply-adds done by gemm and gemm_batched since the program started (M·N·K per product),
// counted once per call by the calling thread. Chapter 14's profiler divides them by time to
// see how close each op's products come to the machine's peak.
int64_t gemm_macs_done();
// The same, counting only the calls made by this thread: what the profiler reads, so that when
// several threads run ops at once (training in shards, nn/data_parallel.h) an op's
// multiply-adds are its own thread's.
int64_t gemm_macs_done_here();
// Adds to that count the multiply-adds of products done outside gemm: the fused attention
// kernel's Q·Kᵀ and P·V (attention.cpp), so the profiler sees all the matrix work.
void count_macs(int64_t macs);

// The textbook triple loop, in double-precision accumulation: the slow, obviously correct
// reference that the tests hold the fast GEMM against. Same contract as gemm().
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc);

}  // namespace qkv::kernels
