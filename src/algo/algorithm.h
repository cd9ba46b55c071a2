// The interface between dispatch and the algorithms: an Algorithm accepts a problem or says why
// not, and makes an Executor that holds whatever it prepared once (tiling, packed constants).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "algo/problem.h"

namespace convnd::detail {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::size_t workspace_bytes() const = 0;
  // Runs the operation. `workspace` holds workspace_bytes() bytes, 64-byte aligned. The result
  // must not depend on `threads` (bitwise), and the executor must not keep pointers past return.
  virtual void run(const OpArgs& args, void* workspace, int threads) const = 0;
};

// The executor class template Exec<T> for the problem's dtype (float or double): the one place
// where an algorithm's make_executor() turns the run-time dtype into a compile-time type.
template <template <class> class Exec, class... Args>
std::unique_ptr<Executor> make_for_dtype(const Geometry& g, Args&&... args) {
  if (g.dtype == DType::f32) return std::make_unique<Exec<float>>(g, std::forward<Args>(args)...);
  return std::make_unique<Exec<double>>(g, std::forward<Args>(args)...);
}

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual const char* name() const = 0;
  // Empty when the algorithm handles the problem; otherwise the reason it does not.
  virtual std::string reject(const Geometry& g, Op op) const = 0;
  // Empty when the algorithm, accepting the problem, is also the one to choose unforced;
  // otherwise why not (e.g. measured slower than the next candidate here). Forcing an
  // algorithm by name skips this question.
  virtual std::string pays(const Geometry&, Op) const { return {}; }
  // Bound on max |result - exact| / max (sum of |products|) over the outputs, the error measure
  // of docs/winograd.md. Direct summation: the classic n * u for reductions of length n.
  virtual double error_bound(const Geometry& g, Op op) const;
  virtual std::unique_ptr<Executor> make_executor(const Geometry& g, Op op) const = 0;
};

}  // namespace convnd::detail
