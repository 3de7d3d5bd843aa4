// `autarky template` prints the rendering of a golden template and fails with the template's own
// message when it raises.

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "test_support.h"

namespace autarky {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TemplateCli, RendersGoldenConversation) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto dir = test::golden_dir() / "chat";
  const auto expected = nlohmann::ordered_json::parse(read_text(dir / "expected.json"));
  test::TempDir tmp;
  {
    std::ofstream out(tmp / "messages.json");
    out << expected["conversations"]["multi"]["messages"].dump();
  }
  const std::string base = test::cli_path() + " template --messages " + (tmp / "messages.json").string() +
                           " --bos '<s>' --eos '</s>' --template ";
  auto ok = test::run_command(base + (dir / "meta-llama-Llama-3.1-8B-Instruct.jinja").string() +
                              " --add-generation-prompt");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, expected["templates"]["meta-llama-Llama-3.1-8B-Instruct.jinja"]["multi"].get<std::string>());

  auto raised = test::run_command(base + (dir / "google-gemma-2-2b-it.jinja").string());
  EXPECT_EQ(raised.exit_code, 1);
  EXPECT_NE(raised.err.find("System role not supported"), std::string::npos) << raised.err;

  auto missing = test::run_command(base + (tmp / "nope.jinja").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace autarky
