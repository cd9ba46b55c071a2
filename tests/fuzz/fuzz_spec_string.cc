// libFuzzer target: the problem-string parser. Spec::parse must accept or throw convnd::Error;
// whatever it accepts must print a string that parses back to a spec printing the same string
// (parse(to_string(parse(s))) round-trips), and resolving that spec must succeed or throw Error.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "convnd/convnd.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  convnd::Spec s;
  try {
    s = convnd::Spec::parse(text);
  } catch (const convnd::Error&) {
    return 0;
  }
  const std::string printed = s.to_string();
  try {
    const std::string again = convnd::Spec::parse(printed).to_string();
    if (again != printed) {
      std::fprintf(stderr, "round trip changed '%s' into '%s'\n", printed.c_str(), again.c_str());
      std::abort();
    }
  } catch (const convnd::Error& e) {
    std::fprintf(stderr, "'%s' (printed by to_string) does not parse: %s\n", printed.c_str(),
                 e.what());
    std::abort();
  }
  try {
    const convnd::Shapes sh = convnd::shapes(s);
    (void)convnd::explain(s);
    if (sh.x.size() != static_cast<std::size_t>(s.rank() + 2)) std::abort();
  } catch (const convnd::Error&) {
  }
  return 0;
}
