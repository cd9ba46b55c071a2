// ConvTester: builds a Spec fluently, makes integer-valued inputs, runs a pass with a chosen
// algorithm and compares it with the reference. Used by every algorithm's test file.
//
//   ConvTester().input(2, 5, {7, 9, 4}).kernel(8, {3, 3, 2}).stride({2, 1, 1})
//       .padding(Padding::same(SamePolicy::tf)).test("implicit_gemm");
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tensor.h"

namespace convnd::testing {

struct PassResult {
  Tensor out;     // y, dx or dw
  Tensor dbias;   // backward_weights only, when the spec has a bias
  std::string algorithm;
};

// Absolute tolerance on integer-valued data a (*) b: 0 for the algorithms that only add products
// of integers (every direct one: exact below 2^24 in f32), and for Winograd, whose transforms
// multiply by fractions (1/4, 1/6, 21/4, ..), a bound relative to the largest possible sum of
// |products| (max|a| max|b| times the reduction length): 1e-4 in f32 (30x the largest error
// measured on random data), 1e-9 in f64.
inline double integer_data_tolerance(const std::string& algo, const Spec& s, Pass p,
                                     const Tensor& a, const Tensor& b) {
  const bool fft = algo == "fft";
  if (algo.rfind("winograd", 0) != 0 && !fft) return 0;
  double ma = 0, mb = 0;
  for (dim_t i = 0; i < a.size(); ++i) ma = std::max(ma, std::fabs(a.get(i)));
  for (dim_t i = 0; i < b.size(); ++i) mb = std::max(mb, std::fabs(b.get(i)));
  double n = 1;
  if (p == Pass::backward_weights) {
    n = static_cast<double>(s.N);
    for (dim_t o : (s.transposed ? s.input : output_extents(s))) n *= static_cast<double>(o);
  } else {
    n = static_cast<double>(s.transposed ? s.K / s.groups : s.C / s.groups);
    for (dim_t k : s.kernel) n *= static_cast<double>(k);
  }
  if (fft) {
    // Transforms round every output, integer data or not: the algorithm's stated bound
    // (src/algo/fft_conv.cc), u log2(L) sqrt(R k) per channel, with L, R <= the padded input.
    auto axis = [](const std::vector<dim_t>& v, std::size_t a) -> double {
      return v.empty() ? 1.0 : static_cast<double>(v.size() == 1 ? v[0] : v[a]);
    };
    double r = 1, k = 1;
    const auto ext = s.transposed ? s.input : output_extents(s);
    for (std::size_t a = 0; a < s.kernel.size(); ++a) {
      // R = (O-1) stride + (k-1) dil + 1 <= (O + k dil) stride
      r *= (static_cast<double>(ext[a]) + static_cast<double>(s.kernel[a]) * axis(s.dilation, a)) *
           axis(s.stride, a);
      k *= static_cast<double>(s.kernel[a]);
    }
    const double u = s.dtype == DType::f64 ? 0x1p-53 : 0x1p-24;
    return 4 * u * std::max(1.0, std::log2(2 * r)) * std::sqrt(r * k) * ma * mb *
           static_cast<double>(s.C / s.groups);
  }
  return (s.dtype == DType::f64 ? 1e-9 : 1e-4) * ma * mb * n;
}

// Shapes of a pass's inputs and output, from the spec.
struct PassShapes {
  std::vector<dim_t> a, b, out;
};
inline PassShapes pass_shapes(const Spec& s, Pass p) {
  const Shapes sh = shapes(s);
  switch (p) {
    case Pass::forward: return {sh.x, sh.w, sh.y};
    case Pass::backward_data: return {sh.y, sh.w, sh.x};
    case Pass::backward_weights: return {sh.x, sh.y, sh.w};
  }
  return {};
}

// Runs one pass. `a`, `b` as in PassShapes; bias used by forward when spec.bias.
// Whether `algo`, forced, accepts the problem (a plan can be made for it).
inline bool accepts(const Spec& s, Pass p, const std::string& algo) {
  PlanOptions o;
  o.algorithm = algo;
  try {
    Plan plan(s, p, o);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Runs pass p of a plan made for s.
inline PassResult run_plan(const Plan& plan, const Spec& s, Pass p, const Tensor& a,
                           const Tensor& b, const Tensor* bias, dim_t out_gap = 0) {
  PassResult r;
  r.algorithm = plan.algorithm();
  r.out = Tensor(s.dtype, pass_shapes(s, p).out, out_gap);
  r.out.fill(1e30);  // a value no correct result has: catches elements left unwritten
  switch (p) {
    case Pass::forward:
      plan.forward(a.view(), b.view(),
                   bias ? std::optional<ConstTensorView>(bias->view()) : std::nullopt,
                   r.out.view());
      break;
    case Pass::backward_data: plan.backward_data(a.view(), b.view(), r.out.view()); break;
    case Pass::backward_weights:
      if (s.bias) r.dbias = Tensor(s.dtype, {s.K});
      plan.backward_weights(a.view(), b.view(), r.out.view(),
                            s.bias ? std::optional<TensorView>(r.dbias.view()) : std::nullopt);
      break;
  }
  return r;
}

inline PassResult run_pass(const Spec& s, Pass p, const Tensor& a, const Tensor& b,
                           const Tensor* bias, const PlanOptions& opts, dim_t out_gap = 0) {
  const Plan plan(s, p, opts);
  return run_plan(plan, s, p, a, b, bias, out_gap);
}

// Runs the forward pass of s on `algorithm` with 1 and 2 threads, on fractional data (so that a
// changed summation order shows in the last bits), and expects bitwise equal outputs; returns the
// 1-thread run (its algorithm, output).
inline PassResult expect_threads_bitwise_equal(const Spec& s, const std::string& algorithm) {
  const PassShapes sh = pass_shapes(s, Pass::forward);
  Tensor x(s.dtype, sh.a), w(s.dtype, sh.b), bias(s.dtype, {s.K});
  x.fill_fractions(5);
  w.fill_fractions(6);
  bias.fill_fractions(7);
  PlanOptions one, two;
  one.algorithm = two.algorithm = algorithm;
  one.threads = 1;
  two.threads = 2;
  const Tensor* b = s.bias ? &bias : nullptr;
  PassResult r1 = run_pass(s, Pass::forward, x, w, b, one);
  EXPECT_TRUE(bitwise_equal(r1.out, run_pass(s, Pass::forward, x, w, b, two).out))
      << s.to_string() << " algo=" << algorithm << ": 1 vs 2 threads differ";
  return r1;
}

// A plan made with PlanOptions::constant_weights and run with the weights w1, w1, w2, w1 must
// give the reference result every time: cached packed weights are reused for the same pointer
// and repacked when the pointer changes. `tol` is 0 for the exact algorithms (integer data).
inline void expect_constant_weights_cached(const Spec& s, const std::string& algorithm,
                                           double tol = 0) {
  SCOPED_TRACE(s.to_string() + " algo=" + algorithm);
  const Shapes sh = shapes(s);
  Tensor x(s.dtype, sh.x), w1(s.dtype, sh.w), w2(s.dtype, sh.w);
  x.fill_integers(1);
  w1.fill_integers(2);
  w2.fill_integers(3);
  PlanOptions cached;
  cached.algorithm = algorithm;
  cached.constant_weights = true;
  PlanOptions ref;
  ref.algorithm = "reference";
  const Plan plan(s, Pass::forward, cached);
  for (const Tensor* w : {&w1, &w1, &w2, &w1}) {
    Tensor y(s.dtype, sh.y);
    plan.forward(x.view(), w->view(), std::nullopt, y.view());
    EXPECT_TRUE(all_near(y, run_pass(s, Pass::forward, x, *w, nullptr, ref).out, tol, tol,
                         "cached weights"));
  }
}

class ConvTester {
 public:
  ConvTester& input(dim_t N, dim_t C, std::vector<dim_t> spatial) {
    spec_.N = N;
    spec_.C = C;
    spec_.input = std::move(spatial);
    return *this;
  }
  ConvTester& kernel(dim_t K, std::vector<dim_t> extents) {
    spec_.K = K;
    spec_.kernel = std::move(extents);
    return *this;
  }
  ConvTester& groups(dim_t g) { spec_.groups = g; return *this; }
  ConvTester& stride(std::vector<dim_t> s) { spec_.stride = std::move(s); return *this; }
  ConvTester& dilation(std::vector<dim_t> d) { spec_.dilation = std::move(d); return *this; }
  ConvTester& padding(Padding p) { spec_.padding = std::move(p); return *this; }
  ConvTester& mode(PadMode m) { spec_.pad_mode = m; return *this; }
  ConvTester& layout(Layout l) { spec_.layout = l; return *this; }
  ConvTester& dtype(DType t) { spec_.dtype = t; return *this; }
  ConvTester& bias(bool b = true) { spec_.bias = b; return *this; }
  ConvTester& transposed(std::vector<dim_t> output_padding = {}) {
    spec_.transposed = true;
    spec_.output_padding = std::move(output_padding);
    return *this;
  }
  ConvTester& threads(int t) { threads_ = t; return *this; }
  ConvTester& strided_views(dim_t gap) { gap_ = gap; return *this; }
  ConvTester& seed(std::uint32_t s) { seed_ = s; return *this; }
  const Spec& spec() const { return spec_; }

  // Runs `pass` with `algorithm` and with the reference on the same integer data and compares.
  // f64 must match to rounding of exact integers; f32 within the reduction length times eps.
  void test(const std::string& algorithm, Pass pass) const {
    SCOPED_TRACE(spec_.to_string() + " pass=" + to_string(pass) + " algo=" + algorithm);
    const PassShapes sh = pass_shapes(spec_, pass);
    Tensor a(spec_.dtype, sh.a, gap_), b(spec_.dtype, sh.b, gap_), bias(spec_.dtype, {spec_.K});
    a.fill_integers(seed_);
    b.fill_integers(seed_ + 1);
    bias.fill_integers(seed_ + 2);
    PlanOptions fast;
    fast.algorithm = algorithm;
    fast.threads = threads_;
    PlanOptions ref;
    ref.algorithm = "reference";
    const Tensor* bp = spec_.bias ? &bias : nullptr;
    const PassResult got = run_pass(spec_, pass, a, b, bp, fast, gap_);
    const PassResult want = run_pass(spec_, pass, a, b, bp, ref);
    EXPECT_EQ(got.algorithm, algorithm);
    const double tol = spec_.dtype == DType::f64 ? 1e-9 : 1e-6 * reduction_length(pass) * 64;
    EXPECT_TRUE(all_near(got.out, want.out, tol, tol, "output"));
    if (pass == Pass::backward_weights && spec_.bias) {
      EXPECT_TRUE(all_near(got.dbias, want.dbias, tol, tol, "dbias"));
    }
  }

  void test(const std::string& algorithm, Pass first, Pass second) const {
    test(algorithm, first);
    test(algorithm, second);
  }
  void test(const std::string& algorithm, Pass first, Pass second, Pass third) const {
    test(algorithm, first);
    test(algorithm, second);
    test(algorithm, third);
  }

  void test_all_passes(const std::string& algorithm) const {
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) test(algorithm, p);
  }

 private:
  double reduction_length(Pass p) const {
    const double taps = static_cast<double>(numel(spec_.kernel));
    const double cg = static_cast<double>(spec_.C / spec_.groups);
    if (p == Pass::backward_weights)
      return static_cast<double>(spec_.N) * static_cast<double>(numel(output_extents(spec_)));
    return taps * cg + 1;
  }

  Spec spec_;
  int threads_ = 0;
  dim_t gap_ = 0;
  std::uint32_t seed_ = 1;
};

}  // namespace convnd::testing
