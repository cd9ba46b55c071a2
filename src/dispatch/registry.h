// Which algorithm runs a problem: an ordered candidate list per pass, best first. Each candidate
// accepts the problem or gives its reason; the first that accepts and fits the workspace limit
// wins. CONVND_ALGO=<name> in the environment (or PlanOptions::algorithm) forces one by name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "algo/algorithm.h"

namespace convnd::detail {

// All algorithms of this build, each once (for listing their names).
const std::vector<const Algorithm*>& candidates();

// The algorithms that compute pass `op`, best first; the reference is last and accepts every
// problem. A plan's rejections list only these.
const std::vector<const Algorithm*>& candidates(Op op);

struct Choice {
  const Algorithm* algorithm = nullptr;
  std::unique_ptr<Executor> executor;
  std::vector<std::string> rejections;  // "name: reason" for each better candidate passed over
};

// Throws Error when a forced name is unknown or nothing fits.
Choice choose(const Geometry& g, Op op, std::size_t workspace_limit, const std::string& forced);

}  // namespace convnd::detail
