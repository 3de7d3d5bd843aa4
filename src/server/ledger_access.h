#pragma once
// API keys and quotas from the tenants ledger (src/tenants): a request needs a valid
// "Authorization: Bearer ak-..." key (401 otherwise) and passes the key's budgets, request rate
// and concurrency (429 with Retry-After otherwise). Usage is recorded durably, once per request.

#include "server/access.h"
#include "tenants/ledger.h"

namespace autarky::server {

class LedgerAccess final : public AccessPolicy {
 public:
  explicit LedgerAccess(tenants::Ledger& ledger) : ledger_(ledger) {}

  std::optional<ApiError> authenticate(std::optional<std::string_view> bearer) override;
  std::variant<AccessGrant, ApiError> admit(std::optional<std::string_view> bearer) override;
  void record_usage(const AccessGrant& grant, const std::string& request_id, std::int64_t prompt_tokens,
                    std::int64_t completion_tokens) override;

 private:
  std::variant<tenants::KeyInfo, ApiError> key_of(std::optional<std::string_view> bearer);

  tenants::Ledger& ledger_;
};

}  // namespace autarky::server
