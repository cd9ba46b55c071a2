// Resolved (lo, hi) padding and output extents per policy, checked against worked examples.
#include "conv_tester.h"

namespace convnd::testing {
namespace {

struct Row {
  dim_t in, k, stride, dil;
  Padding padding;
  std::pair<dim_t, dim_t> pad;
  dim_t out;
};

Spec spec_1d(const Row& r) {
  Spec s;
  s.input = {r.in};
  s.kernel = {r.k};
  s.stride = {r.stride};
  s.dilation = {r.dil};
  s.padding = r.padding;
  return s;
}

TEST(PaddingPolicies, Table) {
  using P = SamePolicy;
  const std::vector<Row> rows{
      // The table.
      {5, 3, 2, 1, Padding::same(P::numpy_ml), {3, 3}, 5},
      {5, 3, 2, 1, Padding::same(P::tf), {1, 1}, 3},
      {8, 3, 3, 1, Padding::same(P::numpy_ml), {8, 8}, 8},
      {8, 3, 3, 1, Padding::same(P::tf), {0, 1}, 3},
      {5, 4, 1, 1, Padding::same(P::torch), {1, 2}, 5},
      {5, 4, 1, 1, Padding::same(P::tf), {1, 2}, 5},
      {5, 4, 1, 1, Padding::same(P::numpy_ml), {1, 2}, 5},
      {5, 4, 1, 1, Padding::same(P::scipy), {2, 1}, 5},
      {5, 4, 1, 1, Padding::same(P::tf_lower), {2, 1}, 5},
      // Odd kernels split evenly under every policy at stride 1.
      {7, 3, 1, 1, Padding::same(P::scipy), {1, 1}, 7},
      {7, 3, 1, 2, Padding::same(P::torch), {2, 2}, 7},  // dilated: effective kernel 5
      // tf never pads negatively: stride larger than the kernel.
      {10, 2, 5, 1, Padding::same(P::tf), {0, 0}, 2},
      {10, 3, 4, 1, Padding::same(P::tf_lower), {1, 0}, 3},
      // valid, full, causal.
      {10, 3, 1, 1, Padding::valid(), {0, 0}, 8},
      {10, 3, 1, 1, Padding::full(), {2, 2}, 12},
      {10, 3, 1, 2, Padding::causal(), {4, 0}, 10},
      {10, 3, 2, 1, Padding::causal(), {2, 0}, 5},
      // Explicit, padding larger than the kernel, stride larger than the kernel.
      {4, 2, 1, 1, Padding::lo_hi({{5, 0}}), {5, 0}, 8},
      {11, 2, 5, 1, Padding::uniform(0), {0, 0}, 2},
  };
  for (const Row& r : rows) {
    const Spec s = spec_1d(r);
    SCOPED_TRACE(s.to_string());
    ASSERT_EQ(resolve_padding(s).size(), 1u);
    EXPECT_EQ(resolve_padding(s)[0], r.pad);
    EXPECT_EQ(output_extents(s)[0], r.out);
  }
}

// numpy_ml keeps out == in for every stride; tf gives ceil(in / stride). Checked for many sizes
// against those definitions, and the pads must never be negative.
TEST(PaddingPolicies, SameInvariants) {
  for (dim_t in = 1; in <= 17; ++in)
    for (dim_t k = 1; k <= 6; ++k)
      for (dim_t s = 1; s <= 4; ++s)
        for (dim_t d = 1; d <= 3; ++d) {
          Row r{in, k, s, d, Padding::same(SamePolicy::numpy_ml), {}, 0};
          Spec sp = spec_1d(r);
          EXPECT_EQ(output_extents(sp)[0], in) << sp.to_string();
          for (SamePolicy p : {SamePolicy::tf, SamePolicy::tf_lower}) {
            sp.padding = Padding::same(p);
            EXPECT_EQ(output_extents(sp)[0], (in + s - 1) / s) << sp.to_string();
            const auto [lo, hi] = resolve_padding(sp)[0];
            EXPECT_GE(lo, 0);
            EXPECT_GE(hi, 0);
            EXPECT_LE(std::abs(lo - hi), 1);
          }
          if (s == 1) {
            sp.padding = Padding::same(SamePolicy::torch);
            EXPECT_EQ(output_extents(sp)[0], in);
            sp.padding = Padding::same(SamePolicy::scipy);
            EXPECT_EQ(output_extents(sp)[0], in);
          }
        }
}

TEST(PaddingPolicies, ParseAndPrint) {
  EXPECT_EQ(Padding::parse("3").pairs, (std::vector<std::pair<dim_t, dim_t>>{{3, 3}}));
  EXPECT_EQ(Padding::parse("1,2").pairs, (std::vector<std::pair<dim_t, dim_t>>{{1, 1}, {2, 2}}));
  EXPECT_EQ(Padding::parse("1:2,0:1").pairs,
            (std::vector<std::pair<dim_t, dim_t>>{{1, 2}, {0, 1}}));
  EXPECT_EQ(Padding::parse("same:scipy").policy, SamePolicy::scipy);
  EXPECT_EQ(Padding::parse("valid").kind, Padding::Kind::valid);
  EXPECT_EQ(Padding::parse("1:2,0:1").to_string(), "1:2,0:1");
  EXPECT_THROW(Padding::parse("1;2"), Error);
  EXPECT_THROW(Padding::parse("same:nope"), Error);
}

TEST(PaddingPolicies, ModeSynonyms) {
  EXPECT_EQ(parse_pad_mode("edge"), PadMode::replicate);
  EXPECT_EQ(parse_pad_mode("nearest"), PadMode::replicate);
  EXPECT_EQ(parse_pad_mode("wrap"), PadMode::circular);
  EXPECT_EQ(parse_pad_mode("mirror"), PadMode::reflect);
  EXPECT_EQ(parse_pad_mode("constant"), PadMode::zeros);
  EXPECT_EQ(parse_pad_mode("symmetric"), PadMode::symmetric);
  EXPECT_THROW(parse_pad_mode("bogus"), Error);
}

TEST(TransposedShapes, Table) {
  struct T {
    dim_t in, k, stride, pad, dil, op, out;
  };
  for (const T& t : std::vector<T>{{4, 3, 2, 1, 1, 0, 7},
                                   {4, 3, 2, 1, 1, 1, 8},
                                   {8, 4, 2, 1, 1, 0, 16},  // DCGAN 4x4/2
                                   {64, 2, 2, 0, 1, 0, 128},
                                   {5, 3, 1, 0, 2, 1, 10},  // output_padding < dilation
                                   {3, 1, 3, 0, 1, 2, 9}}) {
    Spec s;
    s.input = {t.in};
    s.kernel = {t.k};
    s.stride = {t.stride};
    s.dilation = {t.dil};
    s.padding = Padding::uniform(t.pad);
    s.transposed = true;
    s.output_padding = {t.op};
    EXPECT_EQ(output_extents(s)[0], t.out) << s.to_string();
    // output_size solves for the same output padding.
    s.output_padding.clear();
    s.output_size = {t.out};
    EXPECT_EQ(resolve_output_padding(s)[0], t.op) << s.to_string();
  }
}

TEST(Explain, ShowsNumbers) {
  Spec s;
  s.N = 2;
  s.C = 3;
  s.K = 4;
  s.input = {5, 8};
  s.kernel = {3, 3};
  s.stride = {2, 3};
  s.padding = Padding::same(SamePolicy::numpy_ml);
  const std::string e = explain(s);
  EXPECT_NE(e.find("axis 0: S=5 k=3 stride=2 dil=1 pad=(3, 3)"), std::string::npos) << e;
  EXPECT_NE(e.find("floor((8 + 8 + 8 - 1*(3-1) - 1) / 3) + 1 = 8"), std::string::npos) << e;
  EXPECT_NE(e.find("y (2, 4, 5, 8)"), std::string::npos) << e;
}

}  // namespace
}  // namespace convnd::testing
