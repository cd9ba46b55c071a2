// What the composed algorithms share: the views they re-stride, and the seam through which
// their forward sub-problems are dispatched.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "algo/algorithm.h"

namespace convnd::detail {

// A view shifted by `offset_elems` with a new shape and strides.
ConstTensorView reshape(const ConstTensorView& v, dim_t offset_elems, std::vector<dim_t> shape,
                        std::vector<dim_t> strides);
TensorView reshape(const TensorView& v, dim_t offset_elems, std::vector<dim_t> shape,
                   std::vector<dim_t> strides);

// A forward algorithm chosen for a sub-problem, with the executor made for it.
struct SubChoice {
  const Algorithm* algorithm = nullptr;
  std::unique_ptr<Executor> executor;
};

// How a composed algorithm's forward sub-problems find their algorithm. dispatch/ implements it
// (forward_sub_problems() in registry.cc) over the same forward list, pays() rules and
// workspace limit as a plan's own choice, and hands it to the composed algorithms when it makes
// them: the choice stays in one place, and algo/ needs no header of dispatch/.
class SubProblems {
 public:
  virtual ~SubProblems() = default;
  // The first forward algorithm that accepts `sub` and pays there, or null with `why` set. Asks
  // only reject() and pays(): reject() and pays() of a composed algorithm call it, and planning
  // must stay cheap, so no executor is made here.
  virtual const Algorithm* first_accepting(const Geometry& sub, std::string& why) const = 0;
  // The first forward algorithm that accepts `sub`, pays there and whose executor fits
  // sub.workspace_limit (see registry.cc for the case where none does). Null algorithm when
  // nothing accepts `sub`.
  virtual SubChoice first_fit(const Geometry& sub) const = 0;
};

// The workspace left to a sub-problem when its composed algorithm keeps `own_bytes` for itself.
inline std::size_t remaining_limit(std::size_t limit, std::size_t own_bytes) {
  return limit > own_bytes ? limit - own_bytes : 0;
}

}  // namespace convnd::detail
