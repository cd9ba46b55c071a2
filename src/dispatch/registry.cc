#include "dispatch/registry.h"

#include <algorithm>
#include <cstdlib>

#include "algo/brgemm_direct.h"
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
namespace {

// The algorithms that take the forward sub-problem dispatch, made once each.
const Algorithm& bwd_data_phases() {
  static const auto a = make_bwd_data_phases(forward_sub_problems());
  return *a;
}
const Algorithm& bwd_weights_as_fwd() {
  static const auto a = make_bwd_weights_as_fwd(forward_sub_problems());
  return *a;
}
const Algorithm& direct_wgrad() {
  static const auto a = make_direct_wgrad(forward_sub_problems());
  return *a;
}

}  // namespace

const std::vector<const Algorithm*>& candidates(Op op) {
  static const std::vector<const Algorithm*> forward{
      &fft_algorithm(),  // named only for now (its pays() says why)
      &depthwise_algorithm(),     &pointwise_algorithm(),   &winograd_f6_algorithm(),
      &winograd_f4_algorithm(),   &winograd_f2_algorithm(), &brgemm_direct_algorithm(),
      &padded_igemm_algorithm(),  &implicit_gemm_algorithm(), &reference_algorithm(),
  };
  static const std::vector<const Algorithm*> backward_data{
      &depthwise_algorithm(),  // channels-first planes at stride > 1
      &depthwise_bwd_data_algorithm(),
      &bwd_data_phases(),
      &reference_algorithm(),
  };
  static const std::vector<const Algorithm*> backward_weights{
      &depthwise_weights_algorithm(),   &depthwise_algorithm(), &winograd_weights_f4_algorithm(),
      &winograd_weights_f2_algorithm(), &direct_wgrad(),        &bwd_weights_as_fwd(),
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

const Algorithm* find_algorithm(const std::string& name) {
  for (const Algorithm* a : candidates())
    if (name == a->name()) return a;
  return nullptr;
}

namespace {

// The pass as the public API names it (Pass and Op list the same three).
const char* op_name(Op op) {
  return to_string(op == Op::fwd        ? Pass::forward
                   : op == Op::bwd_data ? Pass::backward_data
                                        : Pass::backward_weights);
}

}  // namespace

Choice first_fit(const Geometry& g, Op op, const Algorithm* forced) {
  Choice choice;
  for (const Algorithm* a : candidates(op)) {
    if (forced && a != forced) continue;
    std::string why = a->reject(g, op);
    if (why.empty() && !forced) why = a->pays(g, op);
    if (why.empty()) {
      auto exec = a->make_executor(g, op);
      if (exec->workspace_bytes() <= g.workspace_limit) {
        choice.algorithm = a;
        choice.executor = std::move(exec);
        return choice;
      }
      why = rule("needs ", exec->workspace_bytes(), " bytes of workspace, over the limit of ",
                 g.workspace_limit);
    }
    choice.rejections.push_back(std::string(a->name()) + ": " + why);
  }
  return choice;
}

Choice choose(const Geometry& g, Op op, const std::string& forced_in) {
  std::string forced = forced_in;
  if (forced.empty())
    if (const char* env = std::getenv("CONVND_ALGO")) forced = env;
  const Algorithm* named = nullptr;
  if (!forced.empty()) {
    named = find_algorithm(forced);
    if (!named) {
      std::string names;
      for (const Algorithm* a : candidates())
        names += (names.empty() ? "" : ", ") + std::string(a->name());
      fail("algorithm", kNoAxis,
           rule("unknown algorithm '", forced, "' (this build has: ", names, ")"));
    }
    const auto& list = candidates(op);
    if (std::find(list.begin(), list.end(), named) == list.end()) {
      std::string pass_names;
      for (const Algorithm* a : list)
        pass_names += (pass_names.empty() ? "" : ", ") + std::string(a->name());
      fail("algorithm", kNoAxis,
           rule("'", forced, "' does not compute the ", op_name(op),
                " pass (these do: ", pass_names, ")"));
    }
  }
  Choice choice = first_fit(g, op, named);
  if (choice.algorithm) return choice;
  std::string all;
  for (const auto& r : choice.rejections) all += "; " + r;
  // A forced algorithm that cannot run is the caller's 'algorithm' choice, not a workspace
  // problem; blame the limit only when it is what turned every candidate away.
  if (named) fail("algorithm", kNoAxis, rule("'", forced, "' cannot run this problem", all));
  fail("workspace_limit", kNoAxis, rule("no algorithm accepts this problem", all));
}

namespace {

// Sub-problems go through the forward list as a plan would, so that a composed algorithm's
// parts run on what the forward pass of the same shape would run on.
class ForwardSubProblems final : public SubProblems {
 public:
  const Algorithm* first_accepting(const Geometry& sub, std::string& why) const override {
    for (const Algorithm* a : candidates(Op::fwd))
      if (a->reject(sub, Op::fwd).empty() && a->pays(sub, Op::fwd).empty()) return a;
    why = "no forward algorithm accepts the sub-problem";
    return nullptr;
  }

  // The first accepting algorithm whose workspace fits the sub-problem's limit, in one walk of
  // the list. Where only the reference fits but a faster algorithm accepted, the faster one is
  // returned even so: the composed plan is then over its limit and the plan moves on to run the
  // pass directly, which is faster than composing it of reference sub-problems.
  SubChoice first_fit(const Geometry& sub) const override {
    SubChoice first;
    for (const Algorithm* a : candidates(Op::fwd)) {
      if (!a->reject(sub, Op::fwd).empty() || !a->pays(sub, Op::fwd).empty()) continue;
      auto exec = a->make_executor(sub, Op::fwd);
      const bool fits = exec->workspace_bytes() <= sub.workspace_limit;
      if (fits && (a != &reference_algorithm() || !first.algorithm)) return {a, std::move(exec)};
      if (!first.algorithm) first = {a, std::move(exec)};
      if (fits) break;
    }
    return first;
  }
};

}  // namespace

const SubProblems& forward_sub_problems() {
  static const ForwardSubProblems instance;
  return instance;
}

}  // namespace convnd::detail
