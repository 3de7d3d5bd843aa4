// A template is untrusted data: bad templates fail with an Error that says where, runaway ones are
// stopped by the render limits, and nothing a template does crashes or hangs the process.

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "test_support.h"
#include "text/chat_template.h"

namespace autarky {
namespace {

using nlohmann::ordered_json;

std::string render(std::string_view tmpl, const ordered_json& vars = ordered_json::object(),
                   const jinja::RenderLimits& limits = {}) {
  ChatTemplateOptions options;
  options.extra_context = vars;
  options.limits = limits;
  options.now = make_date(2026, 11, 23);
  return render_chat_template(tmpl, ordered_json::array(), options);
}

// The message of the Error a render throws ("" when it does not throw).
std::string error_of(std::string_view tmpl, const ordered_json& vars = ordered_json::object(),
                     const jinja::RenderLimits& limits = {}) {
  try {
    render(tmpl, vars, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JinjaErrors, SyntaxErrorsNameLineAndColumn) {
  EXPECT_NE(error_of("ok\n{{ 1 + }}").find("line 2, column 8"), std::string::npos) << error_of("ok\n{{ 1 + }}");
  EXPECT_NE(error_of("a\nb\n{% if x %}never closed").find("expected 'elif' or 'else' or 'endif'"), std::string::npos);
  EXPECT_NE(error_of("{% for x in y %}").find("'endfor'"), std::string::npos);
  EXPECT_NE(error_of("{% frobnicate %}").find("unknown or unexpected tag 'frobnicate'"), std::string::npos);
  EXPECT_NE(error_of("{% endif %}").find("line 1, column 4"), std::string::npos);
  EXPECT_NE(error_of("{{ 'unterminated }}").find("unterminated string literal"), std::string::npos);
  EXPECT_NE(error_of("{# comment").find("unterminated comment"), std::string::npos);
  EXPECT_NE(error_of("{{ x ").find("unterminated tag"), std::string::npos);
  EXPECT_NE(error_of("{% break %}").find("outside of a loop"), std::string::npos);
  EXPECT_NE(error_of("{{ 99999999999999999999 }}").find("too large"), std::string::npos);
}

TEST(JinjaErrors, RuntimeErrorsLikeJinja2) {
  EXPECT_EQ(error_of("{{ x.y }}"), "'x' is undefined");
  EXPECT_EQ(error_of("{{ d.a.b }}", {{"d", ordered_json::object()}}), "'dict object' has no attribute 'a'");
  EXPECT_EQ(error_of("{{ l[5].a }}", {{"l", {1}}}), "list object has no element 5");
  EXPECT_EQ(error_of("{{ n.a.b }}", {{"n", nullptr}}), "'None' has no attribute 'a'");
  EXPECT_EQ(error_of("{{ x + 1 }}"), "'x' is undefined");
  EXPECT_EQ(error_of("{{ 'a' + 1 }}"), "can only concatenate str (not \"int\") to str");
  EXPECT_EQ(error_of("{{ 1 + 'a' }}"), "unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(error_of("{{ 1 // 0 }}"), "integer division or modulo by zero");
  EXPECT_EQ(error_of("{{ x|tojson }}"), "Object of type Undefined is not JSON serializable");
  EXPECT_EQ(error_of("{{ nosuch() }}"), "'nosuch' is undefined");
  EXPECT_NE(error_of("{{ 1|nosuchfilter }}").find("no filter named 'nosuchfilter'"), std::string::npos);
}

TEST(JinjaErrors, RaiseExceptionCarriesTheTemplatesMessage) {
  try {
    render("{% if true %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}");
    FAIL() << "expected TemplateRaised";
  } catch (const jinja::TemplateRaised& e) {
    EXPECT_STREQ(e.what(), "Conversation roles must alternate");
  }
}

TEST(JinjaLimits, NestedHugeLoopsStopWithAnError) {
  const std::string msg = error_of(
      "{% for i in range(1000000) %}{% for j in range(1000000) %}{{ i }}{% endfor %}{% endfor %}");
  EXPECT_NE(msg.find("evaluation steps"), std::string::npos) << msg;
  // Loops that are each small but multiply to billions of iterations.
  const std::string nested = error_of(
      "{% for i in range(5000) %}{% for j in range(5000) %}{% for k in range(5000) %}x{% endfor %}{% endfor %}{% endfor %}");
  EXPECT_NE(nested.find("evaluation steps"), std::string::npos) << nested;
}

TEST(JinjaLimits, StepLimitIsConfigurable) {
  jinja::RenderLimits tight;
  tight.max_steps = 1000;
  EXPECT_EQ(render("{% for i in range(10) %}{{ i }}{% endfor %}", ordered_json::object(), tight), "0123456789");
  EXPECT_NE(error_of("{% for i in range(2000) %}{{ i }}{% endfor %}", ordered_json::object(), tight).find("1000 evaluation steps"),
            std::string::npos);
}

TEST(JinjaLimits, RunawayRecursionStops) {
  const std::string msg = error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(msg.find("nested macro calls"), std::string::npos) << msg;
  // Exponential fan-out without deep recursion is caught by the step limit.
  const std::string fan = error_of(
      "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}");
  EXPECT_NE(fan.find("evaluation steps"), std::string::npos) << fan;
}

TEST(JinjaLimits, OutputAndStringSizeAreBounded) {
  const std::string msg = error_of(
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}");
  EXPECT_NE(msg.find("over the limit"), std::string::npos) << msg;
  EXPECT_NE(error_of("{{ 'x' * 100000000000 }}").find("over the limit"), std::string::npos);
  const std::string list_bomb = error_of("{% set s = 'y' * 1000000 %}{% set l = [s] * 100000 %}{{ l|length }}");
  EXPECT_FALSE(list_bomb.empty());
}

TEST(JinjaLimits, DeepNestingIsAnErrorNotACrash) {
  EXPECT_NE(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").find("nested too deeply"),
            std::string::npos);
  std::string chain = "{{ 1";
  for (int i = 0; i < 100000; ++i) chain += "+1";
  EXPECT_NE(error_of(chain + " }}").find("nested too deeply"), std::string::npos);
  std::string blocks;
  for (int i = 0; i < 5000; ++i) blocks += "{% if true %}";
  EXPECT_NE(error_of(blocks).find("nested too deeply"), std::string::npos);
  // A list that contains itself cannot be printed, but saying so is enough.
  EXPECT_NE(error_of("{% set l = [] %}{% do l.append(l) %}{{ l }}").find("nested too deeply"), std::string::npos);
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Mutated real templates either render or throw Error; any crash or hang fails the test run.
TEST(JinjaRobustness, MutatedTemplatesNeverCrash) {
  AUTARKY_REQUIRE_GOLDEN();
  const std::string base = read_text(test::golden_dir() / "chat" / "Qwen-Qwen3-0.6B.jinja");
  ASSERT_FALSE(base.empty());
  const auto messages = ordered_json::parse(R"([{"role":"system","content":"s"},{"role":"user","content":"u"},
      {"role":"assistant","content":"<think>r</think>a","tool_calls":[{"function":{"name":"f","arguments":{"x":1}}}]},
      {"role":"tool","content":"t"}])");
  std::mt19937 rng(1234);
  const std::string alphabet = "{}%#-+|.()[]'\",:=~*/ \nabcdefgilnorstuxyz0123456789";
  int rendered = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::string t = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.erase(at, 1 + rng() % 8); break;
        default: t.insert(at, t.substr(rng() % t.size(), 1 + rng() % 16)); break;
      }
    }
    ChatTemplateOptions options;
    options.add_generation_prompt = true;
    jinja::RenderLimits limits;
    limits.max_steps = 200000;
    options.limits = limits;
    try {
      render_chat_template(t, messages, options);
      ++rendered;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(rendered, 0);
}

}  // namespace
}  // namespace autarky
