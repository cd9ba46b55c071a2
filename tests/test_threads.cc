// The thread pool of runtime/threads.h: every task of every phase runs exactly once, a phase
// starts only after the earlier ones have finished, thread_index() stays below the thread count,
// and nested or concurrent jobs (which run serially on their caller) still run every task; on
// the pool and on the OpenMP team alike.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "runtime/threads.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convnd::detail {
namespace {

// The job-level tests run twice: on the pool and on the OpenMP team (convnd::ThreadSource).
class Threads : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { set_use_openmp_team(GetParam()); }
  void TearDown() override { set_use_openmp_team(false); }
};

INSTANTIATE_TEST_SUITE_P(BothSources, Threads, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "OpenMPTeam" : "Pool"; });

TEST_P(Threads, EveryTaskOnceAndPhasesInOrder) {
  for (int threads : {1, 2, 3, 8}) {
    const std::int64_t n0 = 37, n1 = 0, n2 = 101, n3 = 5;
    std::vector<std::atomic<int>> runs(n0 + n1 + n2 + n3);
    std::atomic<std::int64_t> finished0{0}, finished2{0};
    std::atomic<bool> order_ok{true}, index_ok{true};
    parallel_phases({n0, n1, n2, n3}, threads, [&](int phase, std::int64_t task) {
      if (thread_index() < 0 || thread_index() >= std::max(threads, 1)) index_ok = false;
      const std::int64_t base = phase == 0 ? 0 : phase == 1 ? n0 : phase == 2 ? n0 + n1 : n0 + n1 + n2;
      runs[base + task].fetch_add(1);
      if (phase == 2 && finished0.load() != n0) order_ok = false;
      if (phase == 3 && finished2.load() != n2) order_ok = false;
      if (phase == 0) finished0.fetch_add(1);
      if (phase == 2) finished2.fetch_add(1);
    });
    for (const auto& r : runs) ASSERT_EQ(r.load(), 1) << "threads " << threads;
    EXPECT_TRUE(order_ok.load()) << "a phase started before the previous one finished";
    EXPECT_TRUE(index_ok.load()) << "thread_index() out of range";
  }
}

// Waits (up to a deadline) until a task has started on a thread other than the caller: task 0
// of a 2-task job. True when one did.
bool helper_joins_job() {
  std::atomic<bool> helper_ran{false};
  parallel_tasks(2, 2, [&](std::int64_t task) {
    if (thread_index() != 0) helper_ran = true;
    if (task != 0) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!helper_ran.load() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  });
  return helper_ran.load();
}

// A job asked for 2 threads runs on 2 even after OpenMP's count on the calling thread was
// lowered to 1, as `import torch` does on some machines: the pool and the executors' scratch are
// sized once, from the CPUs, not from that count. Task 0 waits until a task has started on
// another thread; with no helper (the old sizing) it would wait out its deadline and fail.
TEST_P(Threads, TwoThreadsWhateverOpenMPsCount) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one CPU";
#if defined(_OPENMP)
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
#endif
  EXPECT_GE(thread_slots(), 2);
  const bool helper_ran = helper_joins_job();
#if defined(_OPENMP)
  omp_set_num_threads(saved);
#endif
  EXPECT_TRUE(helper_ran) << "a 2-thread job ran on one thread";
}

TEST_P(Threads, NestedJobsRunSeriallyAndCompletely) {
  std::atomic<int> inner{0};
  parallel_tasks(8, 2, [&](std::int64_t) {
    parallel_tasks(10, 2, [&](std::int64_t) { inner.fetch_add(1); });
  });
  EXPECT_EQ(inner.load(), 80);
}

TEST_P(Threads, ConcurrentCallersEachRunAllTheirTasks) {
  std::vector<std::atomic<int>> counts(4);
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      for (int rep = 0; rep < 50; ++rep)
        parallel_tasks(64, 2, [&](std::int64_t) { counts[c].fetch_add(1); });
    });
  for (auto& t : callers) t.join();
  for (const auto& n : counts) EXPECT_EQ(n.load(), 50 * 64);
}

// Per-thread scratch indexed by thread_index() is never used by two threads at once.
TEST_P(Threads, ScratchSlotsAreNotShared) {
  const int threads = 2;
  std::vector<std::atomic<int>> busy(threads);
  std::atomic<bool> clash{false};
  parallel_tasks(2000, threads, [&](std::int64_t) {
    auto& b = busy[thread_index()];
    if (b.fetch_add(1) != 0) clash = true;
    b.fetch_sub(1);
  });
  EXPECT_FALSE(clash.load());
}

// Jobs back to back (the helpers still watching for the next one when it is posted), of one to
// a few tasks in up to three phases, each task still run once and the phases in order.
TEST_P(Threads, ManyShortJobsBackToBack) {
  for (int rep = 0; rep < 3000; ++rep) {
    const std::int64_t n0 = rep % 3, n1 = 1 + rep % 5, n2 = rep % 2;
    std::vector<std::atomic<int>> runs(n0 + n1 + n2);
    std::atomic<std::int64_t> finished0{0};
    std::atomic<bool> order_ok{true};
    parallel_phases({n0, n1, n2}, 2, [&](int phase, std::int64_t task) {
      const std::int64_t base = phase == 0 ? 0 : phase == 1 ? n0 : n0 + n1;
      runs[base + task].fetch_add(1);
      if (phase == 1 && finished0.load() != n0) order_ok = false;
      if (phase == 0) finished0.fetch_add(1);
    });
    for (const auto& r : runs) ASSERT_EQ(r.load(), 1) << "job " << rep;
    ASSERT_TRUE(order_ok.load()) << "job " << rep;
  }
}

// Helpers that stopped watching and went to sleep (the pool idle for longer than their watch)
// are woken by the next job, and by wake_helpers() before it; a nudge with no job after it
// leaves them to sleep again, and a job after that still finds them.
TEST_P(Threads, HelpersJoinAfterSleepingAndAfterAWakeWithoutJob) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one CPU";
  ASSERT_TRUE(helper_joins_job());  // the pool exists now
  for (int rep = 0; rep < 3; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(helper_joins_job()) << "a sleeping helper missed a job (rep " << rep << ")";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    wake_helpers(2);
    EXPECT_TRUE(helper_joins_job()) << "a nudged helper missed a job (rep " << rep << ")";
    wake_helpers(2);  // a nudge without a job: the helpers watch, then sleep again
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(helper_joins_job()) << "a helper missed a job after a nudge (rep " << rep << ")";
  }
  wake_helpers(1);  // one thread: nothing to wake, and no pool started for it
}

// Runs from several threads, each with a nudge before its job (as a Plan's run does), some
// jobs running serially on their caller while another holds the pool: every task runs once.
TEST_P(Threads, ConcurrentCallersWithNudges) {
  std::vector<std::atomic<int>> counts(3);
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&, c] {
      for (int rep = 0; rep < 200; ++rep) {
        wake_helpers(2);
        parallel_phases({3, 5}, 2, [&](int, std::int64_t) { counts[c].fetch_add(1); });
        if (rep % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  for (auto& t : callers) t.join();
  for (const auto& n : counts) EXPECT_EQ(n.load(), 200 * 8);
}

// Each thread claims from its own range of the tasks first, then takes what is left of the
// others': a helper stuck in a task of its range (here until every other task has finished)
// does not hold the rest of its range, which the caller runs.
TEST_P(Threads, ATaskStuckOnOneThreadLeavesItsRangeToTheOthers) {
  const std::int64_t n = 100;
  std::atomic<std::int64_t> finished{0};
  std::atomic<bool> timed_out{false}, helper_stuck{false};
  parallel_tasks(n, 2, [&](std::int64_t) {
    if (thread_index() != 0 && !helper_stuck.exchange(true)) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (finished.load() < n - 1 && !timed_out.load())
        if (std::chrono::steady_clock::now() > deadline) timed_out = true;
    }
    finished.fetch_add(1);
  });
  EXPECT_EQ(finished.load(), n);
  EXPECT_FALSE(timed_out.load()) << "the tasks of a busy thread's range waited for it";
}

// A child forked after the pool or a team started (Python's multiprocessing, dask) has no helpers: its
// jobs run serially, and completely, on the calling thread.
TEST_P(Threads, ForkedChildRunsJobsSerially) {
  std::atomic<int> n{0};
  parallel_tasks(16, 2, [&](std::int64_t) { n.fetch_add(1); });  // the pool exists now
  ASSERT_EQ(n.load(), 16);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::atomic<int> m{0};
    parallel_phases({100, 7}, 2, [&](int, std::int64_t) { m.fetch_add(1); });
    _exit(m.load() == 107 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace convnd::detail
