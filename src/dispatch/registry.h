// Which algorithm runs a problem: an ordered candidate list per pass, best first. Each candidate
// accepts the problem or gives its reason; the first that accepts, pays and fits the workspace
// limit wins. CONVND_ALGO=<name> in the environment (or PlanOptions::algorithm) forces one by
// name. The composed algorithms dispatch their forward sub-problems through the same rule
// (forward_sub_problems(), handed to them when this file makes them).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "algo/algorithm.h"
#include "algo/composed.h"

namespace convnd::detail {

// All algorithms of this build, each once (for listing their names).
const std::vector<const Algorithm*>& candidates();

// The algorithms that compute pass `op`, best first; the reference is last and accepts every
// problem. A plan's rejections list only these.
const std::vector<const Algorithm*>& candidates(Op op);

// The algorithm of this build named `name`, or null.
const Algorithm* find_algorithm(const std::string& name);

struct Choice {
  const Algorithm* algorithm = nullptr;
  std::unique_ptr<Executor> executor;
  std::vector<std::string> rejections;  // "name: reason" for each better candidate passed over
};

// The first algorithm of pass op's list that accepts g, pays there and whose executor fits
// g.workspace_limit; with `forced`, only that one is asked, and not whether it pays.
// choice.algorithm is null when none qualifies (the rejections say why).
Choice first_fit(const Geometry& g, Op op, const Algorithm* forced = nullptr);

// first_fit for a plan: `forced` names an algorithm (or is empty; then CONVND_ALGO may name
// one). Throws Error when the name is unknown, does not compute the pass, or nothing fits.
Choice choose(const Geometry& g, Op op, const std::string& forced);

// The forward sub-problem dispatch of the composed algorithms (algo/composed.h).
const SubProblems& forward_sub_problems();

}  // namespace convnd::detail
