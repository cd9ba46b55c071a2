#pragma once

#include "algo/algorithm.h"

namespace convnd::detail {

// Forward convolution as a GEMM over im2col panels packed on the fly (implicit_gemm.cc).
const Algorithm& implicit_gemm_algorithm();

}  // namespace convnd::detail
