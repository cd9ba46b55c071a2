// Overflow-checked int64 arithmetic for shape computations. Every product of extents and every
// stride * extent goes through these, so a spec whose sizes do not fit in int64 is an Error with
// the argument named, never a wrapped value that later indexes out of bounds.
#pragma once

#include <limits>
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

// The non-throwing form, for Algorithm::reject() and the size estimates of planning: there a size
// that does not fit in int64 means "not this algorithm" (another one, or the reference, may still
// run the spec), not an error of the spec. Each operation saturates at the int64 limit in the
// direction of the true result, so a later comparison with a bound rejects it as well, and sets
// a flag that the caller tests once at the end:
//   Fits f;
//   const dim_t plane = f.mul(f.add(out, 2), stride);
//   if (!f || plane > kMax) return "plane too large";
class Fits {
 public:
  dim_t mul(dim_t a, dim_t b) {
    dim_t r;
    if (!__builtin_mul_overflow(a, b, &r)) return r;
    return saturate((a < 0) != (b < 0));
  }
  dim_t add(dim_t a, dim_t b) {
    dim_t r;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return saturate(a < 0);
  }
  dim_t sub(dim_t a, dim_t b) {
    dim_t r;
    if (!__builtin_sub_overflow(a, b, &r)) return r;
    return saturate(a < 0);
  }
  template <class Range>
  dim_t product(const Range& extents) {
    dim_t p = 1;
    for (dim_t e : extents) p = mul(p, e);
    return p;
  }
  // True while every operation so far had an exact result.
  explicit operator bool() const { return ok_; }

 private:
  dim_t saturate(bool negative) {
    ok_ = false;
    return negative ? std::numeric_limits<dim_t>::min() : std::numeric_limits<dim_t>::max();
  }
  bool ok_ = true;
};

}  // namespace convnd::detail
