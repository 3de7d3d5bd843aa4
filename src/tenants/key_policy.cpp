#include "tenants/key_policy.h"

#include <array>
#include <vector>

#include "base/error.h"

namespace autarky::tenants {
namespace {

constexpr std::array<std::string_view, 3> kLabelModes = {"start", "end", "off"};
constexpr std::array<std::string_view, 3> kLanguages = {"en", "zh", "both"};

template <std::size_t N>
void check_member(std::string_view field, const std::optional<std::string>& value,
                  const std::array<std::string_view, N>& allowed) {
  if (!value) return;
  for (std::string_view a : allowed) {
    if (*value == a) return;
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  fail("key policy: {} '{}' is not one of {}", field, *value, list);
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

void KeyPolicy::validate() const {
  check_member("label", label, kLabelModes);
  check_member("label language", label_language, kLanguages);
  if (label_text && label_text->empty()) fail("key policy: an empty label text (leave it unset to inherit)");
}

nlohmann::json KeyPolicy::to_json() const {
  return {{"label", or_null(label)},
          {"label_language", or_null(label_language)},
          {"label_text", or_null(label_text)},
          {"watermark", or_null(watermark)}};
}

std::string KeyPolicy::summary() const {
  std::vector<std::string> parts;
  if (label) parts.push_back("label=" + *label);
  if (label_language) parts.push_back("lang=" + *label_language);
  if (label_text) parts.push_back("text=\"" + *label_text + "\"");
  if (watermark) parts.push_back(*watermark ? "watermark=on" : "watermark=off");
  if (parts.empty()) return "-";
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

bool parse_on_off(std::string_view flag, std::string_view value) {
  if (value == "on") return true;
  if (value == "off") return false;
  fail("{}: '{}' (expected on or off)", flag, value);
}

}  // namespace autarky::tenants
