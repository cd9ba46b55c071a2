// convnd: the command-line face of the library. `convnd`, `convnd --help` and `convnd help`
// list the subcommands; `convnd help COMMAND` (or `convnd COMMAND --help`) shows one.
#include <iostream>

#include "commands.h"
#include "convnd/convnd.h"

namespace {

// `convnd help [COMMAND]`: CLI11 has --help only; a user who types `help` gets the same text
// and exit status 0.
// (App::help() would show the parsed `help` subcommand's own text, so the formatter is asked.)
int help(CLI::App& app, const std::string& topic) {
  if (topic.empty()) {
    std::cout << app.get_formatter()->make_help(&app, "convnd", CLI::AppFormatMode::Normal);
    return 0;
  }
  for (CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() == topic && topic != "help") {
      std::cout << sub->get_formatter()->make_help(sub, "convnd " + topic, CLI::AppFormatMode::Normal);
      return 0;
    }
  std::cerr << "convnd: argument 'COMMAND': no command named '" << topic
            << "' (run `convnd help` for the list)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"convnd: N-dimensional convolution on the CPU"};
  app.set_version_flag("--version", std::string("convnd ") + convnd::version());
  app.require_subcommand(0, 1);
  app.footer("Run `convnd help COMMAND` or `convnd COMMAND --help` for one command's flags; "
             "`convnd bench` times the benchmark suite.");
  convnd::tool::add_explain_command(app);
  convnd::tool::add_run_command(app);
  convnd::tool::add_info_command(app);
  convnd::tool::add_demo_command(app);
  convnd::tool::add_filter_command(app);
  convnd::tool::add_bench_command(app);
  std::string topic;
  CLI::App* help_cmd = app.add_subcommand("help", "show this help, or one command's: help COMMAND");
  help_cmd->add_option("COMMAND", topic, "the command to explain");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const convnd::Error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "convnd: out of memory\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "convnd: " << e.what() << "\n";
    return 2;
  }
  if (help_cmd->parsed()) return help(app, topic);
  // No command: the overview, not a 30 s benchmark nobody asked for.
  if (app.get_subcommands().empty()) return help(app, "");
  return 0;
}
