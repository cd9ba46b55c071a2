// The body of fuzz_spec (a): spec resolution from raw bytes. Ranks, extents, strides, dilations,
// paddings, modes, policies and transposed flags are decoded from the input; resolving, shaping,
// explaining and planning must either succeed with consistent results or throw convnd::Error.
// A crash, a sanitizer report or an inconsistent result (abort) is a bug.
//
// A header so that the gtest suite runs the same code on the regression inputs
// (tests/test_fuzz_regressions.cc): under the sanitizer build of CI they fail as the fuzzer did.
#pragma once

#include <cstdlib>

#include "byte_reader.h"
#include "convnd/convnd.h"

namespace convnd::fuzz {

// The spec that the bytes stand for; any bytes decode to some spec, mostly an invalid one.
inline convnd::Spec decode_spec(const std::uint8_t* data, std::size_t size) {
  using convnd::dim_t;
  convnd::fuzz::ByteReader in(data, size);
  convnd::Spec s;
  const int d = static_cast<int>(in.in_range(0, 6));
  s.N = in.extent();
  s.C = in.extent();
  s.K = in.extent();
  s.groups = in.extent();
  auto per_axis = [&](int count) {
    std::vector<dim_t> v;
    for (int a = 0; a < count; ++a) v.push_back(in.extent());
    return v;
  };
  s.input = per_axis(d);
  s.kernel = per_axis(static_cast<int>(in.byte() % 8 == 0 ? in.in_range(0, 6) : d));
  s.stride = per_axis(static_cast<int>(in.in_range(0, 2) == 2 ? d : in.in_range(0, 1)));
  s.dilation = per_axis(static_cast<int>(in.in_range(0, 2) == 2 ? d : in.in_range(0, 1)));
  switch (in.byte() % 6) {
    case 0: s.padding = convnd::Padding::valid(); break;
    case 1: s.padding = convnd::Padding::full(); break;
    case 2: s.padding = convnd::Padding::causal(); break;
    case 3: s.padding = convnd::Padding::same(static_cast<convnd::SamePolicy>(in.byte() % 5)); break;
    default: {
      std::vector<std::pair<dim_t, dim_t>> pairs;
      const int n = static_cast<int>(in.in_range(0, d + 1));
      for (int a = 0; a < n; ++a) pairs.emplace_back(in.extent(), in.extent());
      s.padding = convnd::Padding::lo_hi(pairs);
    }
  }
  s.pad_mode = static_cast<convnd::PadMode>(in.byte() % 5);
  s.layout = in.byte() % 2 ? convnd::Layout::channels_last : convnd::Layout::channels_first;
  s.dtype = in.byte() % 2 ? convnd::DType::f64 : convnd::DType::f32;
  s.transposed = in.byte() % 3 == 0;
  s.strict = in.byte() % 4 == 0;
  if (s.transposed) {
    if (in.byte() % 2)
      s.output_padding = per_axis(static_cast<int>(in.in_range(0, d)));
    else
      s.output_size = per_axis(static_cast<int>(in.in_range(0, d)));
  }
  return s;
}

inline void spec_one_input(const std::uint8_t* data, std::size_t size) {
  const convnd::Spec s = decode_spec(data, size);
  const int d = s.rank();
  try {
    const auto pads = convnd::resolve_padding(s);
    const auto out = convnd::output_extents(s);
    const auto sh = convnd::shapes(s);
    (void)convnd::explain(s);
    (void)s.to_string();
    // Consistency: every resolved pad >= 0, every output extent >= 1, shapes agree.
    if (static_cast<int>(pads.size()) != d || static_cast<int>(out.size()) != d) std::abort();
    for (int a = 0; a < d; ++a)
      if (pads[a].first < 0 || pads[a].second < 0 || out[a] < 1) std::abort();
    if (sh.y.size() != static_cast<std::size_t>(d + 2)) std::abort();
    // Planning must not allocate anything proportional to the (possibly huge) tensors.
    for (convnd::Pass p : {convnd::Pass::forward, convnd::Pass::backward_data,
                           convnd::Pass::backward_weights}) {
      convnd::PlanOptions o;
      o.workspace_limit = std::size_t{1} << 24;
      try {
        convnd::Plan plan(s, p, o);
        (void)plan.algorithm();
      } catch (const convnd::Error&) {
      }
    }
  } catch (const convnd::Error&) {
  }
}

}  // namespace convnd::fuzz
