// A 64-byte aligned, uninitialised byte buffer for workspaces and packed operands. An allocation
// failure becomes convnd::Error (naming what was being allocated), never an abort.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include "convnd/convnd.h"

namespace convnd::detail {

// Bytes held by all AlignedBuffers now, and the most held at once since the last reset: the
// tests use these to check that every algorithm stays within a Plan's workspace limit.
struct BufferStats {
  static std::atomic<std::size_t>& live() {
    static std::atomic<std::size_t> v{0};
    return v;
  }
  static std::atomic<std::size_t>& peak() {
    static std::atomic<std::size_t> v{0};
    return v;
  }
  static void reset_peak() { peak().store(live().load()); }
  static void add(std::size_t bytes) {
    const std::size_t now = live().fetch_add(bytes) + bytes;
    std::size_t p = peak().load();
    while (now > p && !peak().compare_exchange_weak(p, now)) {
    }
  }
  static void remove(std::size_t bytes) { live().fetch_sub(bytes); }
};

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
  ~AlignedBuffer() { release(); }

  void resize(std::size_t bytes, const char* what) {
    release();
    if (bytes == 0) return;
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    if (rounded < bytes)
      throw Error(std::string("convnd: out of memory: the ") + what + " (" + std::to_string(bytes) +
                      " bytes) overflows the address space",
                  Error::Kind::memory);
    // Through operator new, like every other allocation of the library, so that one replacement
    // of it (the fault-injection test) reaches them all.
    data_ = ::operator new(rounded, std::align_val_t{kAlignment}, std::nothrow);
    if (!data_)
      throw Error(std::string("convnd: out of memory: cannot allocate ") + std::to_string(bytes) +
                      " bytes for the " + what,
                  Error::Kind::memory);
    size_ = bytes;
    BufferStats::add(size_);
  }

  void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() {
    if (data_) BufferStats::remove(size_);
    ::operator delete(data_, std::align_val_t{kAlignment});
    data_ = nullptr;
    size_ = 0;
  }

  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace convnd::detail
