// # Why a per-thread workspace cache
// A run needs scratch memory (Plan::workspace_bytes()). Allocating it per run is cheap in
// the allocator but not in the kernel: buffers of more than 128 KiB come from fresh mmap
// pages, and a fresh page costs a fault and a zeroing on first touch. In a new process the
// first ~5-10 runs of a layer paid 4-6x their steady time for that (glibc raises its mmap
// threshold only after it has freed a few large blocks). Each calling thread keeps one
// grow-only buffer instead, reused by every run on that thread, so the pages are touched once.
//
// Runs on one thread never overlap, except when a run calls another Plan's run inside it;
// such a nested run (and any run larger than kMaxCachedBytes, which would otherwise stay
// resident after a one-off call) gets a buffer of its own, as before.
#pragma once

#include <cstddef>

#include "runtime/buffer.h"

namespace convnd::detail {

class WorkspaceLease {
 public:
  static constexpr std::size_t kMaxCachedBytes = std::size_t{64} << 20;

  explicit WorkspaceLease(std::size_t bytes) {
    Cache& c = cache();
    if (bytes <= kMaxCachedBytes && !c.in_use) {
      if (c.buffer.size() < bytes) c.buffer.resize(bytes, "workspace");
      c.in_use = true;
      cached_ = true;
      data_ = c.buffer.data();
    } else {
      own_.resize(bytes, "workspace");
      data_ = own_.data();
    }
  }
  ~WorkspaceLease() {
    if (cached_) cache().in_use = false;
  }
  WorkspaceLease(const WorkspaceLease&) = delete;
  WorkspaceLease& operator=(const WorkspaceLease&) = delete;

  void* data() const { return data_; }

 private:
  struct Cache {
    AlignedBuffer buffer;
    bool in_use = false;
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
  }

  AlignedBuffer own_;
  void* data_ = nullptr;
  bool cached_ = false;
};

}  // namespace convnd::detail
