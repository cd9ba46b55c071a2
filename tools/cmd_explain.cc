// `convnd explain`: spec from flags -> resolved padding, output shape and the derivation.
// `convnd info`: what this build runs on this machine.
#include <iostream>
#include <memory>

#include "commands.h"
#include "onednn_peer.h"
#include "spec_flags.h"

namespace convnd::tool {

void add_explain_command(CLI::App& app) {
  auto flags = std::make_shared<SpecFlags>();
  CLI::App* cmd = app.add_subcommand("explain", "show how a convolution's output shape arises");
  flags->add_to(*cmd, true);
  flags->add_spec_option(*cmd);
  cmd->callback([flags] {
    const Spec spec = flags->to_spec(true);
    std::cout << "spec: " << spec.to_string() << "\n" << explain(spec);
  });
}

void add_info_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "info", "version, SIMD target, threads, the algorithms and the benchmark peer of this build");
  cmd->callback([] {
    std::cout << "convnd " << version() << "\nSIMD target: " << simd_target()
              << "\nthreads: " << default_threads()
              << " (what --threads 0 uses; set OMP_NUM_THREADS to change it)"
              << "\nalgorithms (best first):";
    for (const auto& a : algorithms()) std::cout << " " << a;
    std::cout << "\noneDNN peer for `convnd bench`: "
              << (bench::onednn_available() ? "built in, oneDNN " + bench::onednn_version()
                                            : std::string("not built in (no oneDNN found at "
                                                          "configure time)"))
              << "\n";
  });
}

}  // namespace convnd::tool
