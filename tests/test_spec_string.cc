// The problem string: Spec::parse reads back every field Spec::to_string prints, for valid specs
// (RandomSpecs) and for arbitrary field values (negative, huge, empty lists: what an invalid
// spec in an error message holds), and malformed strings get an Error naming the position.
#include <gtest/gtest.h>

#include <random>

#include "convnd/convnd.h"
#include "random_spec.h"

namespace convnd {
namespace {

// The fields the string encodes: padding pairs only for explicit padding, the policy only for
// 'same'.
void expect_same_encoded(const Spec& a, const Spec& b) {
  EXPECT_EQ(a.N, b.N);
  EXPECT_EQ(a.C, b.C);
  EXPECT_EQ(a.K, b.K);
  EXPECT_EQ(a.groups, b.groups);
  EXPECT_EQ(a.input, b.input);
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.stride, b.stride);
  EXPECT_EQ(a.dilation, b.dilation);
  EXPECT_EQ(a.padding.kind, b.padding.kind);
  if (a.padding.kind == Padding::Kind::explicit_pairs) {
    EXPECT_EQ(a.padding.pairs, b.padding.pairs);
  }
  if (a.padding.kind == Padding::Kind::same) {
    EXPECT_EQ(a.padding.policy, b.padding.policy);
  }
  EXPECT_EQ(a.pad_mode, b.pad_mode);
  EXPECT_EQ(a.layout, b.layout);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.bias, b.bias);
  EXPECT_EQ(a.transposed, b.transposed);
  EXPECT_EQ(a.output_padding, b.output_padding);
  EXPECT_EQ(a.output_size, b.output_size);
  EXPECT_EQ(a.strict, b.strict);
}

void expect_round_trip(const Spec& s) {
  const std::string text = s.to_string();
  SCOPED_TRACE(text);
  Spec back;
  ASSERT_NO_THROW(back = Spec::parse(text));
  expect_same_encoded(s, back);
  EXPECT_EQ(back.to_string(), text);
}

TEST(SpecString, RoundTripsRandomValidSpecs) {
  testing::RandomSpecs gen(2026);
  for (int i = 0; i < 3000; ++i) {
    Spec s = gen.next(i % 2 ? DType::f32 : DType::f64);
    if (s.transposed && i % 5 == 0) {
      s.output_size = output_extents(s);
      s.output_padding.clear();
    }
    expect_round_trip(s);
    // The string of a valid spec is a valid spec with the same shapes.
    const Spec back = Spec::parse(s.to_string());
    EXPECT_EQ(shapes(back).y, shapes(s).y) << s.to_string();
  }
}

// Every field at values no valid spec has: the string of an invalid spec (as errors print it)
// must read back too.
TEST(SpecString, RoundTripsArbitraryFieldValues) {
  std::mt19937_64 rng(7);
  auto value = [&]() -> dim_t {
    switch (rng() % 6) {
      case 0: return static_cast<dim_t>(rng());
      case 1: return INT64_MIN + static_cast<dim_t>(rng() % 3);
      case 2: return INT64_MAX - static_cast<dim_t>(rng() % 3);
      case 3: return -static_cast<dim_t>(rng() % 4);
      default: return static_cast<dim_t>(rng() % 20);
    }
  };
  auto values = [&](int max_count) {
    std::vector<dim_t> v(rng() % (max_count + 1));
    for (dim_t& e : v) e = value();
    return v;
  };
  for (int i = 0; i < 3000; ++i) {
    Spec s;
    s.N = value();
    s.C = value();
    s.K = value();
    s.groups = rng() % 3 ? 1 : value();
    s.input = values(5);
    s.kernel = values(5);
    s.stride = values(3);
    s.dilation = values(3);
    switch (rng() % 5) {
      case 0: s.padding = Padding::valid(); break;
      case 1: s.padding = Padding::full(); break;
      case 2: s.padding = Padding::causal(); break;
      case 3: s.padding = Padding::same(static_cast<SamePolicy>(rng() % 5)); break;
      default: {
        std::vector<std::pair<dim_t, dim_t>> pairs(rng() % 4);
        for (auto& p : pairs) p = {value(), rng() % 2 ? value() : p.first};
        s.padding = Padding::lo_hi(pairs);
      }
    }
    s.pad_mode = static_cast<PadMode>(rng() % 5);
    s.layout = rng() % 2 ? Layout::channels_last : Layout::channels_first;
    s.dtype = rng() % 2 ? DType::f64 : DType::f32;
    s.bias = rng() % 2;
    s.transposed = rng() % 2;
    s.output_padding = rng() % 3 ? std::vector<dim_t>{} : values(3);
    s.output_size = rng() % 3 ? std::vector<dim_t>{} : values(3);
    s.strict = rng() % 2;
    expect_round_trip(s);
  }
}

TEST(SpecString, HandWritten) {
  Spec s = Spec::parse("n1c64k64s56x56k3x3p1");
  EXPECT_EQ(s.N, 1);
  EXPECT_EQ(s.C, 64);
  EXPECT_EQ(s.K, 64);
  EXPECT_EQ(s.input, (std::vector<dim_t>{56, 56}));
  EXPECT_EQ(s.kernel, (std::vector<dim_t>{3, 3}));
  EXPECT_TRUE(s.stride.empty());
  EXPECT_EQ(s.padding.pairs, (std::vector<std::pair<dim_t, dim_t>>{{1, 1}}));
  EXPECT_EQ(s.dtype, DType::f32);

  s = Spec::parse("n2c4k8g2s9x7k3x2t2x1d1x2p1:2,0 mode=reflect channels_last f64 bias");
  EXPECT_EQ(s.groups, 2);
  EXPECT_EQ(s.stride, (std::vector<dim_t>{2, 1}));
  EXPECT_EQ(s.dilation, (std::vector<dim_t>{1, 2}));
  EXPECT_EQ(s.padding.pairs, (std::vector<std::pair<dim_t, dim_t>>{{1, 2}, {0, 0}}));
  EXPECT_EQ(s.pad_mode, PadMode::reflect);
  EXPECT_EQ(s.layout, Layout::channels_last);
  EXPECT_EQ(s.dtype, DType::f64);
  EXPECT_TRUE(s.bias);
  EXPECT_EQ(s.to_string(), "n2c4k8g2s9x7k3x2t2x1d1x2p1:2,0 mode=reflect channels_last f64 bias");

  s = Spec::parse("n16c256k128s8x8k4x4t2p1 transposed op=1x0");
  EXPECT_TRUE(s.transposed);
  EXPECT_EQ(s.output_padding, (std::vector<dim_t>{1, 0}));
  EXPECT_EQ(output_extents(s), (std::vector<dim_t>{17, 16}));

  s = Spec::parse("n1c1k1s5k3t2psame:numpy_ml strict");
  EXPECT_EQ(s.padding.kind, Padding::Kind::same);
  EXPECT_EQ(s.padding.policy, SamePolicy::numpy_ml);
  EXPECT_TRUE(s.strict);

  // Defaults spelled out, flags in another order, 'same' without a policy, synonyms of modes.
  s = Spec::parse("n1c1k1s5k3psame  f32 mode=wrap channels_first");
  EXPECT_EQ(s.padding.policy, SamePolicy::torch);
  EXPECT_EQ(s.pad_mode, PadMode::circular);
  EXPECT_EQ(s.to_string(), "n1c1k1s5k3psame:torch mode=circular");
  EXPECT_EQ(Spec::parse("n1c1k1s5k3pvalid").padding.kind, Padding::Kind::valid);
  EXPECT_EQ(Spec::parse("n1c1k1s5k3pfull").padding.kind, Padding::Kind::full);
  EXPECT_EQ(Spec::parse("n1c1k1s5k3pcausal").padding.kind, Padding::Kind::causal);
  EXPECT_EQ(Spec::parse("n1c1k1s5k3p-1:-2").padding.pairs,
            (std::vector<std::pair<dim_t, dim_t>>{{-1, -2}}));
  // An empty list and an empty padding are what an incomplete Spec prints.
  s = Spec::parse("n1c1k1skp");
  EXPECT_TRUE(s.input.empty());
  EXPECT_TRUE(s.padding.pairs.empty());
  EXPECT_EQ(Spec().to_string(), "n1c1k1skp0");
}

// The message names 'spec', the character position and what was expected there.
void expect_error(const std::string& text, const std::string& position,
                  const std::string& expected) {
  SCOPED_TRACE(text);
  try {
    Spec::parse(text);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("argument 'spec'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("at character " + position), std::string::npos) << msg;
    EXPECT_NE(msg.find(expected), std::string::npos) << msg;
  }
}

TEST(SpecString, MalformedStringsNameThePosition) {
  expect_error("", "0 (the end)", "expected 'n'");
  expect_error("c1k1s5k3p0", "0 ('c')", "expected 'n'");
  expect_error("n1k1s5k3p0", "2 ('k')", "expected 'c'");
  expect_error("nxc1k1s5k3p0", "1 ('x')", "the batch size");
  expect_error("n1c1k1s5", "8 (the end)", "expected 'k' and the kernel");
  expect_error("n1c1k1s5x", "9 (the end)", "the spatial input");
  expect_error("n1c1k1s5k3", "10 (the end)", "expected 'p'");
  expect_error("n1c1k1s5k3q0", "10 ('q')", "expected 'p'");
  expect_error("n99999999999999999999c1k1s5k3p0", "1 ('9')", "does not fit in a signed 64-bit");
  expect_error("n1c1k1s5k3p1:", "13 (the end)", "the high side");
  expect_error("n1c1k1s5k3p1,", "13 (the end)", "a padding");
  expect_error("n1c1k1s5k3p1x2", "12 ('x')", "expected ','");
  expect_error("n1c1k1s5k3psame:big", "16 ('b')", "'same' policy");
  expect_error("n1c1k1s5k3p0 mode=nope", "18 ('n')", "padding mode");
  expect_error("n1c1k1s5k3p0 bias bias", "18 ('b')", "repeats a flag");
  expect_error("n1c1k1s5k3p0 f64 f32", "17 ('f')", "repeats a flag");
  expect_error("n1c1k1s5k3p0 nhwc", "13 ('n')", "unknown flag 'nhwc'");
  expect_error("n1c1k1s5k3p0 op=", "16 (the end)", "ints joined by 'x'");
  expect_error("n1c1k1s5k3p0 op=1y", "17 ('y')", "ints joined by 'x'");
}

}  // namespace
}  // namespace convnd
