#pragma once
// An API key's own compliance policy, stored in the ledger next to its quotas: where the explicit
// "AI-generated" notice goes (or that it is off), its language or text, and whether the key's
// responses are watermarked. Every field is optional; an unset field inherits the server's
// setting (`autarky serve --label ... --watermark-key ...`), so changing the server's defaults
// changes every key that did not choose for itself.
//
// There is deliberately no field for the implicit label (the `aigc` metadata, the AIGC-Label
// header, the audit record): GB 45438 requires it on all generated content, so no key can turn
// it off (docs/COMPLIANCE.md, "Policies per API key").

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace autarky::tenants {

struct KeyPolicy {
  std::optional<std::string> label;           // "start" | "end" | "off"
  std::optional<std::string> label_language;  // "en" | "zh" | "both"
  std::optional<std::string> label_text;      // replaces the language's notice; never empty
  std::optional<bool> watermark;

  bool inherits_everything() const { return !label && !label_language && !label_text && !watermark; }
  // Throws autarky::Error naming the field and value for anything the ledger would refuse.
  void validate() const;
  // {"label": "end", "label_language": null, ...}: null = inherited from the server.
  nlohmann::json to_json() const;
  // Short human form for `keys list`: "label=end,lang=zh,watermark=on", or "-" if all inherited.
  std::string summary() const;

  bool operator==(const KeyPolicy&) const = default;
};

// "on"/"off" -> true/false; anything else throws naming `flag`.
bool parse_on_off(std::string_view flag, std::string_view value);

}  // namespace autarky::tenants
