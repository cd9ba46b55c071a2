// A bump allocator over a workspace, used twice with the same sequence of take() calls: once
// without memory to size the workspace (workspace_bytes()), once over the run's workspace to
// lay it out. One sequence, so the size and the layout cannot disagree.
//
// Sizes come from user extents, so the running total saturates instead of wrapping: a sizing
// that overflowed reports ok() == false and bytes() == SIZE_MAX, which the constructor turns
// into an error (or a workspace limit refuses).
#pragma once

#include <cstddef>
#include <cstdint>

namespace convnd::detail {

class Carve {
 public:
  // Sizing: no memory, only the running total.
  Carve() = default;
  explicit Carve(void* base) : base_(static_cast<char*>(base)) {}

  // The next `count` elements of T, starting on a cache line; nullptr while sizing.
  template <class T>
  T* take(std::size_t count) {
    const std::size_t at = used_;
    std::size_t bytes = 0, rounded = 0;
    if (__builtin_mul_overflow(count, sizeof(T), &bytes) ||
        __builtin_add_overflow(bytes, std::size_t{63}, &rounded) ||
        __builtin_add_overflow(used_, rounded / 64 * 64, &used_)) {
      used_ = SIZE_MAX;
      ok_ = false;
    }
    return base_ && ok_ ? reinterpret_cast<T*>(base_ + at) : nullptr;
  }

  std::size_t bytes() const { return used_; }
  bool ok() const { return ok_; }

 private:
  char* base_ = nullptr;
  std::size_t used_ = 0;
  bool ok_ = true;
};

}  // namespace convnd::detail
