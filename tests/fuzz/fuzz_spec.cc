// libFuzzer target (a): spec resolution and planning from raw bytes; the body is in
// spec_target.h, shared with the regression test of the inputs this target found.
#include "spec_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  convnd::fuzz::spec_one_input(data, size);
  return 0;
}
