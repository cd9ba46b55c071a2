// Inputs the fuzz targets found, run through the fuzz targets' own code (tests/fuzz/*.h), so that
// the sanitizer build of CI fails on them as the fuzzer did; plus direct checks of what each
// input exposed, which fail without sanitizers too. The same inputs are in the fuzz corpus.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "algo/depthwise.h"
#include "algo/via_forward.h"
#include "fuzz/spec_target.h"

namespace convnd::testing {
namespace {

std::vector<std::uint8_t> from_base64(const std::string& text) {
  const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<std::uint8_t> out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    const auto pos = digits.find(ch);
    if (pos == std::string::npos) continue;  // '=' padding
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

// Found by fuzz_spec (issue 19), in this order: signed overflow in depthwise's reject()
// (padded extent + stride: 1 + 9223372036854775807), in bwd_data_phases' phase planning (the
// sub-problem's high padding: 4611686018695823360 + 4611686018427387904), and in the folding
// executor's workspace size (4328521728 * 737354031824903 elements: a wrapped size would have
// under-allocated the workspace).
const char* const kSpecInputs[] = {
    "////////////PT2hPQAA//////////////////////////////////////8AAAIAAABbW1s9PT09PQAAAAABAAAAAAAhW6Jb"
    "W1s9PT09PaE9PT09vD0KAAAAAAD//////////z09oT0AAAAAewAAAFtbWz09PT09AAAAAAEAAAIAAABbW1s9PT09PQ==",
    "CgNGRkZGRkZGRkZGekZGRkZGs0ZGRlNGRkZGRkZG//9FRUVFRUVFRUVFRUVFRUVFRUVFRUVFRVNSU1M6IHZhbHVlIGlz"
    "IG5vdCBkZWZpbmVkU1NSU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTUydTU1NFRUZGRkZGAQBGRkZGRkZGRgBGRkYAU1"
    "NTU1NTU1NTU1JTU1NTU1NTU1NT2XM=",
    "YltbW/7///9bJP/vXugnp6enp6enp6enp6enp6enp6enp6eWp6f+/v7+/v7+/v7+/v7+/r7+/v7+9v7+/v7+/v7+/qenp5a"
    "np/7+/v7+/v7+/v7+/pGRkZGRkZGR/v6+/v7+/vb+/v7+/v7+/oYAAAAAAAAAp6enSP//UElQX0ZJTkRmTEn///+np6c=",
};

TEST(FuzzRegressions, SpecInputsThroughTheFuzzTarget) {
  for (const char* b64 : kSpecInputs) {
    const auto bytes = from_base64(b64);
    SCOPED_TRACE(b64);
    convnd::fuzz::spec_one_input(bytes.data(), bytes.size());
  }
}

// What each input exposed, checked on the algorithm directly: without the fixes these sums wrapped
// silently in a build without sanitizers, and the algorithms accepted the problems.
using detail::Geometry;
using detail::Op;
constexpr dim_t kMax = std::numeric_limits<dim_t>::max();

Geometry geometry(dim_t N, dim_t C, dim_t groups, std::vector<dim_t> in, std::vector<dim_t> out,
                  std::vector<dim_t> kernel, std::vector<dim_t> stride, std::vector<dim_t> dil,
                  std::vector<dim_t> lo, std::vector<dim_t> hi, PadMode mode, DType dtype) {
  Geometry g;
  g.N = N, g.C = C, g.K = C, g.groups = groups;
  g.in = in, g.out = out, g.kernel = kernel, g.stride = stride, g.dil = dil, g.lo = lo, g.hi = hi;
  g.mode = mode, g.dtype = dtype;
  return g;
}

// Input 1: padded extent 1 plus a stride of 2^63 - 1 wrapped to a negative plane size, which
// passed the "plane <= 2^22" test.
TEST(FuzzRegressions, DepthwiseRejectsAPlaneBeyondInt64) {
  for (Op op : {Op::fwd, Op::bwd_weights}) {
    const Geometry g = geometry(6, 2, 2, {5}, {1}, {1}, {kMax}, {1}, {0}, {0}, PadMode::zeros,
                                DType::f64);
    EXPECT_NE(detail::depthwise_algorithm().reject(g, op), "");
  }
}

// Input 2: a dilation of 2^60 and a low padding of 2^62 (reflect): the stride phase's high
// padding (2^62 + 2^28) + 2^62 wrapped, and the phase looked like a valid sub-problem.
TEST(FuzzRegressions, BwdDataPhasesRejectsSubProblemsBeyondInt64) {
  const dim_t dil = dim_t{1} << 60, lo = dim_t{1} << 62, hi = dim_t{1} << 28;
  const Geometry g = geometry(11, 2, 1, {1}, {hi + 1}, {5}, {1}, {dil}, {lo}, {hi},
                              PadMode::reflect, DType::f32);
  EXPECT_NE(detail::bwd_data_phases_algorithm().reject(g, Op::bwd_data), "");
}

// Input 3: the folding executor's padded gradient, 8388608 * 6 * 86 * 737354031824903 elements,
// wrapped into a small workspace (a heap overflow once run). It must be refused at planning.
TEST(FuzzRegressions, BwdDataPhasesRejectsAFoldingWorkspaceBeyondInt64) {
  const dim_t dil1 = 184338507956223;
  const Geometry g = geometry(8388608, 6, 6, {6, 11}, {6, 11}, {9, 5}, {1, 1}, {10, dil1},
                              {80, 4 * dil1}, {0, 0}, PadMode::replicate, DType::f64);
  EXPECT_NE(detail::bwd_data_phases_algorithm().reject(g, Op::bwd_data), "");
}

}  // namespace
}  // namespace convnd::testing
