#include "runtime/threads.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convnd::detail {
namespace {

thread_local int t_index = 0;

// A child forked from a process with helpers has none of them (and perhaps a mutex held by one
// at the fork): it runs every job serially.
std::atomic<bool> forked_child{false};

// Spins briefly, then yields the core, until counter >= value. About a microsecond of spinning
// covers a task finishing on a running core; past that the thread that holds it is likely
// descheduled, and this one gives its core away (perhaps to that very thread).
void wait_until(const std::atomic<std::int64_t>& counter, std::int64_t value) {
  for (int spin = 0; counter.load(std::memory_order_acquire) < value; ++spin) {
    if (spin < 64) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      sched_yield();
    }
  }
}

// One run's tasks. Immutable but for its counters; shared (by reference count) with every
// helper that picked it up, so a helper waking late reads a live object and finds no task left.
// fn and context point into the caller's frame: they are used only for a claimed task, and the
// caller does not return before every claimed task has finished.
//
// Each phase's tasks are cut into one contiguous range per thread (its "home"), and a thread
// claims from its own range first, then from the others' (at their front, as their owner
// does). With every task claimed from one shared counter the two threads took different
// tasks every run, and a task's data sat in the other core's cache from the run before:
// depthwise and grouped layers of 0.1-0.3 ms ran each task 2x slower on two threads than on
// one (docs/measurements.md). With home ranges a thread runs the same tasks run after run, as
// OpenMP's static schedule does, and a thread that never shows up still costs nothing: its
// range is taken by the others. Which thread runs a task never changes what the task computes.
struct Job {
  // A claim counter on a cache line of its own: its owner's claims stay in its cache.
  struct alignas(64) Range {
    std::atomic<std::int64_t> next{0};
    std::int64_t end = 0;
  };

  PhaseTaskFn fn = nullptr;
  void* context = nullptr;
  int threads = 1, phases = 0, homes = 1;
  std::array<std::int64_t, kMaxPhases + 1> begin{};  // first task index of each phase
  std::unique_ptr<Range[]> ranges;                   // [phase][home]
  alignas(64) std::array<std::atomic<std::int64_t>, kMaxPhases> done{};
  // The first exception a task threw (std::bad_alloc from a task's scratch, say): kept, the
  // tasks not yet started are skipped (but still counted, so no wait hangs), and the caller
  // rethrows it once every claimed task has finished: a failed run is an Error, not an abort.
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;

  // Cuts each phase into `homes` ranges (the thread count the job may run on).
  void plan_ranges(int home_count) {
    homes = std::max(home_count, 1);
    ranges = std::make_unique<Range[]>(static_cast<std::size_t>(phases * homes));
    for (int p = 0; p < phases; ++p) {
      // Range h starts at h * (n / homes) + min(h, n % homes): the first n % homes ranges
      // take one task more (no product that could overflow).
      const std::int64_t n = begin[p + 1] - begin[p], per = n / homes, extra = n % homes;
      auto start = [&](std::int64_t h) { return begin[p] + h * per + std::min(h, extra); };
      for (int h = 0; h < homes; ++h) {
        Range& r = ranges[static_cast<std::size_t>(p * homes + h)];
        r.next.store(start(h), std::memory_order_relaxed);
        r.end = start(h + 1);
      }
    }
  }

  // The calling thread (thread_index() `self`) runs tasks until none is left unclaimed.
  void work(int self) noexcept {
    const int home = self % homes;
    for (int q = 0; q < phases; ++q)
      for (int k = 0; k < homes; ++k) {
        Range& r = ranges[static_cast<std::size_t>(q * homes + (home + k) % homes)];
        while (r.next.load(std::memory_order_relaxed) < r.end) {
          const std::int64_t i = r.next.fetch_add(1, std::memory_order_relaxed);
          if (i >= r.end) break;
          run(q, i);
        }
      }
  }

  // Waits until every task has finished, whoever claimed it.
  void wait_all() const {
    for (int q = 0; q < phases; ++q) wait_until(done[q], begin[q + 1] - begin[q]);
  }

 private:
  void run(int q, std::int64_t i) noexcept {
    for (int e = 0; e < q; ++e) wait_until(done[e], begin[e + 1] - begin[e]);
    if (!failed.load(std::memory_order_relaxed)) {
      try {
        fn(context, q, i - begin[q]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
    done[q].fetch_add(1, std::memory_order_release);
  }
};

// Marks a forked child, whose copies of the pool's helpers and of the OpenMP runtime's threads
// did not survive the fork. Installed once, by whichever thread source is used first.
void watch_for_fork() {
  static const bool installed = [] {
    pthread_atfork(nullptr, nullptr, [] { forked_child.store(true); });
    return true;
  }();
  (void)installed;
}

// How long an idle helper watches for the next job before it sleeps. Jobs of a busy caller come
// microseconds apart (a layer after a layer, the timed runs of a benchmark), and a helper woken
// from its condition variable reached its first task ~20 us after the job was posted on a
// 2-vCPU VM with both cores free, while notifying it cost the caller ~10 us; a watching helper
// took 0.5 us (docs/measurements.md). On a 0.1 ms layer that was a fifth of the run. libgomp's
// threads spin ~0.3 ms after a region for the same reason. The watch yields the core every few
// microseconds, so that on a busy machine the spinning helper gives it to whoever is waiting
// for it (the caller's own thread first of all), and it ends after kWatch: an idle pool costs
// nothing for longer than that.
constexpr std::chrono::microseconds kWatch{200};

// A pause instruction: the spinning thread leaves the core's resources to its sibling.
inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// thread_slots() - 1 helpers, started on first use and never stopped (between jobs they watch
// for the next one for kWatch, then sleep on a condition variable; the pool is never destroyed,
// so no exit-order problems).
class Pool {
 public:
  static Pool& get() {
    static Pool* pool = [] {
      watch_for_fork();
      return new Pool(thread_slots() - 1);
    }();
    return *pool;
  }

  // False (nothing run) when another job holds the pool.
  bool run(const std::shared_ptr<Job>& job) {
    if (!usable() || busy_.exchange(true, std::memory_order_acquire)) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    // A watching helper sees the generation change; only a sleeping one needs the (costly)
    // notification. sleepers_ changes under mutex_, which orders it against the lines above.
    if (sleepers_.load(std::memory_order_relaxed) > 0) cv_.notify_all();
    const int saved = t_index;
    t_index = 0;
    job->work(0);
    job->wait_all();
    t_index = saved;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_.reset();
    }
    busy_.store(false, std::memory_order_release);
    return true;
  }

  // Sleeping helpers start watching for a job: called when a run begins, before the caller
  // prepares its job, so that the wake-up overlaps that work. Free when none sleeps.
  void wake() {
    if (!usable() || sleepers_.load(std::memory_order_relaxed) == 0) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++nudges_;
    }
    cv_.notify_all();
  }

 private:
  explicit Pool(int helpers) : helpers_(std::max(helpers, 0)) {
    for (int i = 1; i <= helpers_; ++i) std::thread([this, i] { loop(i); }).detach();
  }

  bool usable() const { return helpers_ > 0 && !forked_child.load(std::memory_order_relaxed); }

  // True once the generation moves past `seen` within kWatch, pausing between looks and
  // yielding the core every few microseconds.
  bool watch(std::uint64_t seen) const {
    const auto until = std::chrono::steady_clock::now() + kWatch;
    for (int look = 1;; ++look) {
      if (generation_.load(std::memory_order_acquire) != seen) return true;
      cpu_pause();
      if (look % 64 == 0) {
        if (std::chrono::steady_clock::now() >= until) return false;
        sched_yield();
      }
    }
  }

  void loop(int self) {
    t_index = self;
    std::uint64_t seen = 0;
    for (;;) {
      watch(seen);
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        // Asleep until a job is posted, or a run about to post one nudges (then watch again).
        const std::uint64_t nudges = nudges_;
        if (generation_.load(std::memory_order_relaxed) == seen) {
          ++sleepers_;
          cv_.wait(lock, [&] {
            return generation_.load(std::memory_order_relaxed) != seen || nudges_ != nudges;
          });
          --sleepers_;
        }
        seen = generation_.load(std::memory_order_relaxed);
        job = current_;
      }
      if (job && self < job->threads) job->work(self);
    }
  }

  const int helpers_;
  std::atomic<bool> busy_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  // Changed under mutex_; read without it by a watching helper and by run() and wake().
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::uint64_t nudges_ = 0;      // guarded by mutex_
  std::shared_ptr<Job> current_;  // guarded by mutex_
};

std::atomic<bool> openmp_team{false};

// The job on the calling thread's OpenMP team: every member claims tasks like a pool helper
// (member k is thread_index() k), and the region's end is the join. False (nothing run) inside
// an OpenMP region (a nested team would have one thread) and in a forked child (the OpenMP
// runtime's threads did not survive the fork).
bool run_on_openmp_team(Job& job) {
#if defined(_OPENMP)
  if (omp_in_parallel() || forked_child.load(std::memory_order_relaxed)) return false;
  const int saved = t_index;
  // The region's fork and join already order the job's writes and reads, but inside the OpenMP
  // runtime, which ThreadSanitizer does not see; these two handshakes (free, and redundant
  // otherwise) state the same order in atomics it does see.
  std::atomic<bool> published{false};
  published.store(true, std::memory_order_release);
#pragma omp parallel num_threads(std::min(job.threads, thread_slots()))
  {
    while (!published.load(std::memory_order_acquire)) {
    }
    t_index = omp_get_thread_num();
    job.work(t_index);
  }
  job.wait_all();
  t_index = saved;
  return true;
#else
  (void)job;
  return false;
#endif
}

}  // namespace

void set_use_openmp_team(bool on) {
  // A child of a process that only ever used OpenMP teams must be recognised too, without
  // starting the pool's helpers that such a process never uses.
  watch_for_fork();
  openmp_team.store(on, std::memory_order_relaxed);
}

bool use_openmp_team() { return openmp_team.load(std::memory_order_relaxed); }

int hardware_threads() {
#if defined(_OPENMP)
  const int n = omp_get_max_threads();
  return n > 0 ? n : 1;
#else
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
#endif
}

int thread_slots() {
  static const int slots = [] {
    int n = hardware_threads();
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) n = std::max(n, CPU_COUNT(&set));
    n = std::max(n, static_cast<int>(std::thread::hardware_concurrency()));
    // A bound on scratch: OMP_NUM_THREADS in the thousands must not multiply every workspace.
    return std::clamp(n, 1, 256);
  }();
  return slots;
}

int thread_index() { return t_index; }

void wake_helpers(int threads) {
  if (threads > 1 && !use_openmp_team()) Pool::get().wake();
}

int resolve_threads(int requested) { return requested > 0 ? requested : hardware_threads(); }

void run_phases(const std::int64_t* phase_tasks, int phases, int threads, PhaseTaskFn fn,
                void* context) {
  std::int64_t total = 0;
  for (int p = 0; p < phases; ++p) total += std::max<std::int64_t>(phase_tasks[p], 0);
  if (threads > 1 && total > 1 && phases <= kMaxPhases) {
    auto job = std::make_shared<Job>();
    job->fn = fn;
    job->context = context;
    job->threads = threads;
    job->phases = phases;
    for (int p = 0; p < phases; ++p)
      job->begin[p + 1] = job->begin[p] + std::max<std::int64_t>(phase_tasks[p], 0);
    job->plan_ranges(std::min(threads, thread_slots()));
    if (use_openmp_team() ? run_on_openmp_team(*job) : Pool::get().run(job)) {
      if (job->error) std::rethrow_exception(job->error);
      return;
    }
  }
  for (int p = 0; p < phases; ++p)
    for (std::int64_t i = 0; i < phase_tasks[p]; ++i) fn(context, p, i);
}

}  // namespace convnd::detail
