#include "dispatch/registry.h"

#include <algorithm>
#include <cstdlib>

#include "algo/bwd_data_phases.h"
#include "algo/bwd_weights_as_fwd.h"
#include "algo/depthwise.h"
#include "algo/depthwise_bwd_data.h"
#include "algo/depthwise_weights.h"
#include "algo/direct_wgrad.h"
#include "algo/fft_conv.h"
#include "algo/implicit_gemm.h"
#include "algo/padded_igemm.h"
#include "algo/pointwise.h"
#include "algo/reference.h"
#include "algo/winograd.h"
#include "algo/winograd_weights.h"
#include "api/errors.h"

namespace convnd::detail {

const std::vector<const Algorithm*>& candidates(Op op) {
  static const std::vector<const Algorithm*> forward{
      &fft_algorithm(),  // named only for now (its pays() says why)
      &depthwise_algorithm(),
      &pointwise_algorithm(),
      &winograd_f6_algorithm(),
      &winograd_f4_algorithm(),
      &winograd_f2_algorithm(),
      &padded_igemm_algorithm(),
      &implicit_gemm_algorithm(),
      &reference_algorithm(),
  };
  static const std::vector<const Algorithm*> backward_data{
      &depthwise_algorithm(),  // channels-first planes at stride > 1
      &depthwise_bwd_data_algorithm(),
      &bwd_data_phases_algorithm(),
      &reference_algorithm(),
  };
  static const std::vector<const Algorithm*> backward_weights{
      &depthwise_weights_algorithm(),
      &depthwise_algorithm(),
      &winograd_weights_f4_algorithm(),
      &winograd_weights_f2_algorithm(),
      &direct_wgrad_algorithm(),
      &bwd_weights_as_fwd_algorithm(),
      &reference_algorithm(),
  };
  return op == Op::fwd ? forward : op == Op::bwd_data ? backward_data : backward_weights;
}

const std::vector<const Algorithm*>& candidates() {
  static const std::vector<const Algorithm*> all = [] {
    std::vector<const Algorithm*> list;
    for (Op op : {Op::fwd, Op::bwd_data, Op::bwd_weights})
      for (const Algorithm* a : candidates(op))
        if (std::find(list.begin(), list.end(), a) == list.end()) list.push_back(a);
    // The reference last, as in every pass's list.
    list.erase(std::find(list.begin(), list.end(), &reference_algorithm()));
    list.push_back(&reference_algorithm());
    return list;
  }();
  return all;
}

namespace {

// The pass as the public API names it (Pass and Op list the same three).
const char* op_name(Op op) {
  return to_string(op == Op::fwd ? Pass::forward
                                 : op == Op::bwd_data ? Pass::backward_data : Pass::backward_weights);
}

}  // namespace

Choice choose(const Geometry& g, Op op, std::size_t workspace_limit, const std::string& forced_in) {
  std::string forced = forced_in;
  if (forced.empty())
    if (const char* env = std::getenv("CONVND_ALGO")) forced = env;
  std::string names, pass_names;
  bool known = forced.empty(), in_pass = forced.empty();
  for (const Algorithm* a : candidates()) {
    names += (names.empty() ? "" : ", ") + std::string(a->name());
    if (a->name() == forced) known = true;
  }
  for (const Algorithm* a : candidates(op)) {
    pass_names += (pass_names.empty() ? "" : ", ") + std::string(a->name());
    if (a->name() == forced) in_pass = true;
  }
  if (!known)
    fail("algorithm", kNoAxis, rule("unknown algorithm '", forced, "' (this build has: ", names, ")"));
  if (!in_pass)
    fail("algorithm", kNoAxis,
         rule("'", forced, "' does not compute the ", op_name(op), " pass (these do: ", pass_names,
              ")"));

  Choice choice;
  for (const Algorithm* a : candidates(op)) {
    if (!forced.empty() && a->name() != forced) continue;
    std::string why = a->reject(g, op);
    if (why.empty() && forced.empty()) why = a->pays(g, op);
    if (why.empty()) {
      auto exec = a->make_executor(g, op);
      if (exec->workspace_bytes() <= workspace_limit) {
        choice.algorithm = a;
        choice.executor = std::move(exec);
        return choice;
      }
      why = rule("needs ", exec->workspace_bytes(), " bytes of workspace, over the limit of ",
                 workspace_limit);
    }
    choice.rejections.push_back(std::string(a->name()) + ": " + why);
  }
  std::string all;
  for (const auto& r : choice.rejections) all += "; " + r;
  // A forced algorithm that cannot run is the caller's 'algorithm' choice, not a workspace
  // problem; blame the limit only when it is what turned every candidate away.
  if (!forced.empty())
    fail("algorithm", kNoAxis, rule("'", forced, "' cannot run this problem", all));
  fail("workspace_limit", kNoAxis, rule("no algorithm accepts this problem", all));
}

}  // namespace convnd::detail
