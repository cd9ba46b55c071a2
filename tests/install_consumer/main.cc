#include <convnd/convnd.h>

#include <cstdio>

int main() {
  convnd::Spec s;
  s.input = {5};
  s.kernel = {3};
  s.padding = convnd::Padding::same();
  std::printf("%s", convnd::explain(s).c_str());
  return convnd::output_extents(s)[0] == 5 ? 0 : 1;
}
