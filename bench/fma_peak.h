#pragma once

namespace convnd::bench {

// This machine's float32 FMA peak in GFLOP/s with `threads` threads, measured by a short loop of
// independent register-resident FMAs on the widest vectors the CPU has (about 0.2 s).
double measure_fma_peak_gflops(int threads);

}  // namespace convnd::bench
