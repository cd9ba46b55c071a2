#include "api/views.h"

#include <algorithm>
#include <cstdlib>

#include "api/checked.h"
#include "api/errors.h"

namespace convnd::detail {
namespace {

std::string axis_label(ViewRole role, Layout layout, int axis, int ndim) {
  const int d = ndim - 2;
  if (role == ViewRole::vector) return "channels";
  if (role == ViewRole::weight) {
    if (axis == 0) return "the output channels";
    if (axis == 1) return "the input channels per group";
    return "the kernel extent along spatial axis " + std::to_string(axis - 2);
  }
  if (axis == 0) return "the batch size N";
  if (layout == Layout::channels_first) {
    if (axis == 1) return "the channel count";
    return "the extent along spatial axis " + std::to_string(axis - 2);
  }
  if (axis == d + 1) return "the channel count";
  return "the extent along spatial axis " + std::to_string(axis - 1);
}

std::string shape_text(const std::vector<dim_t>& s) {
  std::string t = "(";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + ")";
}

struct Span {
  dim_t min_offset = 0, max_offset = 0;  // in elements, inclusive
  bool empty = false;
};

Span offsets(const ConstTensorView& v, const char* arg) {
  Span s;
  for (std::size_t a = 0; a < v.shape.size(); ++a) {
    if (v.shape[a] == 0) s.empty = true;
    if (v.shape[a] <= 1) continue;
    const dim_t reach = checked_mul(v.shape[a] - 1, v.strides[a], arg);
    (reach < 0 ? s.min_offset : s.max_offset) =
        checked_add(reach < 0 ? s.min_offset : s.max_offset, reach, arg);
  }
  return s;
}

// An output must not name one element twice (results would depend on write order). Sufficient
// test: with the axes sorted by |stride|, each stride exceeds the reach of all smaller ones. It
// accepts every dense layout in any axis order, and rejects only exotic interleavings.
void check_no_self_overlap(const ConstTensorView& v, const char* arg) {
  std::vector<int> axes;
  for (int a = 0; a < static_cast<int>(v.shape.size()); ++a)
    if (v.shape[a] > 1) axes.push_back(a);
  std::sort(axes.begin(), axes.end(),
            [&](int x, int y) { return std::abs(v.strides[x]) < std::abs(v.strides[y]); });
  dim_t reach = 0;
  for (int a : axes) {
    const dim_t st = std::abs(v.strides[a]);
    if (st == 0) fail(arg, a, "output view has stride 0 on an axis of extent > 1 (elements overlap)");
    if (st <= reach)
      fail(arg, a,
           rule("output view's elements may overlap: stride ", v.strides[a],
                " is not larger than the reach ", reach, " of the axes with smaller strides"));
    reach = checked_add(reach, checked_mul(st, v.shape[a] - 1, arg), arg);
  }
}

}  // namespace

ConstTensorView canonical_view(const ConstTensorView& v, const char* arg,
                               const std::vector<dim_t>& expected, DType dtype, ViewRole role,
                               Layout layout, bool is_output) {
  if (v.dtype != dtype)
    fail(arg, kNoAxis,
         rule("dtype ", to_string(v.dtype), " does not match the plan's dtype ", to_string(dtype),
              " (supported: float32, float64; all arguments share one dtype)"),
         Error::Kind::type);
  const int ndim = static_cast<int>(expected.size());
  if (static_cast<int>(v.shape.size()) != ndim)
    fail(arg, kNoAxis,
         rule("expected ", ndim, " dimensions ", shape_text(expected), ", got ", v.shape.size(),
              " ", shape_text(v.shape)));
  for (int a = 0; a < ndim; ++a)
    if (v.shape[a] != expected[a])
      fail(arg, a,
           rule("extent ", v.shape[a], " where ", axis_label(role, layout, a, ndim), " must be ",
                expected[a], " (expected shape ", shape_text(expected), ", got ",
                shape_text(v.shape), ")"));
  ConstTensorView c = v;
  if (c.strides.empty()) {
    c.strides.assign(ndim, 1);
    for (int a = ndim - 2; a >= 0; --a)
      c.strides[a] = checked_mul(c.strides[a + 1], std::max<dim_t>(v.shape[a + 1], 1), arg);
  } else if (static_cast<int>(c.strides.size()) != ndim) {
    fail(arg, kNoAxis, rule("has ", c.strides.size(), " strides for ", ndim, " dimensions"));
  }
  const Span span = offsets(c, arg);
  if (!span.empty && c.data == nullptr) fail(arg, kNoAxis, "data pointer is null");
  if (!span.empty && v.capacity_elems >= 0 &&
      (span.min_offset < 0 || span.max_offset >= v.capacity_elems))
    fail(arg, kNoAxis,
         rule("strides reach elements [", span.min_offset, ", ", span.max_offset,
              "] outside the buffer of ", v.capacity_elems, " elements"));
  if (is_output && !span.empty) check_no_self_overlap(c, arg);
  if (role == ViewRole::activation && layout == Layout::channels_last) {
    // (N, S.., C) -> (N, C, S..)
    std::rotate(c.shape.begin() + 1, c.shape.end() - 1, c.shape.end());
    std::rotate(c.strides.begin() + 1, c.strides.end() - 1, c.strides.end());
  }
  return c;
}

void check_disjoint(const ConstTensorView& out, const char* out_arg, const ConstTensorView& in,
                    const char* in_arg) {
  const Span so = offsets(out, out_arg), si = offsets(in, in_arg);
  if (so.empty || si.empty) return;
  const auto* ob = static_cast<const char*>(out.data);
  const auto* ib = static_cast<const char*>(in.data);
  const auto eo = static_cast<dim_t>(dtype_size(out.dtype));
  const auto ei = static_cast<dim_t>(dtype_size(in.dtype));
  const char* o_lo = ob + so.min_offset * eo;
  const char* o_hi = ob + (so.max_offset + 1) * eo;
  const char* i_lo = ib + si.min_offset * ei;
  const char* i_hi = ib + (si.max_offset + 1) * ei;
  if (std::less<const char*>()(o_lo, i_hi) && std::less<const char*>()(i_lo, o_hi))
    fail(out_arg, kNoAxis,
         rule("output memory overlaps the memory of input '", in_arg,
              "'; pass a separate buffer"));
}

}  // namespace convnd::detail
