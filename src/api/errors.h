// Error messages in one shape: "convnd: <argument>[, axis <i>]: <rule> (<numbers>)".
// Every validation failure names the argument, the spatial axis when there is one, and the rule
// that was broken, so a user can fix the call without reading the source.
#pragma once

#include <sstream>
#include <string>

#include "convnd/convnd.h"

namespace convnd::detail {

constexpr int kNoAxis = -1;

[[noreturn]] void fail(const std::string& argument, int axis, const std::string& rule,
                       Error::Kind kind = Error::Kind::value);

// Builds a rule text from streamable pieces: rule("must be >= 1 (got ", v, ")").
template <class... Parts>
std::string rule(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

}  // namespace convnd::detail
