#include "suite.h"

#include <nlohmann/json.hpp>

namespace convnd::bench {

std::vector<Case> parse_suite(const std::string& text, const std::string& origin) {
  std::vector<Case> cases;
  try {
    const auto doc = nlohmann::json::parse(text);
    for (const auto& c : doc.at("cases")) {
      Case k;
      k.name = c.at("name").get<std::string>();
      Spec& s = k.spec;
      s.N = c.at("N").get<dim_t>();
      s.C = c.at("C").get<dim_t>();
      s.K = c.at("K").get<dim_t>();
      s.groups = c.value("groups", dim_t{1});
      s.input = c.at("spatial").get<std::vector<dim_t>>();
      s.kernel = c.at("kernel").get<std::vector<dim_t>>();
      s.stride = c.value("stride", std::vector<dim_t>{});
      s.dilation = c.value("dilation", std::vector<dim_t>{});
      s.padding = Padding::per_axis(c.value("padding", std::vector<dim_t>{0}));
      s.transposed = c.value("transposed", false);
      for (const auto& p : c.value("passes", std::vector<std::string>{"fwd"}))
        k.passes.push_back(parse_pass(p));
      output_extents(s);  // validates
      cases.push_back(std::move(k));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("convnd: suite '" + origin + "': " + e.what());
  }
  return cases;
}

double pass_flops(const Spec& spec) {
  const auto out = output_extents(spec);
  // Forward-equivalent geometry: a transposed spec's work is that of the conv it transposes.
  const auto& big = spec.transposed ? spec.input : out;
  double f = 2.0 * static_cast<double>(spec.N) * static_cast<double>(spec.C) *
             static_cast<double>(spec.K) / static_cast<double>(spec.groups);
  for (dim_t e : big) f *= static_cast<double>(e);
  for (dim_t e : spec.kernel) f *= static_cast<double>(e);
  return f;
}

}  // namespace convnd::bench
