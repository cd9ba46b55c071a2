#include "api/errors.h"

#include "api/checked.h"

namespace convnd::detail {

void fail(const std::string& argument, int axis, const std::string& rule, Error::Kind kind) {
  std::string msg = "convnd: argument '";
  msg.append(argument).append("'");
  if (axis != kNoAxis) msg.append(", axis ").append(std::to_string(axis));
  msg.append(": ").append(rule);
  throw Error(msg, kind);
}

void throw_overflow(const std::string& what) {
  // The workspace is no argument of the call: a size of it that passes int64 is memory that no
  // machine has, so it is reported as such (MemoryError in Python), not as a bad value.
  if (what == "workspace")
    throw Error("convnd: out of memory: the workspace this problem needs passes 2^63 - 1 bytes",
                Error::Kind::memory);
  fail(what, kNoAxis, "size overflows int64 (the extents multiply to more than 2^63 - 1)");
}

}  // namespace convnd::detail
