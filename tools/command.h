#pragma once
// Every `autarky SUBCOMMAND` lives in its own tools/cmd_*.cpp and registers itself here, so
// adding a subcommand touches no shared file.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace autarky::cli {

// Adds the subcommand's options to `app` and returns the function that runs it (exit code).
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

struct CommandSpec {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandSpec>& command_registry();

struct RegisterCommand {
  RegisterCommand(std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace autarky::cli
