// <immintrin.h>, for the kernels that spell some AVX-512 instructions out (transpose.h,
// dropout.h, gemm.cpp), each with a portable version beside it. Included through here so
// that g++ 12's warnings about its own header (_mm512_undefined_ps, GCC bug 105593, in some
// shuffles) stay silenced whichever kernel includes it first.
#pragma once

#if defined(__AVX512F__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
