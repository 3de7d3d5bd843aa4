// `autarky template --template FILE.jinja --messages FILE.json [--add-generation-prompt]
// [--bos S] [--eos S] [--tools FILE.json] [--var KEY=JSON]...`: prints a chat template's rendering.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "command.h"
#include "text/chat_template.h"

namespace autarky::cli {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::ordered_json read_json(const std::string& path) {
  try {
    return nlohmann::ordered_json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", path, e.what());
  }
}

struct TemplateArgs {
  std::string template_path;
  std::string messages_path;
  std::string tools_path;
  bool add_generation_prompt = false;
  std::string bos;
  std::string eos;
  std::vector<std::string> vars;
};

int run(const TemplateArgs& a) {
  ChatTemplateOptions options;
  options.add_generation_prompt = a.add_generation_prompt;
  options.bos_token = a.bos;
  options.eos_token = a.eos;
  if (!a.tools_path.empty()) options.tools = read_json(a.tools_path);
  for (const auto& var : a.vars) {
    auto eq = var.find('=');
    if (eq == std::string::npos) fail("--var {}: expected KEY=JSON", var);
    try {
      options.extra_context[var.substr(0, eq)] = nlohmann::ordered_json::parse(var.substr(eq + 1));
    } catch (const nlohmann::json::exception& e) {
      fail("--var {}: invalid JSON value: {}", var, e.what());
    }
  }
  const ChatTemplate tmpl = ChatTemplate::parse(read_file(a.template_path));
  const std::string out = tmpl.render(read_json(a.messages_path), options);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

const RegisterCommand kTemplate{
    "template", "Render a chat template (Jinja2) over a JSON list of messages", [](CLI::App& app) {
      auto a = std::make_shared<TemplateArgs>();
      app.add_option("--template", a->template_path, "Jinja2 chat template file")->required();
      app.add_option("--messages", a->messages_path, "JSON array of {role, content} messages")->required();
      app.add_flag("--add-generation-prompt", a->add_generation_prompt, "End with the assistant turn's opening");
      app.add_option("--bos", a->bos, "bos_token");
      app.add_option("--eos", a->eos, "eos_token");
      app.add_option("--tools", a->tools_path, "JSON array of tool schemas");
      app.add_option("--var", a->vars, "Extra template variable KEY=JSON (e.g. enable_thinking=false)");
      return [a] { return run(*a); };
    }};

}  // namespace
}  // namespace autarky::cli
