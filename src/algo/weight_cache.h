// Packed weights kept across runs for plans that promise constant weights
// (PlanOptions::constant_weights): packed on the first run into a buffer the executor owns, and
// packed again only when the weights' pointer or strides (or the packing layout) change.
// Without the promise the weights are packed into the run's workspace every time.
#pragma once

#include <mutex>
#include <vector>

#include "algo/problem.h"
#include "runtime/buffer.h"

namespace convnd::detail {

class PackedWeightsCache {
 public:
  // `pack(T* out)` writes the packed weights (`bytes` bytes); `layout` tells packings apart.
  template <class T, class Pack>
  const T* get(bool constant, const ConstTensorView& w, int layout, std::size_t bytes,
               T* workspace, Pack&& pack) const {
    if (!constant) {
      pack(workspace);
      return workspace;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (buffer_.size() == 0 || data_ != w.data || strides_ != w.strides || layout_ != layout) {
      // Invalidated first: a pack that throws (bad_alloc) must not leave half-packed weights
      // that a later run with the old weights would take for theirs.
      data_ = nullptr;
      buffer_.resize(bytes, "packed weights");
      pack(static_cast<T*>(buffer_.data()));
      data_ = w.data;
      strides_ = w.strides;
      layout_ = layout;
    }
    return static_cast<const T*>(buffer_.data());
  }

 private:
  mutable std::mutex mutex_;
  mutable AlignedBuffer buffer_;
  mutable const void* data_ = nullptr;
  mutable std::vector<dim_t> strides_;
  mutable int layout_ = 0;
};

}  // namespace convnd::detail
