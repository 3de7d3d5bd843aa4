// The `autarky` command line: subcommands register themselves (tools/command.h); this file
// only parses, dispatches, and turns errors into a message and a non-zero exit.

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/error.h"
#include "base/log.h"
#include "command.h"

namespace autarky::cli {

std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

}  // namespace autarky::cli

int main(int argc, char** argv) {
  using namespace autarky;
  CLI::App app{"autarky: a self-sufficient LLM inference engine"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging on stderr");
  app.set_version_flag("--version", "autarky 0.1.0");

  auto& registry = cli::command_registry();
  std::sort(registry.begin(), registry.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<CLI::App*, std::function<int()>> runners;
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    runners[sub] = spec.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  init_logging(verbose ? LogLevel::kDebug : LogLevel::kInfo);
  try {
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 1;
}
