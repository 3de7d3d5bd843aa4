#pragma once
// Who may run a completion, and the accounting of what it cost. The routes ask admit() before
// any work and record_usage() once a request has finished; the grant is held (a concurrency
// slot of the key, for instance) until the response is completely sent or the client has gone.
//
// OpenAccess is the single-local-user mode: everyone is admitted, nothing is recorded. The
// API-key mode with persistent quotas is LedgerAccess (server/ledger_access.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/api_error.h"
#include "tenants/key_policy.h"

namespace autarky::server {

struct AccessGrant {
  std::string key_id;            // empty in open mode
  tenants::KeyPolicy policy;     // the key's label/watermark choices; all inherited in open mode
  std::shared_ptr<void> holds;  // released (e.g. the key's concurrency slot) with the last copy
};

class AccessPolicy {
 public:
  virtual ~AccessPolicy() = default;
  // Only checks the key (for routes that are not billed, like GET /v1/models): nullopt if valid.
  virtual std::optional<ApiError> authenticate(std::optional<std::string_view> bearer) = 0;
  // bearer: the token of "Authorization: Bearer <token>", nullopt without that header.
  // Refusals are 401 (no or bad key) or 429 with Retry-After (a quota).
  virtual std::variant<AccessGrant, ApiError> admit(std::optional<std::string_view> bearer) = 0;
  // Durable accounting of one finished (or cancelled) request; request_id is unique.
  virtual void record_usage(const AccessGrant& grant, const std::string& request_id, std::int64_t prompt_tokens,
                            std::int64_t completion_tokens) = 0;
};

class OpenAccess final : public AccessPolicy {
 public:
  std::optional<ApiError> authenticate(std::optional<std::string_view>) override { return std::nullopt; }
  std::variant<AccessGrant, ApiError> admit(std::optional<std::string_view>) override { return AccessGrant{}; }
  void record_usage(const AccessGrant&, const std::string&, std::int64_t, std::int64_t) override {}
};

}  // namespace autarky::server
