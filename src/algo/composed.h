// What the composed algorithms share: the views they re-stride and the forward algorithm that
// runs their sub-problems.
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

// The best forward algorithm for a sub-problem, or null with `why` set. Only asks reject():
// planning must stay cheap, so executors are made once, by make_executor.
const Algorithm* forward_algorithm(const Geometry& sub, std::string& why);
std::unique_ptr<Executor> forward_executor(const Geometry& sub);

}  // namespace convnd::detail
