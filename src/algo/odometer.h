// The N-D index walk that the setup loops of the algorithms share: an index over a box of
// extents, advanced like an odometer (the last axis fastest, a carry into the one before).
#pragma once

namespace convnd::detail {

// Advances idx[0..axes) by one over the box extent[0..axes), last axis fastest. Returns false
// when it carried out of axis 0, that is, wrapped around to all zeros: the walk is done.
// Works on vectors, arrays and pointers alike (anything indexable).
template <class Index, class Extent>
inline bool next_index(Index& idx, const Extent& extent, int axes) {
  for (int a = axes - 1; a >= 0; --a) {
    if (++idx[a] < extent[a]) return true;
    idx[a] = 0;
  }
  return false;
}

// Every axis of a vector index.
template <class Vec>
inline bool next_index(Vec& idx, const Vec& extent) {
  return next_index(idx, extent, static_cast<int>(idx.size()));
}

}  // namespace convnd::detail
