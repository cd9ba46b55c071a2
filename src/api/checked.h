// Overflow-checked int64 arithmetic for shape computations. Every product of extents and every
// stride * extent goes through these, so a spec whose sizes do not fit in int64 is an Error with
// the argument named, never a wrapped value that later indexes out of bounds.
#pragma once

#include <string>

#include "convnd/convnd.h"

namespace convnd::detail {

[[noreturn]] void throw_overflow(const std::string& what);

inline dim_t checked_mul(dim_t a, dim_t b, const char* what) {
  dim_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw_overflow(what);
  return r;
}

inline dim_t checked_add(dim_t a, dim_t b, const char* what) {
  dim_t r;
  if (__builtin_add_overflow(a, b, &r)) throw_overflow(what);
  return r;
}

inline dim_t checked_sub(dim_t a, dim_t b, const char* what) {
  dim_t r;
  if (__builtin_sub_overflow(a, b, &r)) throw_overflow(what);
  return r;
}

template <class Range>
dim_t checked_product(const Range& extents, const char* what) {
  dim_t p = 1;
  for (dim_t e : extents) p = checked_mul(p, e, what);
  return p;
}

}  // namespace convnd::detail
