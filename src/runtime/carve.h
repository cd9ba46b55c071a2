// A bump allocator over a workspace, used twice with the same sequence of take() calls: once
// without memory to size the workspace (workspace_bytes()), once over the run's workspace to
// lay it out. One sequence, so the size and the layout cannot disagree.
#pragma once

#include <cstddef>

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
    used_ += (count * sizeof(T) + 63) / 64 * 64;
    return base_ ? reinterpret_cast<T*>(base_ + at) : nullptr;
  }

  std::size_t bytes() const { return used_; }

 private:
  char* base_ = nullptr;
  std::size_t used_ = 0;
};

}  // namespace convnd::detail
