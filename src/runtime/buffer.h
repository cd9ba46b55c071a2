// A 64-byte aligned, uninitialised byte buffer for workspaces and packed operands. An allocation
// failure becomes convnd::Error (naming what was being allocated), never an abort.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include "convnd/convnd.h"

namespace convnd::detail {

class AlignedBuffer {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedBuffer() = default;
  AlignedBuffer(std::size_t bytes, const char* what) { resize(bytes, what); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  ~AlignedBuffer() { std::free(data_); }

  void resize(std::size_t bytes, const char* what) {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    if (bytes == 0) return;
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded < bytes) throw Error(std::string("convnd: ") + what + ": size overflows");
    data_ = std::aligned_alloc(kAlignment, rounded);
    if (!data_)
      throw Error(std::string("convnd: ") + what + ": cannot allocate " + std::to_string(bytes) +
                  " bytes");
    size_ = bytes;
  }

  void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace convnd::detail
