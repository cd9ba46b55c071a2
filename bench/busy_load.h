// Busy processes for `convnd bench --load N`: the machine as users meet it when something else
// runs beside the convolution (a compile, a data loader). Each process spins on arithmetic; they
// live as long as the BusyLoad (killed and reaped in its destructor), die with this process
// (PR_SET_PDEATHSIG on Linux) and end themselves after `max_seconds` in any case.
#pragma once

#include <sys/types.h>

#include <vector>

namespace convnd::bench {

class BusyLoad {
 public:
  BusyLoad(int processes, unsigned max_seconds = 300);
  ~BusyLoad();
  BusyLoad(const BusyLoad&) = delete;
  BusyLoad& operator=(const BusyLoad&) = delete;

 private:
  std::vector<pid_t> pids_;
};

}  // namespace convnd::bench
