#include "key_policy_flags.h"

#include <optional>

#include "base/error.h"

namespace autarky::cli {
namespace {

constexpr std::string_view kInherit = "inherit";

bool given(const CLI::Option* opt) { return opt && opt->count() > 0; }

// "inherit" clears the field; any other value is checked by KeyPolicy::validate().
void set_text(std::optional<std::string>& field, const CLI::Option* opt, const std::string& value) {
  if (!given(opt)) return;
  if (value == kInherit) field.reset();
  else field = value;
}

}  // namespace

void add_key_policy_flags(CLI::App& cmd, KeyPolicyFlags& f) {
  f.label_opt = cmd.add_option("--label", f.label, "Explicit notice for this key: start, end, off or inherit");
  f.label_lang_opt = cmd.add_option("--label-lang", f.label_lang, "Notice language: en, zh, both or inherit");
  f.label_text_opt = cmd.add_option("--label-text", f.label_text, "Notice text for this key ('' = inherit)");
  f.watermark_opt =
      cmd.add_option("--watermark", f.watermark,
                     "Watermark this key's responses: on, off or inherit (needs the server's --watermark-key)");
}

tenants::KeyPolicy apply_key_policy_flags(const KeyPolicyFlags& f, tenants::KeyPolicy policy) {
  set_text(policy.label, f.label_opt, f.label);
  set_text(policy.label_language, f.label_lang_opt, f.label_lang);
  if (given(f.label_text_opt)) {
    if (f.label_text.empty()) policy.label_text.reset();
    else policy.label_text = f.label_text;
  }
  if (given(f.watermark_opt)) {
    if (f.watermark == kInherit) policy.watermark.reset();
    else policy.watermark = tenants::parse_on_off("--watermark", f.watermark);
  }
  try {
    policy.validate();
  } catch (const Error& e) {
    fail("keys: {} (--label: start, end, off or inherit; --label-lang: en, zh, both or inherit)", e.what());
  }
  return policy;
}

}  // namespace autarky::cli
