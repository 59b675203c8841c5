// std::vector whose storage starts on a 64-byte boundary: a cache line, and one AVX-512 or AMX tile row. The
// kernels' operands (packed weights, panels, activations) live in these, so no vector or tile-row load of an
// aligned offset straddles two cache lines (malloc gives 16: AMX tile loads then ran at a third of their speed).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace emofleet {

constexpr size_t kBufferAlignment = 64;

template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly
  T* allocate(size_t count) {
    return static_cast<T*>(::operator new(count * sizeof(T), std::align_val_t(kBufferAlignment)));
  }
  void deallocate(T* pointer, size_t) noexcept { ::operator delete(pointer, std::align_val_t(kBufferAlignment)); }
  template <typename U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept { return true; }
  template <typename U>
  bool operator!=(const CacheLineAllocator<U>&) const noexcept { return false; }
};

template <typename T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace emofleet
