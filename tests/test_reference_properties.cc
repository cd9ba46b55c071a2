// The reference checked against itself and an independent formulation:
//  - forward == an independent "pad explicitly, then correlate" implementation (1-D/2-D);
//  - adjoint identities <fwd(x,w), g> == <x, bwd_data(g,w)> == <w, bwd_weights(x,g)> on random
//    specs over ranks 1-4, both layouts, groups, dilation, every padding form and mode,
//    transposed included, and dbias == sum of g over N and space;
//  - transposed == backward_data of the matching forward spec;
//  - channels-last == permuted channels-first; strided views == contiguous copies.
#include "conv_tester.h"
#include "random_spec.h"

namespace convnd::testing {
namespace {

double dot(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double s = 0;
  for (dim_t i = 0; i < a.size(); ++i) s += a.get(i) * b.get(i);
  return s;
}

// Padding written as numpy.pad describes it: fold the index back repeatedly (not modular).
dim_t fold_index(dim_t i, dim_t S, PadMode mode) {
  switch (mode) {
    case PadMode::zeros: return (i < 0 || i >= S) ? -1 : i;
    case PadMode::replicate: return std::clamp<dim_t>(i, 0, S - 1);
    case PadMode::circular:
      while (i < 0) i += S;
      while (i >= S) i -= S;
      return i;
    case PadMode::reflect:
      if (S == 1) return 0;
      while (i < 0 || i >= S) i = i < 0 ? -i : 2 * (S - 1) - i;
      return i;
    case PadMode::symmetric:
      while (i < 0 || i >= S) i = i < 0 ? -i - 1 : 2 * S - 1 - i;
      return i;
  }
  return -1;
}

// Channels-first 2-D forward (1-D as H = 1): materialise the padded input, then correlate.
Tensor padded_then_correlate(const Spec& s, const Tensor& x, const Tensor& w, const Tensor* b) {
  const bool one_d = s.rank() == 1;
  const dim_t H = one_d ? 1 : s.input[0], W = s.input.back();
  const dim_t kh = one_d ? 1 : s.kernel[0], kw = s.kernel.back();
  const auto pads = resolve_padding(s);
  const auto ph = one_d ? std::pair<dim_t, dim_t>{0, 0} : pads[0];
  const auto pw = pads.back();
  const dim_t sh = one_d ? 1 : (s.stride.size() > 1 ? s.stride[0] : (s.stride.empty() ? 1 : s.stride[0]));
  const dim_t sw = s.stride.empty() ? 1 : s.stride.back();
  const dim_t dh = one_d ? 1 : (s.dilation.empty() ? 1 : s.dilation[0]);
  const dim_t dw = s.dilation.empty() ? 1 : s.dilation.back();
  const dim_t PH = H + ph.first + ph.second, PW = W + pw.first + pw.second;
  const auto out = output_extents(s);
  const dim_t OH = one_d ? 1 : out[0], OW = out.back();
  Tensor y(s.dtype, shapes(s).y);
  const dim_t Cg = s.C / s.groups, Kg = s.K / s.groups;
  std::vector<double> padded(PH * PW);
  for (dim_t n = 0; n < s.N; ++n)
    for (dim_t k = 0; k < s.K; ++k) {
      for (dim_t oh = 0; oh < OH; ++oh)
        for (dim_t ow = 0; ow < OW; ++ow) y.set(((n * s.K + k) * OH + oh) * OW + ow, b ? b->get(k) : 0);
      for (dim_t c = 0; c < Cg; ++c) {
        const dim_t ci = (k / Kg) * Cg + c;
        for (dim_t i = 0; i < PH; ++i)
          for (dim_t j = 0; j < PW; ++j) {
            const dim_t si = one_d ? 0 : fold_index(i - ph.first, H, s.pad_mode);
            const dim_t sj = fold_index(j - pw.first, W, s.pad_mode);
            padded[i * PW + j] = (si < 0 || sj < 0) ? 0 : x.get(((n * s.C + ci) * H + si) * W + sj);
          }
        for (dim_t oh = 0; oh < OH; ++oh)
          for (dim_t ow = 0; ow < OW; ++ow) {
            double acc = 0;
            for (dim_t a = 0; a < kh; ++a)
              for (dim_t bb = 0; bb < kw; ++bb)
                acc += padded[(oh * sh + a * dh) * PW + ow * sw + bb * dw] *
                       w.get(((k * Cg + c) * kh + a) * kw + bb);
            const dim_t yi = ((n * s.K + k) * OH + oh) * OW + ow;
            y.set(yi, y.get(yi) + acc);
          }
      }
    }
  return y;
}

TEST(ReferenceProperties, ForwardMatchesPadThenCorrelate) {
  RandomSpecs gen(7);
  int checked = 0;
  while (checked < 300) {
    Spec s = gen.next();
    if (s.rank() > 2 || s.transposed) continue;
    s.layout = Layout::channels_first;
    SCOPED_TRACE(s.to_string());
    const Shapes sh = shapes(s);
    Tensor x(s.dtype, sh.x), w(s.dtype, sh.w), b(s.dtype, sh.bias);
    x.fill_integers(checked);
    w.fill_integers(checked + 1000);
    b.fill_integers(checked + 2000);
    const Tensor* bp = s.bias ? &b : nullptr;
    const Tensor got = run_pass(s, Pass::forward, x, w, bp, {}).out;
    const Tensor want = padded_then_correlate(s, x, w, bp);
    ASSERT_TRUE(all_near(got, want, 0, 0, "forward"));
    ++checked;
  }
}

TEST(ReferenceProperties, AdjointIdentities) {
  RandomSpecs gen(11);
  for (int i = 0; i < 400; ++i) {
    const Spec s = gen.next();
    SCOPED_TRACE(s.to_string());
    const Shapes sh = shapes(s);
    Tensor x(s.dtype, sh.x), w(s.dtype, sh.w), g(s.dtype, sh.y);
    x.fill_integers(3 * i);
    w.fill_integers(3 * i + 1);
    g.fill_integers(3 * i + 2);
    Spec nobias = s;
    nobias.bias = false;
    const Tensor y = run_pass(nobias, Pass::forward, x, w, nullptr, {}).out;
    const Tensor dx = run_pass(s, Pass::backward_data, g, w, nullptr, {}).out;
    const PassResult dw = run_pass(s, Pass::backward_weights, x, g, nullptr, {});
    const double yg = dot(y, g), xdx = dot(x, dx), wdw = dot(w, dw.out);
    const double tol = 1e-12 * (1 + std::fabs(yg));
    EXPECT_NEAR(yg, xdx, tol);
    EXPECT_NEAR(yg, wdw, tol);
    if (s.bias) {
      // dbias[k] = sum of g over N and space, with g in the spec's layout.
      const int kaxis = s.layout == Layout::channels_first ? 1 : static_cast<int>(sh.y.size()) - 1;
      std::vector<double> want(s.K, 0.0);
      std::vector<dim_t> idx(sh.y.size());
      for (dim_t f = 0; f < g.size(); ++f) {
        dim_t r = f;
        for (int a = static_cast<int>(sh.y.size()) - 1; a >= 0; --a) {
          idx[a] = r % sh.y[a];
          r /= sh.y[a];
        }
        want[idx[kaxis]] += g.get(f);
      }
      for (dim_t k = 0; k < s.K; ++k) EXPECT_EQ(dw.dbias.get(k), want[k]) << k;
    }
  }
}

// A transposed spec == backward_data of the forward spec with the channels swapped whose input
// extents are the transposed output extents.
TEST(ReferenceProperties, TransposedIsBackwardDataOfForward) {
  RandomSpecs gen(23);
  int checked = 0;
  while (checked < 150) {
    Spec t = gen.next();
    if (!t.transposed) continue;
    t.bias = false;
    SCOPED_TRACE(t.to_string());
    Spec f = t;
    f.transposed = false;
    f.output_padding.clear();
    f.C = t.K;
    f.K = t.C;
    f.input = output_extents(t);
    // The forward conv from the transposed output gives at least t.input positions; with
    // output_padding >= stride it can give more. Compare on the matching case only.
    if (output_extents(f) != t.input) continue;
    const Shapes st = shapes(t);
    Tensor x(t.dtype, st.x), w(t.dtype, st.w);
    x.fill_integers(checked);
    w.fill_integers(checked + 99);
    const Tensor yt = run_pass(t, Pass::forward, x, w, nullptr, {}).out;
    const Tensor dxf = run_pass(f, Pass::backward_data, x, w, nullptr, {}).out;
    ASSERT_TRUE(all_near(yt, dxf, 0, 0, "transposed vs backward_data"));
    ++checked;
  }
}

// Channels-last: permuting x into (N, S.., C), running with Layout::channels_last, and permuting
// y back gives the channels-first result, for every pass.
TEST(ReferenceProperties, ChannelsLastEqualsChannelsFirst) {
  RandomSpecs gen(31);
  for (int i = 0; i < 150; ++i) {
    Spec cf = gen.next();
    cf.layout = Layout::channels_first;
    Spec cl = cf;
    cl.layout = Layout::channels_last;
    SCOPED_TRACE(cf.to_string());
    const Shapes shf = shapes(cf), shl = shapes(cl);
    // to_last: (N, C, S..) element order -> (N, S.., C) tensor.
    auto to_last = [](const Tensor& t, const std::vector<dim_t>& last_shape) {
      Tensor r(t.dtype(), last_shape);
      const auto& fs = t.shape();
      const dim_t C = fs[1], N = fs[0], sp = t.size() / (N * C);
      for (dim_t n = 0; n < N; ++n)
        for (dim_t c = 0; c < C; ++c)
          for (dim_t p = 0; p < sp; ++p) r.set((n * sp + p) * C + c, t.get((n * C + c) * sp + p));
      return r;
    };
    Tensor x(cf.dtype, shf.x), w(cf.dtype, shf.w), g(cf.dtype, shf.y), b(cf.dtype, shf.bias);
    x.fill_integers(i);
    w.fill_integers(i + 1);
    g.fill_integers(i + 2);
    b.fill_integers(i + 3);
    const Tensor xl = to_last(x, shl.x), gl = to_last(g, shl.y);
    const Tensor* bp = cf.bias ? &b : nullptr;
    EXPECT_TRUE(all_near(to_last(run_pass(cf, Pass::forward, x, w, bp, {}).out, shl.y),
                         run_pass(cl, Pass::forward, xl, w, bp, {}).out, 0, 0, "fwd"));
    EXPECT_TRUE(all_near(to_last(run_pass(cf, Pass::backward_data, g, w, nullptr, {}).out, shl.x),
                         run_pass(cl, Pass::backward_data, gl, w, nullptr, {}).out, 0, 0,
                         "bwd_data"));
    EXPECT_TRUE(all_near(run_pass(cf, Pass::backward_weights, x, g, nullptr, {}).out,
                         run_pass(cl, Pass::backward_weights, xl, gl, nullptr, {}).out, 0, 0,
                         "bwd_weights"));
  }
}

// Views with a gap after every row (non-contiguous) give the contiguous result, for all passes.
TEST(ReferenceProperties, StridedViewsEqualContiguous) {
  RandomSpecs gen(41);
  for (int i = 0; i < 100; ++i) {
    const Spec s = gen.next();
    SCOPED_TRACE(s.to_string());
    for (Pass p : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
      const PassShapes sh = pass_shapes(s, p);
      Tensor a(s.dtype, sh.a), b(s.dtype, sh.b), as(s.dtype, sh.a, 3), bs(s.dtype, sh.b, 2);
      Tensor bias(s.dtype, {s.K});
      a.fill_integers(i);
      b.fill_integers(i + 1);
      as.fill_integers(i);
      bs.fill_integers(i + 1);
      bias.fill_integers(i + 2);
      const Tensor* bp = s.bias ? &bias : nullptr;
      const auto want = run_pass(s, p, a, b, bp, {});
      const auto got = run_pass(s, p, as, bs, bp, {}, 5);
      EXPECT_TRUE(all_near(got.out, want.out, 0, 0, to_string(p)));
    }
  }
}

// float32 agrees with float64 within rounding on integer data.
TEST(ReferenceProperties, Float32MatchesFloat64) {
  RandomSpecs gen(53);
  for (int i = 0; i < 100; ++i) {
    Spec s64 = gen.next(DType::f64);
    Spec s32 = s64;
    s32.dtype = DType::f32;
    SCOPED_TRACE(s64.to_string());
    const Shapes sh = shapes(s64);
    Tensor x64(DType::f64, sh.x), w64(DType::f64, sh.w), x32(DType::f32, sh.x), w32(DType::f32, sh.w);
    Tensor b64(DType::f64, sh.bias), b32(DType::f32, sh.bias);
    for (Tensor* t : {&x64, &x32}) t->fill_integers(i);
    for (Tensor* t : {&w64, &w32}) t->fill_integers(i + 1);
    for (Tensor* t : {&b64, &b32}) t->fill_integers(i + 2);
    const auto y64 = run_pass(s64, Pass::forward, x64, w64, s64.bias ? &b64 : nullptr, {}).out;
    const auto y32 = run_pass(s32, Pass::forward, x32, w32, s32.bias ? &b32 : nullptr, {}).out;
    // Integer products and sums below 2^24 are exact in float too.
    EXPECT_TRUE(all_near(y32, y64, 0, 0, "f32 vs f64"));
  }
}

}  // namespace
}  // namespace convnd::testing
