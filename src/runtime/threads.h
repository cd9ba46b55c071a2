// The threading seam. Algorithms split work into a fixed list of independent tasks whose
// boundaries do not depend on the thread count, so every output element is computed by the same
// instruction sequence with 1 or 64 threads (bitwise-identical results).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>

namespace convnd::detail {

// Number of hardware threads OpenMP would use by default (>= 1).
int hardware_threads();

// Index of the calling thread inside a parallel_tasks region (0 outside one).
int thread_index();

// Resolves a requested count: 0 -> hardware_threads(), otherwise the request (>= 1).
int resolve_threads(int requested);

// Runs fn(task) for task in [0, tasks) on up to `threads` threads; each task runs exactly once.
// An exception (std::bad_alloc from a task's scratch vector) must not leave an OpenMP region,
// which would call std::terminate: the first one is kept, the tasks not yet started are skipped,
// and it is rethrown once the region has ended (found by the fault-injection test).
template <class Fn>
void parallel_tasks(std::int64_t tasks, int threads, Fn&& fn) {
#if defined(_OPENMP)
  if (threads > 1 && tasks > 1) {
    std::exception_ptr error;
    std::atomic<bool> failed{false};
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (std::int64_t t = 0; t < tasks; ++t) {
      if (failed.load(std::memory_order_relaxed)) continue;
      try {
        fn(t);
      } catch (...) {
#pragma omp critical(convnd_parallel_tasks_error)
        {
          if (!error) error = std::current_exception();
        }
        failed.store(true, std::memory_order_relaxed);
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  for (std::int64_t t = 0; t < tasks; ++t) fn(t);
}

}  // namespace convnd::detail
