#include "text/chat_template.h"

#include "base/error.h"
#include "text/jinja/parser.h"

namespace autarky {

ChatTemplate ChatTemplate::parse(std::string_view source) {
  ChatTemplate t;
  t.tree_ = std::make_shared<const jinja::Template>(jinja::parse_template(source));
  return t;
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const ChatTemplateOptions& options) const {
  if (!messages.is_array()) fail("chat messages must be a JSON array, got {}", messages.type_name());
  if (!options.extra_context.is_object()) fail("chat template extra context must be a JSON object");
  std::tm now{};
  if (options.now) {
    now = *options.now;
  } else {
    std::time_t t = std::time(nullptr);
    localtime_r(&t, &now);
  }
  jinja::Interpreter interp(options.limits, now);
  auto& arena = interp.arena();
  interp.set_global("messages", jinja::from_json(messages, arena));
  interp.set_global("tools", jinja::from_json(options.tools, arena));
  interp.set_global("documents", jinja::Value::none());
  interp.set_global("add_generation_prompt", jinja::Value::from_bool(options.add_generation_prompt));
  interp.set_global("bos_token", jinja::Value::from_string(options.bos_token));
  interp.set_global("eos_token", jinja::Value::from_string(options.eos_token));
  for (const auto& [key, value] : options.extra_context.items()) interp.set_global(key, jinja::from_json(value, arena));
  return interp.render(*tree_);
}

std::string render_chat_template(std::string_view source, const nlohmann::ordered_json& messages,
                                 const ChatTemplateOptions& options) {
  return ChatTemplate::parse(source).render(messages, options);
}

std::tm make_date(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_isdst = 0;
  std::time_t t = timegm(&tm);  // fills in the weekday and day of the year
  std::tm out{};
  gmtime_r(&t, &out);
  return out;
}

}  // namespace autarky
