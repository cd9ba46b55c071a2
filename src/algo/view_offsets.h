// Element offsets of a run of flat spatial positions in a strided view: what the pointwise
// executors (both layouts) store through when the output positions are not evenly spaced.
#pragma once

#include <algorithm>
#include <vector>

#include "convnd/convnd.h"

namespace convnd::detail {

// The element offsets, in a view with `strides` (N, C, then the spatial axes), of the np
// positions from flat position p0 of the spatial `extents` (offsets of in-bounds elements of a
// valid view: no overflow). Divides only where a row of the last axis starts, then steps by
// its stride: divisions per axis and position cost a few % of a transposed 2x2/2 layer
// (unet_t2x2s2, both layouts).
inline void view_offsets(dim_t p0, dim_t np, const std::vector<dim_t>& extents,
                         const std::vector<dim_t>& strides, dim_t* off) {
  const int d = static_cast<int>(extents.size());
  const dim_t row = d > 0 ? extents[d - 1] : 1, step = d > 0 ? strides[2 + d - 1] : 0;
  for (dim_t j = 0; j < np;) {
    dim_t p = p0 + j, o = 0;
    const dim_t len = std::min(np - j, row - p % row);
    for (int ax = d - 1; ax >= 0; --ax) {
      o += (p % extents[ax]) * strides[2 + ax];
      p /= extents[ax];
    }
    for (dim_t i = 0; i < len; ++i) off[j + i] = o + i * step;
    j += len;
  }
}

}  // namespace convnd::detail
