// # Backward passes composed of forward convolutions
//
// Both gradients of a convolution are themselves convolutions; with views of arbitrary strides
// (negative ones included) they need no copies, only different index maps over the same memory.
// bwd_data_phases.cc and bwd_weights_as_fwd.cc build them; this file holds what they share.
//
// The sub-problems run on the best forward algorithm that accepts them. When that is only the
// reference (no fast forward path for them), these algorithms reject the problem, so the
// reference runs the pass directly; CONVND_COMPOSE_WITH_REFERENCE=1 lifts that, which the tests
// use to check the decomposition itself on the reference.
#include "algo/composed.h"

#include <cstdlib>

#include "dispatch/registry.h"

namespace convnd::detail {
namespace {

bool compose_with_reference() {
  const char* env = std::getenv("CONVND_COMPOSE_WITH_REFERENCE");
  return env && env[0] == '1';
}

}  // namespace

ConstTensorView reshape(const ConstTensorView& v, dim_t offset_elems, std::vector<dim_t> shape,
                        std::vector<dim_t> strides) {
  const auto* base = static_cast<const char*>(v.data);
  return ConstTensorView(base + offset_elems * static_cast<dim_t>(dtype_size(v.dtype)), v.dtype,
                         std::move(shape), std::move(strides));
}

TensorView reshape(const TensorView& v, dim_t offset_elems, std::vector<dim_t> shape,
                   std::vector<dim_t> strides) {
  auto* base = static_cast<char*>(v.data);
  return TensorView(base + offset_elems * static_cast<dim_t>(dtype_size(v.dtype)), v.dtype,
                    std::move(shape), std::move(strides));
}

const Algorithm* forward_algorithm(const Geometry& sub, std::string& why) {
  for (const Algorithm* a : candidates(Op::fwd)) {
    if (!a->reject(sub, Op::fwd).empty() || !a->pays(sub, Op::fwd).empty()) continue;
    if (std::string(a->name()) == "reference" && !compose_with_reference()) {
      why = "no fast forward algorithm accepts the sub-problem";
      return nullptr;
    }
    return a;
  }
  why = "no forward algorithm accepts the sub-problem";
  return nullptr;
}

std::unique_ptr<Executor> forward_executor(const Geometry& sub) {
  std::string why;
  const Algorithm* a = forward_algorithm(sub, why);
  return a ? a->make_executor(sub, Op::fwd) : nullptr;
}

}  // namespace convnd::detail
