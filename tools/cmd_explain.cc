// `convnd explain`: spec from flags -> resolved padding, output shape and the derivation.
#include <iostream>
#include <memory>

#include "commands.h"
#include "spec_flags.h"

namespace convnd::tool {

void add_explain_command(CLI::App& app) {
  auto flags = std::make_shared<SpecFlags>();
  CLI::App* cmd = app.add_subcommand("explain", "show how a convolution's output shape arises");
  flags->add_to(*cmd, true);
  cmd->callback([flags] {
    const Spec spec = flags->to_spec();
    std::cout << "spec: " << spec.to_string() << "\n" << explain(spec);
  });
}

void add_info_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("info", "version and the algorithms of this build");
  cmd->callback([] {
    std::cout << "convnd " << version() << "\nalgorithms (best first):";
    for (const auto& a : algorithms()) std::cout << " " << a;
    std::cout << "\n";
  });
}

}  // namespace convnd::tool
