// Dispatch counts what a call costs: without constant weights, every run transforms Winograd's
// weights again, so a layer where that transform outweighs the saved multiplies (few outputs per
// weight: r50_res4_3x3 at batch 1) runs a direct algorithm, while a constant-weights plan of the
// same layer keeps Winograd, and a layer with many outputs per weight keeps it either way.
#include <gtest/gtest.h>

#include <string>

#include "convnd/convnd.h"

namespace convnd {
namespace {

Spec layer(dim_t n, dim_t c, dim_t size) {
  Spec s;
  s.N = n;
  s.C = c;
  s.K = c;
  s.input = {size, size};
  s.kernel = {3, 3};
  s.padding = Padding::uniform(1);
  return s;
}

bool is_winograd(const Plan& p) { return p.algorithm().rfind("winograd", 0) == 0; }

TEST(DispatchCost, PerCallWeightTransformIsCounted) {
  PlanOptions constant;
  constant.constant_weights = true;
  for (dim_t c : {256, 512}) {
    const Spec s = layer(1, c, c == 256 ? 14 : 7);
    const Plan per_call(s, Pass::forward);
    EXPECT_FALSE(is_winograd(per_call)) << s.to_string() << ": " << per_call.algorithm();
    bool said_why = false;
    for (const auto& r : per_call.rejections())
      said_why = said_why || r.find("weights not constant") != std::string::npos;
    EXPECT_TRUE(said_why) << s.to_string() << ": the rejections should name the per-run transform";
    if (c == 256) {
      const Plan kept(s, Pass::forward, constant);
      EXPECT_TRUE(is_winograd(kept)) << s.to_string() << ": " << kept.algorithm();
    }
  }
  // Many outputs per weight: the transform is cheap against the saved multiplies.
  for (const Spec& s : {layer(1, 64, 56), layer(16, 128, 28)}) {
    EXPECT_TRUE(is_winograd(Plan(s, Pass::forward))) << s.to_string();
    EXPECT_TRUE(is_winograd(Plan(s, Pass::forward, constant))) << s.to_string();
  }
}

}  // namespace
}  // namespace convnd
