// A 64-byte aligned allocator: tensor storage starts on a cache line, so the vectorised
// kernels (chapter 03) never straddle one at the start of a row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace qkv {

template <class T, std::size_t Align = 64>
struct AlignedAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Align>;
  };
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, Align>&) noexcept {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(Align)));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(Align)); }

  // Value-initialising a float means zeroing it; `empty` tensors skip that cost because
  // resize() on this allocator default-initialises (leaves floats uninitialised).
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) {
      ::new (static_cast<void*>(p)) U;
    } else {
      ::new (static_cast<void*>(p)) U(static_cast<Args&&>(args)...);
    }
  }

  friend bool operator==(const AlignedAllocator&, const AlignedAllocator&) { return true; }
  friend bool operator!=(const AlignedAllocator&, const AlignedAllocator&) { return false; }
};

// A buffer of at least n floats for the calling thread, aligned as above and kept between calls:
// no allocation once warm. Each Tag is a buffer of its own, for users whose buffers are alive
// at the same time (the GEMM's packed A and B panels); its contents are the caller's scratch.
template <class Tag>
float* thread_scratch(int64_t n) {
  thread_local std::vector<float, AlignedAllocator<float>> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

}  // namespace qkv
