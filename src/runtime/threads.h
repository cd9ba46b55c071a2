// The threading seam. Algorithms split work into a fixed list of independent tasks whose
// boundaries do not depend on the thread count, so every output element is computed by the same
// instruction sequence with 1 or 64 threads (bitwise-identical results).
//
// # Threads that survive a busy machine
// A run is one job for a small pool of worker threads (threads.cc), not a string of OpenMP
// parallel regions: each region ends in a join that waits for every thread of the team to
// arrive, and on a machine where another process is busy the OS may have descheduled one of them
// for a whole time slice (a 3x3 layer took 3-4x as long beside one busy shell loop; the
// timings are in docs/measurements.md). Here the calling thread works on the job itself; helpers join when the OS
// lets them and take the next unclaimed task, phase after phase (say: pack the weights, copy the
// input, then the GEMM sweep): first from their own contiguous range of each phase's tasks, the
// same one run after run (so a task's data is in that core's cache from the last run), then what
// is left of the others' ranges. Before a task of phase p starts, every task of the earlier
// phases has *finished* — a wait only for tasks in flight, never for a thread that has not shown
// up — and the job is over when every task has finished, whoever ran it. A helper that never got
// a core costs nothing; the worst case is the single-threaded time. Between jobs the helpers
// watch for the next one for a short while (yielding the core), then sleep.
//
// # Or on the OpenMP team (convnd::ThreadSource::kOpenMP)
// In a process where another library runs OpenMP regions between convnd's runs (PyTorch), that
// library's threads busy-wait after each region and the pool's helpers would compete with them
// for the cores. There a job runs as one OpenMP region instead: the same tasks claimed from the
// same ranges, by the threads that are already spinning.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <type_traits>

namespace convnd::detail {

// Number of hardware threads to use by default (>= 1; OMP_NUM_THREADS is honoured): OpenMP's
// count for the calling thread, read at each call.
int hardware_threads();

// The most threads a job ever runs on, fixed at first use: the larger of OpenMP's count then and
// the CPUs this process may run on. The pool has thread_slots() - 1 helpers and executors size
// their per-thread scratch by it, so thread_index() < thread_slots() always. It does not follow
// hardware_threads(), which another library can lower on the calling thread at any time
// (importing torch calls omp_set_num_threads with its own count, 1 on some machines): a Plan
// asked for 2 threads must get 2 whatever that count was when it was made.
int thread_slots();

// Index of the calling thread inside a job: 0 for the thread that started it, 1.. for the
// helpers, always < the job's thread count (0 outside a job). Executors index per-thread
// scratch with it, so scratch is never shared between threads.
int thread_index();

// Resolves a requested count: 0 -> hardware_threads(), otherwise the request (>= 1).
int resolve_threads(int requested);

// Whether jobs run on the calling thread's OpenMP team instead of the pool (process-wide; see
// convnd::ThreadSource). Either way a job's tasks are claimed from the same shared counter.
void set_use_openmp_team(bool on);
bool use_openmp_team();

// A run on `threads` threads is about to begin: helpers asleep since an earlier run start
// watching for its job, so that their wake-up (tens of microseconds on a VM) overlaps the
// caller's validation and setup instead of the job. Free when they are awake already.
void wake_helpers(int threads);

constexpr int kMaxPhases = 4;

using PhaseTaskFn = void (*)(void* context, int phase, std::int64_t task);

// Runs fn(context, phase, task) once for every task of every phase (phase_tasks[p] tasks in phase
// p, at most kMaxPhases phases) on up to `threads` threads, phases in order as described above.
// Runs serially on the calling thread for threads <= 1, for a single task, and when the pool is
// already running a job (a nested call, or another thread's run).
void run_phases(const std::int64_t* phase_tasks, int phases, int threads, PhaseTaskFn fn,
                void* context);

// fn(phase, task) for each task of each phase.
template <class Fn>
void parallel_phases(std::initializer_list<std::int64_t> phase_tasks, int threads, Fn&& fn) {
  using F = std::remove_reference_t<Fn>;
  run_phases(
      phase_tasks.begin(), static_cast<int>(phase_tasks.size()), threads,
      [](void* f, int phase, std::int64_t task) { (*static_cast<F*>(f))(phase, task); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

// fn(task) for task in [0, tasks), each exactly once: a job of one phase.
template <class Fn>
void parallel_tasks(std::int64_t tasks, int threads, Fn&& fn) {
  parallel_phases({tasks}, threads, [&](int, std::int64_t task) { fn(task); });
}

}  // namespace convnd::detail
