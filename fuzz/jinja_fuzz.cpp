// libFuzzer target: random template text rendered over a small fixed conversation. Any input must
// either render or throw autarky::Error, within the render limits (no crash, no hang, no leak).

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "text/chat_template.h"

namespace {

const nlohmann::ordered_json& fixed_messages() {
  static const auto messages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi 你好"},
    {"role": "assistant", "content": "<think>r</think>Hello", "tool_calls": [
      {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {"x": 1, "y": [true, null]}}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"ok\": 1}"},
    {"role": "user", "content": "Bye"}
  ])");
  return messages;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  autarky::ChatTemplateOptions options;
  options.add_generation_prompt = true;
  options.bos_token = "<s>";
  options.eos_token = "</s>";
  options.now = autarky::make_date(2026, 11, 23);
  // Tighter than the defaults so that each input runs in milliseconds.
  options.limits.max_steps = 100000;
  options.limits.max_string_bytes = 1u << 20;
  options.limits.max_objects = 20000;
  try {
    autarky::render_chat_template(source, fixed_messages(), options);
  } catch (const autarky::Error&) {
  }
  return 0;
}
