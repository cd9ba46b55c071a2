#pragma once

#include <memory>

#include "algo/composed.h"

namespace convnd::detail {

// Backward data as forward convolutions, one per stride phase (see bwd_data_phases.cc), whose
// algorithms `forward` chooses.
std::unique_ptr<Algorithm> make_bwd_data_phases(const SubProblems& forward);

}  // namespace convnd::detail
