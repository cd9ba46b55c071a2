// libFuzzer target: the .npy reader of `convnd run` and `convnd filter --kernel FILE.npy`.
// Headers, dtypes, shapes that overflow, truncated data: read_npy must return an array whose
// bytes match its shape and dtype, or throw convnd::Error. An accepted array must survive
// write_npy -> read_npy unchanged.
#include <cstdlib>
#include <sstream>
#include <string>

#include "npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  convnd::tool::NpyArray a;
  try {
    a = convnd::tool::read_npy(in, "fuzz.npy");
  } catch (const convnd::Error&) {
    return 0;
  }
  if (a.bytes.size() != static_cast<std::size_t>(a.size()) * convnd::dtype_size(a.dtype))
    std::abort();
  std::stringstream copy;
  convnd::tool::write_npy(copy, a);
  const convnd::tool::NpyArray b = convnd::tool::read_npy(copy, "copy.npy");
  if (b.dtype != a.dtype || b.shape != a.shape || b.bytes != a.bytes) std::abort();
  return 0;
}
