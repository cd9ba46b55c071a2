// Overflow-checked int64 arithmetic for shape computations. Every product of extents and every
// stride * extent goes through these, so a spec whose sizes do not fit in int64 is an Error with
// the argument named, never a wrapped value that later indexes out of bounds.
#pragma once

#include <cstddef>
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

// Bytes of `elems` elements of `elem_bytes` each, rounded up to a multiple of 64 (every region of
// a workspace starts on a cache line). For the executors' workspace layouts: a size that passes
// int64 there means reject() let through a problem it should have refused, and running it on a
// wrapped size would under-allocate the workspace. With `what` = "workspace" an overflow is an
// out-of-memory Error (throw_overflow).
inline std::size_t checked_bytes64(dim_t elems, std::size_t elem_bytes, const char* what) {
  const dim_t bytes = checked_mul(elems, static_cast<dim_t>(elem_bytes), what);
  return static_cast<std::size_t>(checked_add(bytes, 63, what)) / 64 * 64;
}

// Sums and multiples of byte counts (workspace regions, per-thread slots), checked alike.
inline std::size_t checked_size_add(std::size_t a, std::size_t b, const char* what) {
  std::size_t r;
  if (__builtin_add_overflow(a, b, &r) ||
      r > static_cast<std::size_t>(std::numeric_limits<dim_t>::max()))
    throw_overflow(what);
  return r;
}
inline std::size_t checked_size_mul(std::size_t a, std::size_t b, const char* what) {
  std::size_t r;
  if (__builtin_mul_overflow(a, b, &r) ||
      r > static_cast<std::size_t>(std::numeric_limits<dim_t>::max()))
    throw_overflow(what);
  return r;
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
