// Inputs the fuzz targets found, run through the fuzz targets' own code (tests/fuzz/*.h), so that
// the sanitizer build of CI fails on them as the fuzzer did; plus direct checks of what each
// input exposed, which fail without sanitizers too. The same inputs are in the fuzz corpus.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "algo/depthwise.h"
#include "algo/depthwise_bwd_data.h"
#include "algo/depthwise_weights.h"
#include "algo/implicit_gemm.h"
#include "algo/padded_igemm.h"
#include "algo/winograd_weights.h"
#include "dispatch/registry.h"
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
  EXPECT_NE(detail::find_algorithm("bwd_data_phases")->reject(g, Op::bwd_data), "");
}

// Input 3: the folding executor's padded gradient, 8388608 * 6 * 86 * 737354031824903 elements,
// wrapped into a small workspace (a heap overflow once run). It must be refused at planning.
TEST(FuzzRegressions, BwdDataPhasesRejectsAFoldingWorkspaceBeyondInt64) {
  const dim_t dil1 = 184338507956223;
  const Geometry g = geometry(8388608, 6, 6, {6, 11}, {6, 11}, {9, 5}, {1, 1}, {10, dil1},
                              {80, 4 * dil1}, {0, 0}, PadMode::replicate, DType::f64);
  EXPECT_NE(detail::find_algorithm("bwd_data_phases")->reject(g, Op::bwd_data), "");
}

// # The checked-arithmetic audit (issue 19, round two)
// Products in reject() that no resolved Spec reaches (its tensors' sizes fit in int64) but a
// geometry the algorithms are handed directly can: before the audit each was signed overflow,
// undefined behaviour that UBSan reports and a plain build may turn into an acceptance. Each must
// now be a reason to reject.

// depthwise_wgrad: taps (clamped to 4097) times a kernel extent of 2^61.
TEST(FuzzRegressions, DepthwiseWeightsRejectsTapsBeyondInt64) {
  const Geometry g = geometry(2, 4, 4, {8, 8}, {1, 1}, {4096, dim_t{1} << 61}, {1, 1}, {1, 1},
                              {0, 0}, {0, 0}, PadMode::zeros, DType::f32);
  EXPECT_NE(detail::depthwise_weights_algorithm().reject(g, Op::bwd_weights), "");
}

// depthwise_bwd_data: its per-axis lists compute o * stride - lo + t * dil; with a stride of
// 2^62 and three outputs, 2 * 2^62 did not fit.
TEST(FuzzRegressions, DepthwiseBwdDataRejectsAPaddedExtentBeyondInt64) {
  const Geometry g = geometry(1, 16, 16, {5}, {3}, {1}, {dim_t{1} << 62}, {1}, {0}, {0},
                              PadMode::zeros, DType::f32);
  EXPECT_NE(detail::depthwise_bwd_data_algorithm().reject(g, Op::bwd_data), "");
}

// fuzz_spec's timeout (issue 19): planning this transposed convolution listed depthwise_bwd_data's
// 3 x 2^20 (tap, output) pairs twice, 0.4-0.7 s in Release and 4.5 s under ASan. Planning now
// bounds the terms arithmetically and leaves the lists to the first run: microseconds.
TEST(FuzzRegressions, DepthwiseBwdDataPlansWithoutListingPairs) {
  const Spec s = Spec::parse("n8c1048576k1048576g1048576s1048576k3d1pvalid channels_last transposed");
  const auto t0 = std::chrono::steady_clock::now();
  const Plan p(s, Pass::forward);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(p.algorithm(), std::string("depthwise_bwd_data"));
  EXPECT_LT(seconds, 0.25);
}

// winograd_wgrad: Kg + 16 with K = 2^63 - 1 (its shape checks bound extents, not channels).
TEST(FuzzRegressions, WinogradWeightsRejectsChannelsNearInt64) {
  Geometry g = geometry(1, 1, 1, {5}, {3}, {3}, {1}, {1}, {0}, {0}, PadMode::zeros, DType::f32);
  g.K = kMax;
  EXPECT_NE(detail::winograd_weights_f2_algorithm().reject(g, Op::bwd_weights), "");
}

// implicit_gemm and padded_igemm: taps (65536 so far) times a kernel extent of 2^62.
TEST(FuzzRegressions, GemmAlgorithmsRejectTapsBeyondInt64) {
  const Geometry g = geometry(1, 1, 1, {1 << 16, 1}, {1, 1}, {1 << 16, dim_t{1} << 62}, {2, 2},
                              {1, 1}, {0, 0}, {0, dim_t{1} << 62}, PadMode::zeros, DType::f32);
  EXPECT_NE(detail::implicit_gemm_algorithm().reject(g, Op::fwd), "");
  EXPECT_NE(detail::padded_igemm_algorithm().reject(g, Op::fwd), "");
}

// Through the public API: specs at the edges of int64 (extents, strides, dilations, paddings and
// channel counts near 2^40..2^62), every pass, unforced and with every algorithm forced (dispatch
// alone stops at the first that accepts). Planning must succeed or throw convnd::Error; under the
// sanitizer build any overflow on the way is a report. Planning only: nothing is run.
TEST(FuzzRegressions, DegenerateSpecsPlanOrFailCleanly) {
  const dim_t p40 = dim_t{1} << 40, p46 = dim_t{1} << 46, p59 = dim_t{1} << 59;
  auto spec = [](dim_t C, dim_t K, dim_t groups, std::vector<dim_t> in, std::vector<dim_t> k,
                 std::vector<dim_t> stride, std::vector<dim_t> dil,
                 std::vector<std::pair<dim_t, dim_t>> pad, PadMode mode) {
    Spec s;
    s.C = C, s.K = K, s.groups = groups;
    s.input = in, s.kernel = k, s.stride = stride, s.dilation = dil;
    s.padding = Padding::lo_hi(pad);
    s.pad_mode = mode;
    return s;
  };
  std::vector<Spec> specs = {
      spec(1, 1, 1, {p40}, {3}, {dim_t{1} << 39}, {1}, {{0, 0}}, PadMode::zeros),
      spec(2, 2, 1, {1}, {2}, {1}, {p46}, {{p46 / 2, p46 / 2}}, PadMode::replicate),
      spec(4, 4, 4, {7, 7}, {3, 3}, {1, 1}, {p40, 1}, {{p40, p40}, {1, 1}}, PadMode::reflect),
      spec(1, 1, 1, {5}, {2}, {kMax}, {1}, {{kMax - 10, 0}}, PadMode::circular),
      spec(1, dim_t{1} << 57, 1, {5}, {3}, {1}, {1}, {{0, 0}}, PadMode::zeros),
      spec(16, 16, 16, {3, 3, 3}, {3, 3, 3}, {1, 1, 1}, {1 << 20, 1 << 20, 1 << 20},
           {{1 << 20, 1 << 20}}, PadMode::symmetric),
      spec(1, 1, 1, {1}, {dim_t{1} << 30}, {1}, {dim_t{1} << 32},
           {{dim_t{1} << 61, dim_t{1} << 61}}, PadMode::zeros),
  };
  Spec t = spec(1, 1, 1, {3}, {3}, {p59}, {1}, {{0, 0}}, PadMode::zeros);
  t.transposed = true;
  specs.push_back(t);
  Spec t2 = spec(2, 2, 2, {2, 2}, {2, 2}, {1 << 28, 1 << 28}, {1, 1}, {{0, 0}}, PadMode::zeros);
  t2.transposed = true;
  t2.dtype = DType::f64;
  specs.push_back(t2);

  std::vector<std::string> algorithms = {""};
  for (const detail::Algorithm* a : detail::candidates()) algorithms.push_back(a->name());
  int planned = 0, refused = 0;
  for (const Spec& s : specs)
    for (Pass pass : {Pass::forward, Pass::backward_data, Pass::backward_weights})
      for (const std::string& algo : algorithms) {
        SCOPED_TRACE(s.to_string() + " " + to_string(pass) + " " + algo);
        PlanOptions o;
        o.algorithm = algo;
        try {
          const Plan plan(s, pass, o);
          (void)plan.workspace_bytes();
          ++planned;
        } catch (const Error& e) {
          EXPECT_NE(e.kind(), Error::Kind::type) << e.what();
          ++refused;
        } catch (const std::exception& e) {
          ADD_FAILURE() << "an exception other than convnd::Error: " << e.what();
        }
      }
  // Some of them plan (the reference takes what it can), most are refused.
  EXPECT_GT(planned, 0);
  EXPECT_GT(refused, 0);
}

// The reference's backward-data plane of a transposed spec with a stride of 2^59: 2^60 + 3
// float32 positions fit, 8 bytes each (its double accumulators) do not. The size used to wrap
// silently in size_t arithmetic; now the plan is refused as out of memory at planning.
TEST(FuzzRegressions, ReferenceWorkspaceBeyondInt64IsOutOfMemory) {
  Spec s;
  s.input = {3};
  s.kernel = {3};
  s.stride = {dim_t{1} << 59};
  s.transposed = true;
  try {
    const Plan plan(s, Pass::forward);
    ADD_FAILURE() << "planned, with " << plan.workspace_bytes() << " bytes of workspace";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::memory) << e.what();
    EXPECT_NE(std::string(e.what()).find("workspace"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace convnd::testing
