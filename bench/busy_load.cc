#include "busy_load.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace convnd::bench {

BusyLoad::BusyLoad(int processes, unsigned max_seconds) {
  for (int i = 0; i < processes; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      // The child of a multi-threaded process: async-signal-safe calls only, then spin.
#if defined(__linux__)
      prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
      alarm(max_seconds);
      volatile double x = 1.0;
      for (;;) x = x * 1.0000001 + 1e-9;
    }
    if (pid > 0) pids_.push_back(pid);
  }
  // Let the spinners reach the scheduler before anything is timed.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
}

BusyLoad::~BusyLoad() {
  for (pid_t pid : pids_) kill(pid, SIGKILL);
  for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
}

}  // namespace convnd::bench
