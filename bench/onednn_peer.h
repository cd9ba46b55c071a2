// The benchmark peer: oneDNN (libdnnl) timing the same convolution in the same process, with the
// memory formats it prefers (format_tag::any), at its best: for a forward pass the faster of its
// forward_inference and forward_training primitives, for a transposed convolution the faster of
// its deconvolution and its convolution backward-data primitives.
//
// Two ways of timing it, as convnd is timed beside it:
//   - constant weights (per_call = false): every reorder outside the timed region, as in
//     inference with weights reordered once;
//   - per call (per_call = true): the weights arrive in the plain (g)oi<spatial> order, new every
//     call (two buffers, alternated), and their reorder into the primitive's format is timed with
//     the primitive; for the weight gradient the reorder of the result back to the plain order is.
//     Activations stay in oneDNN's chosen formats either way (its best case).
// Built only when CMake finds oneDNN; onednn_available() says whether this build has it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "convnd/convnd.h"

namespace convnd::bench {

bool onednn_available();
std::string onednn_version();

// A prepared peer: run() performs one timed call (including the weight reorder per call), on the
// threads it was prepared for. `primitive` names the variant that won, `ms` its median.
struct PeerRun {
  std::function<void()> run;
  std::string primitive;
  double ms = 0;
};

// Prepares every variant oneDNN has for the problem, times each (median of `repeats` runs after
// a warm-up) and keeps the fastest; nothing when oneDNN is not in this build or supports none.
std::optional<PeerRun> onednn_best(const Spec& spec, Pass pass, int threads, int repeats,
                                   bool per_call);

// Median milliseconds of the fastest variant (onednn_best(...)->ms).
std::optional<double> onednn_time_ms(const Spec& spec, Pass pass, int threads, int repeats,
                                     bool per_call = false);

}  // namespace convnd::bench
