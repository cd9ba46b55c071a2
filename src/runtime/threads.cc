#include "runtime/threads.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace convnd::detail {

int hardware_threads() {
#if defined(_OPENMP)
  const int n = omp_get_max_threads();
  return n > 0 ? n : 1;
#else
  return 1;
#endif
}

int thread_index() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}

int resolve_threads(int requested) { return requested > 0 ? requested : hardware_threads(); }

}  // namespace convnd::detail
