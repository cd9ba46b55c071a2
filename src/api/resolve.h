// Validation and resolution of a Spec: per-axis values expanded to the rank, padding resolved to
// (lo, hi) pairs, output extents computed, every rule of the README's Semantics section checked
// with overflow-safe arithmetic. Everything downstream (geometry, plans, algorithms) starts from a Resolved.
#pragma once

#include <utility>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::detail {

struct Resolved {
  Spec spec;  // stride, dilation and output_padding expanded to one value per axis
  std::vector<std::pair<dim_t, dim_t>> pad;  // per axis
  std::vector<dim_t> out;                    // spatial extents of y
};

Resolved resolve(const Spec& spec);

// Effective kernel extent dil*(k-1)+1, overflow-checked.
dim_t effective_kernel(dim_t k, dim_t dil);

}  // namespace convnd::detail
