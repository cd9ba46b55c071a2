// convnd: the command-line face of the library. `convnd --help` lists the subcommands; with no
// subcommand it runs the main job: `convnd bench` on the embedded suite.
#include <iostream>

#include "commands.h"
#include "convnd/convnd.h"

int main(int argc, char** argv) {
  CLI::App app{"convnd: N-dimensional convolution on the CPU"};
  app.set_version_flag("--version", std::string("convnd ") + convnd::version());
  app.require_subcommand(0, 1);
  convnd::tool::add_explain_command(app);
  convnd::tool::add_run_command(app);
  convnd::tool::add_info_command(app);
  convnd::tool::add_demo_command(app);
  convnd::tool::add_filter_command(app);
  convnd::tool::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const convnd::Error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (app.get_subcommands().empty()) {
    try {
      return convnd::tool::run_bench_default();
    } catch (const convnd::Error& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
  }
  return 0;
}
