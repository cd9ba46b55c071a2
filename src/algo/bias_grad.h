#pragma once

#include "algo/problem.h"

namespace convnd::detail {

// dbias[k] = sum over n and space of dy[n, k, ...], accumulated in double in a fixed order.
// dy is canonical (N, K, spatial..); dbias has shape (K).
void bias_gradient(const ConstTensorView& dy, const TensorView& dbias);

}  // namespace convnd::detail
