// A run's workspace laid out by one bump allocator (runtime/carve.h): shared regions first
// (packed weights, a copy of the input), then one scratch slot per thread. The executor supplies
// two carve functions; the same calls size the workspace (workspace_bytes(), no memory) and lay
// it out in run(), so the size and the layout cannot disagree. Used by the GEMM middle-end
// (gemm_driver.h) and by direct_wgrad.cc.
#pragma once

#include <cstddef>
#include <cstdint>

#include "api/checked.h"
#include "runtime/carve.h"
#include "runtime/threads.h"

namespace convnd::detail {

class WorkspaceLayout {
 public:
  // Sizes `slots` slots; throws the overflow error (naming `what`) when a size does not fit.
  template <class Shared, class Slot>
  void size(Shared&& carve_shared, Slot&& carve_slot, int slots, const char* what = "workspace") {
    Carve shared, slot;
    carve_shared(shared);
    carve_slot(slot);
    if (!shared.ok() || !slot.ok()) throw_overflow(what);
    shared_bytes_ = shared.bytes();
    slot_bytes_ = slot.bytes();
    bytes_ = checked_size_add(
        shared_bytes_, checked_size_mul(static_cast<std::size_t>(slots), slot_bytes_, what), what);
  }

  // The size the same calls give, without an executor (for reject()): SIZE_MAX when it does
  // not fit in size_t.
  template <class Shared, class Slot>
  static std::size_t bytes_of(Shared&& carve_shared, Slot&& carve_slot, int slots) {
    Carve shared, slot;
    carve_shared(shared);
    carve_slot(slot);
    std::size_t all = 0, slots_bytes = 0;
    if (!shared.ok() || !slot.ok() ||
        __builtin_mul_overflow(static_cast<std::size_t>(slots), slot.bytes(), &slots_bytes) ||
        __builtin_add_overflow(shared.bytes(), slots_bytes, &all))
      return SIZE_MAX;
    return all;
  }
  std::size_t bytes() const { return bytes_; }

  // The shared regions and the calling thread's slot of a run's workspace.
  template <class Shared>
  auto shared(void* workspace, Shared&& carve_shared) const {
    Carve c(workspace);
    return carve_shared(c);
  }
  template <class Slot>
  auto slot(void* workspace, Slot&& carve_slot) const {
    Carve c(static_cast<char*>(workspace) + shared_bytes_ +
            static_cast<std::size_t>(thread_index()) * slot_bytes_);
    return carve_slot(c);
  }

 private:
  std::size_t shared_bytes_ = 0, slot_bytes_ = 0, bytes_ = 0;
};

}  // namespace convnd::detail
