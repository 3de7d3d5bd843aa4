#pragma once
// The per-key compliance flags of `autarky keys create` and `autarky keys policy`: the explicit
// label (--label start|end|off, --label-lang en|zh|both, --label-text TEXT) and the watermark
// (--watermark on|off). Only the flags given change the policy; the value "inherit" (or an empty
// --label-text) clears a field so the key follows the server's setting again.

#include <CLI/CLI.hpp>

#include <string>

#include "tenants/key_policy.h"

namespace autarky::cli {

struct KeyPolicyFlags {
  std::string label, label_lang, label_text, watermark;
  CLI::Option* label_opt = nullptr;
  CLI::Option* label_lang_opt = nullptr;
  CLI::Option* label_text_opt = nullptr;
  CLI::Option* watermark_opt = nullptr;
};

void add_key_policy_flags(CLI::App& cmd, KeyPolicyFlags& flags);

// `policy` with the given flags applied; throws (naming the flag) for a bad value.
tenants::KeyPolicy apply_key_policy_flags(const KeyPolicyFlags& flags, tenants::KeyPolicy policy);

}  // namespace autarky::cli
