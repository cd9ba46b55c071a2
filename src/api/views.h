// Checking the views a caller passes against the spec, and bringing them to canonical form
// (logical channels-first order, strides filled in) for the algorithms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::detail {

enum class ViewRole { activation, weight, vector };

// Throws Error (naming `arg` and the axis) on a dtype, rank, extent, stride or capacity problem.
// Activations given in channels-last order are permuted to (N, C, spatial..).
ConstTensorView canonical_view(const ConstTensorView& v, const char* arg,
                               const std::vector<dim_t>& expected, DType dtype, ViewRole role,
                               Layout layout, bool is_output);

// Throws when the memory an output may write intersects the memory an input may read.
void check_disjoint(const ConstTensorView& out, const char* out_arg, const ConstTensorView& in,
                    const char* in_arg);

// Mutable twin of a canonical view (the checks are the same; only the pointer type differs).
inline TensorView as_mutable(const ConstTensorView& v) {
  return TensorView(const_cast<void*>(v.data), v.dtype, v.shape, v.strides, v.capacity_elems);
}

}  // namespace convnd::detail
