#include "server/ledger_access.h"

#include <memory>

namespace autarky::server {

std::variant<tenants::KeyInfo, ApiError> LedgerAccess::key_of(std::optional<std::string_view> bearer) {
  if (!bearer || bearer->empty()) {
    return unauthorized("You didn't provide an API key: send the header 'Authorization: Bearer <key>'");
  }
  std::optional<tenants::KeyInfo> key = ledger_.authenticate(*bearer);
  // Unknown, revoked and malformed keys get the same answer: no oracle for key guessing.
  if (!key) return unauthorized("Incorrect API key provided");
  return *key;
}

std::optional<ApiError> LedgerAccess::authenticate(std::optional<std::string_view> bearer) {
  auto key = key_of(bearer);
  if (auto* error = std::get_if<ApiError>(&key)) return *error;
  return std::nullopt;
}

std::variant<AccessGrant, ApiError> LedgerAccess::admit(std::optional<std::string_view> bearer) {
  auto key = key_of(bearer);
  if (auto* error = std::get_if<ApiError>(&key)) return *error;
  const tenants::KeyInfo& info = std::get<tenants::KeyInfo>(key);
  auto admission = std::make_shared<tenants::Admission>(ledger_.admit(info, tenants::Clock::now()));
  if (!admission->admitted()) {
    ApiError error = quota_exceeded(admission->message, static_cast<int>(admission->retry_after_seconds));
    error.code = tenants::rejection_name(admission->rejection);
    return error;
  }
  // The admission holds the key's concurrency slot until the response is over.
  return AccessGrant{info.id, info.policy, std::move(admission)};
}

void LedgerAccess::record_usage(const AccessGrant& grant, const std::string& request_id, std::int64_t prompt_tokens,
                                std::int64_t completion_tokens) {
  ledger_.record_usage({grant.key_id, request_id, static_cast<std::uint64_t>(prompt_tokens),
                        static_cast<std::uint64_t>(completion_tokens), tenants::Clock::now()});
}

}  // namespace autarky::server
