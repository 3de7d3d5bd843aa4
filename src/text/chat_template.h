#pragma once
// Chat templates: renders a model's `tokenizer.chat_template` (Jinja2) over a conversation the way
// Hugging Face's apply_chat_template does (trim_blocks, lstrip_blocks, loop controls, tojson
// without ASCII escaping, raise_exception, strftime_now), with our own interpreter (text/jinja).
//
// Messages and tools are ordered JSON so that key order survives into `tojson`, as it does in
// Python. A template is untrusted data: rendering is bounded (RenderLimits) and every failure,
// including the template's own raise_exception, is reported as an Error.

#include <nlohmann/json.hpp>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "text/jinja/interpreter.h"

namespace autarky {

struct ChatTemplateOptions {
  bool add_generation_prompt = false;
  std::string bos_token;
  std::string eos_token;
  // Tool schemas; null is passed to the template as `tools = None`, as Hugging Face does.
  nlohmann::ordered_json tools;
  // More top-level variables (enable_thinking, date_string, custom special tokens, ...).
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
  // What strftime_now() sees; the current local time when unset.
  std::optional<std::tm> now;
  jinja::RenderLimits limits;
};

// A parsed template, reusable across renders (parse once per model, render per request).
class ChatTemplate {
 public:
  // Throws Error naming line and column when the template does not parse.
  static ChatTemplate parse(std::string_view source);
  // `messages` is a JSON array of {"role": ..., "content": ...} objects (more keys allowed).
  // Throws Error on any failure; jinja::TemplateRaised when the template calls raise_exception.
  std::string render(const nlohmann::ordered_json& messages, const ChatTemplateOptions& options) const;

 private:
  std::shared_ptr<const jinja::Template> tree_;
};

std::string render_chat_template(std::string_view source, const nlohmann::ordered_json& messages,
                                 const ChatTemplateOptions& options);

// A calendar date at midnight, for tests and reproducible renders.
std::tm make_date(int year, int month, int day);

}  // namespace autarky
