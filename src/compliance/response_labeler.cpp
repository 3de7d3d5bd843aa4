#include "compliance/response_labeler.h"

#include <utility>

#include "base/error.h"

namespace autarky::compliance {

LabelledResponse::LabelledResponse(LabelPolicy policy, const std::optional<SecretKey>& key,
                                   std::shared_ptr<AuditLog> audit)
    : policy_(policy), stream_(std::move(policy), key), audit_(std::move(audit)) {}

std::string LabelledResponse::begin() { return stream_.begin(); }
void LabelledResponse::feed(std::string_view chunk) { stream_.feed(chunk); }
std::string LabelledResponse::finish() { return stream_.finish(); }

std::string LabelledResponse::header_value() const {
  const nlohmann::json& label = aigc();
  return label.is_null() ? std::string() : label.dump(-1, ' ', /*ensure_ascii=*/true);
}

std::string LabelledResponse::early_header_value() const {
  if (!policy_.implicit_label) return {};
  return make_unkeyed_label(policy_, produce_id()).dump(-1, ' ', /*ensure_ascii=*/true);
}

std::optional<AuditHead> LabelledResponse::audit(std::string_view key_id, std::uint64_t prompt_tokens,
                                                 std::uint64_t completion_tokens, std::string_view prompt_text,
                                                 std::string_view completion_text) {
  AUTARKY_ASSERT(!audited_, "LabelledResponse::audit called twice for {}", produce_id());
  if (!audit_) return std::nullopt;
  audited_ = true;
  AuditEvent e;
  e.key_id = std::string(key_id);
  e.produce_id = produce_id();
  e.prompt_tokens = prompt_tokens;
  e.completion_tokens = completion_tokens;
  e.content_sha256 = content_sha256();
  e.prompt_text = std::string(prompt_text);
  e.completion_text = std::string(completion_text);
  return audit_->append(e);
}

ResponseLabeler::ResponseLabeler(LabelPolicy policy, std::optional<SecretKey> provider_key,
                                 std::shared_ptr<AuditLog> audit)
    : policy_(std::move(policy)), key_(std::move(provider_key)), audit_(std::move(audit)) {}

LabelledResponse ResponseLabeler::start(const LabelPolicy* policy_override) const {
  return LabelledResponse(policy_override ? *policy_override : policy_, key_, audit_);
}

}  // namespace autarky::compliance
