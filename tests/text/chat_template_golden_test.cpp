// Every template in shared/golden/chat renders every conversation exactly as Python's jinja2 did
// (expected.json), or fails with the template's own raise_exception message where jinja2 did.

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "test_support.h"
#include "text/chat_template.h"

namespace autarky {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ChatTemplateGolden, EveryTemplateAndConversation) {
  AUTARKY_REQUIRE_GOLDEN();
  const auto dir = test::golden_dir() / "chat";
  const auto expected = nlohmann::ordered_json::parse(read_text(dir / "expected.json"));
  int checked = 0;
  for (const auto& [template_name, per_conversation] : expected["templates"].items()) {
    const ChatTemplate tmpl = ChatTemplate::parse(read_text(dir / template_name));
    for (const auto& [conversation_name, want] : per_conversation.items()) {
      SCOPED_TRACE(template_name + " / " + conversation_name);
      const auto& conversation = expected["conversations"][conversation_name];
      ChatTemplateOptions options;
      options.add_generation_prompt = conversation["add_generation_prompt"].get<bool>();
      options.bos_token = expected["bos_token"].get<std::string>();
      options.eos_token = expected["eos_token"].get<std::string>();
      options.now = make_date(2026, 11, 23);
      if (want.is_string()) {
        EXPECT_EQ(tmpl.render(conversation["messages"], options), want.get<std::string>());
      } else {
        const std::string message = want.at("error").get<std::string>();
        try {
          tmpl.render(conversation["messages"], options);
          ADD_FAILURE() << "expected the template to raise: " << message;
        } catch (const jinja::TemplateRaised& e) {
          EXPECT_EQ(std::string(e.what()), message);
        }
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 40);
}

}  // namespace
}  // namespace autarky
