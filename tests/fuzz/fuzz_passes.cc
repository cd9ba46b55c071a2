// libFuzzer target (b): the three passes on tiny tensors with fuzzed specs and strided views
// that sit inside guarded buffers. Every algorithm that accepts the problem must match the
// reference exactly (integer-valued float64 data; Winograd, whose transforms use fractions, to
// 1e-9 of the largest possible sum), and must not touch the guard elements around and between
// the view's elements.
#include <cmath>
#include <cstdlib>
#include <vector>

#include "byte_reader.h"
#include "convnd/convnd.h"

using convnd::dim_t;

namespace {

constexpr double kGuard = -12345.0;  // never a result of integer data in [-8, 8] with tiny sizes

// A view over a buffer with `pad` guard elements on both sides and a gap of `gap` elements after
// each innermost row. Elements are filled with small integers; guards with kGuard.
struct Guarded {
  std::vector<double> buf;
  convnd::TensorView view;
  dim_t pad = 7;

  Guarded(const std::vector<dim_t>& shape, dim_t gap, std::uint32_t seed) {
    std::vector<dim_t> strides(shape.size(), 1);
    dim_t s = 1;
    for (int a = static_cast<int>(shape.size()) - 1; a >= 0; --a) {
      strides[a] = s;
      s *= shape[a] + (a == static_cast<int>(shape.size()) - 1 ? gap : 0);
    }
    buf.assign(static_cast<std::size_t>(s + 2 * pad), kGuard);
    view = convnd::TensorView(buf.data() + pad, convnd::DType::f64, shape, strides, s);
    for_each([&](dim_t off) {
      seed = seed * 1664525u + 1013904223u;
      buf[pad + off] = static_cast<double>(static_cast<int>((seed >> 8) % 17) - 8);
    });
  }

  template <class Fn>
  void for_each(Fn fn) const {
    const auto& sh = view.shape;
    dim_t total = 1;
    for (dim_t e : sh) total *= e;
    for (dim_t i = 0; i < total; ++i) {
      dim_t r = i, off = 0;
      for (int a = static_cast<int>(sh.size()) - 1; a >= 0; --a) {
        off += (r % sh[a]) * view.strides[a];
        r /= sh[a];
      }
      fn(off);
    }
  }

  // Values of the view's elements in logical order.
  std::vector<double> values() const {
    std::vector<double> v;
    for_each([&](dim_t off) { v.push_back(buf[pad + off]); });
    return v;
  }
  // Every element outside the view still holds the guard.
  bool guards_intact() const {
    std::vector<bool> inside(buf.size(), false);
    for_each([&](dim_t off) { inside[pad + off] = true; });
    for (std::size_t i = 0; i < buf.size(); ++i)
      if (!inside[i] && buf[i] != kGuard) return false;
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  convnd::fuzz::ByteReader in(data, size);
  convnd::Spec s;
  const int d = static_cast<int>(in.in_range(1, 3));
  s.groups = in.in_range(1, 3);
  s.N = in.in_range(0, 2);
  s.C = s.groups * in.in_range(1, 3);
  s.K = s.groups * in.in_range(1, 3);
  for (int a = 0; a < d; ++a) {
    s.input.push_back(in.in_range(1, 6));
    s.kernel.push_back(in.in_range(1, 4));
    s.stride.push_back(in.in_range(1, 4));
    s.dilation.push_back(in.in_range(1, 3));
  }
  std::vector<std::pair<dim_t, dim_t>> pads;
  for (int a = 0; a < d; ++a) pads.emplace_back(in.in_range(0, 5), in.in_range(0, 5));
  s.padding = in.byte() % 4 == 0 ? convnd::Padding::same(convnd::SamePolicy::tf)
                                 : convnd::Padding::lo_hi(pads);
  s.pad_mode = static_cast<convnd::PadMode>(in.byte() % 5);
  s.layout = in.byte() % 2 ? convnd::Layout::channels_last : convnd::Layout::channels_first;
  s.dtype = convnd::DType::f64;
  s.bias = in.byte() % 2;
  s.transposed = in.byte() % 3 == 0;
  if (s.transposed) {
    s.padding = convnd::Padding::lo_hi(pads);
    for (int a = 0; a < d; ++a)
      s.output_padding.push_back(in.in_range(0, std::max(s.stride[a], s.dilation[a]) - 1));
  }
  const auto pass = static_cast<convnd::Pass>(in.byte() % 3);
  const dim_t gap_a = in.in_range(0, 3), gap_out = in.in_range(0, 3);
  convnd::Shapes sh;
  try {
    sh = convnd::shapes(s);
  } catch (const convnd::Error&) {
    return 0;  // an invalid spec: the spec fuzzer covers those
  }
  const std::vector<dim_t>& a_shape = pass == convnd::Pass::backward_data ? sh.y : sh.x;
  const std::vector<dim_t>& b_shape = pass == convnd::Pass::backward_weights ? sh.y : sh.w;
  const std::vector<dim_t>& o_shape =
      pass == convnd::Pass::forward ? sh.y : (pass == convnd::Pass::backward_data ? sh.x : sh.w);
  const Guarded A(a_shape, gap_a, 1), B(b_shape, 0, 2), bias({s.K}, 0, 3);

  // The reference first: its result is what every other algorithm must reproduce.
  std::vector<std::string> algos{"reference"};
  for (const std::string& a : convnd::algorithms())
    if (a != "reference") algos.push_back(a);
  std::vector<double> want;
  for (const std::string& algo : algos) {
    convnd::PlanOptions o;
    o.algorithm = algo;
    o.threads = 1 + static_cast<int>(in.byte() % 2);
    std::optional<convnd::Plan> plan;
    try {
      plan.emplace(s, pass, o);
    } catch (const convnd::Error&) {
      continue;  // this algorithm rejects the problem
    }
    Guarded out(o_shape, gap_out, 4), dbias({s.K}, 0, 5);
    switch (pass) {
      case convnd::Pass::forward:
        plan->forward(A.view, B.view, s.bias ? std::optional<convnd::ConstTensorView>(bias.view)
                                             : std::nullopt,
                      out.view);
        break;
      case convnd::Pass::backward_data: plan->backward_data(A.view, B.view, out.view); break;
      case convnd::Pass::backward_weights:
        plan->backward_weights(A.view, B.view, out.view,
                               s.bias ? std::optional<convnd::TensorView>(dbias.view) : std::nullopt);
        break;
    }
    if (!out.guards_intact() || !dbias.guards_intact()) std::abort();
    const auto got = out.values();
    if (algo == "reference") {
      want = got;
    } else if (algo.rfind("winograd", 0) != 0 && algo != "fft") {
      if (got != want) std::abort();
    } else {
      // Winograd and FFT round even integer data. |a|, |b| <= 8 and at most numel(A)
      // products per sum.
      const double tol = 1e-9 * 64.0 * static_cast<double>(A.values().size() + 1);
      for (std::size_t i = 0; i < got.size(); ++i)
        if (!(std::fabs(got[i] - want[i]) <= tol)) std::abort();
    }
  }
  return 0;
}
