// # Backward passes composed of forward convolutions
//
// Both gradients of a convolution are themselves convolutions; with views of arbitrary strides
// (negative ones included) they need no copies, only different index maps over the same memory.
// bwd_data_phases.cc and bwd_weights_as_fwd.cc build them; this file holds what they share.
//
// The sub-problems run on the forward algorithm dispatch chooses for them (SubProblems). When
// that would be only the reference (no fast forward path for them), these algorithms do not pay
// (pays()), so that unforced the reference runs the pass directly; forced by name, they compose
// the pass of reference sub-problems, which is how the tests check the decomposition itself.
#include "algo/composed.h"

namespace convnd::detail {

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

}  // namespace convnd::detail
