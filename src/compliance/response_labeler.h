#pragma once
// Labels and audit records for every generated response, in one object a front end (the CLI's
// run/chat, the HTTP server) builds once and asks for one LabelledResponse per generation.
//
// Usage, the same for streaming and non-streaming responses:
//
//   ResponseLabeler labeler(policy, provider_key, audit_log);   // once per server / command
//   LabelledResponse r = labeler.start();                        // or start(&per_key_policy)
//   send(r.begin());                    // explicit label for the start ("" if none or at the end)
//   for (chunk : generated) { r.feed(chunk); send(chunk); }
//   send(r.finish());                   // explicit label for the end ("" if none or at the start)
//   r.aigc();                           // the GB 45438 implicit label: JSON object, or null if off
//   r.header_value();                   // the same as one ASCII line, for the kHeaderName header
//   r.audit(key_id, prompt_tokens, completion_tokens);   // one record in the audit log, if any
//
// The implicit label covers exactly the bytes passed through begin()/feed()/finish(), explicit
// label included, so "content" in ReservedCode1 is what the client received. For a streamed HTTP
// response, headers go out before the content exists: send early_header_value() (every field
// but ReservedCode1, which needs the content's hash) and put aigc() into the last chunk.
//
// Without a provider key the labels are complete but ReservedCode1 is empty (see
// docs/COMPLIANCE.md), and audit records carry no MAC.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "compliance/audit_log.h"
#include "compliance/content_label.h"
#include "compliance/secret_key.h"

namespace autarky::compliance {

class LabelledResponse {
 public:
  std::string begin();
  void feed(std::string_view chunk);
  std::string finish();

  // After finish(): the seven-field label object, or null when the policy turns implicit labels off.
  const nlohmann::json& aigc() const { return stream_.label(); }
  // After finish(): aigc() as compact JSON with non-ASCII escaped (legal in an HTTP header);
  // empty when implicit labels are off.
  std::string header_value() const;
  // Any time: the label without ReservedCode1 (known before the content), for headers sent
  // before a stream; empty when implicit labels are off.
  std::string early_header_value() const;

  const std::string& produce_id() const { return stream_.produce_id(); }
  const Digest256& content_sha256() const { return stream_.content_sha256(); }
  bool implicit_label() const { return policy_.implicit_label; }

  // After finish(): appends one record (no prompt/output text unless the log records text, in
  // which case pass them). No-op without an audit log. Returns the record's head, if written.
  std::optional<AuditHead> audit(std::string_view key_id, std::uint64_t prompt_tokens, std::uint64_t completion_tokens,
                                 std::string_view prompt_text = {}, std::string_view completion_text = {});

 private:
  friend class ResponseLabeler;
  LabelledResponse(LabelPolicy policy, const std::optional<SecretKey>& key, std::shared_ptr<AuditLog> audit);
  LabelPolicy policy_;
  LabelStream stream_;
  std::shared_ptr<AuditLog> audit_;
  bool audited_ = false;
};

class ResponseLabeler {
 public:
  // Header name for the implicit label in HTTP responses. RFC 6648 advises against "X-".
  static constexpr const char* kHeaderName = "AIGC-Label";

  // audit may be null (no audit log). Thread-safe after construction: start() is const and the
  // audit log serialises its own appends.
  ResponseLabeler(LabelPolicy policy, std::optional<SecretKey> provider_key, std::shared_ptr<AuditLog> audit = nullptr);

  // A new response with a fresh ProduceID; `policy_override` (e.g. an API key's policy) replaces
  // the server-wide policy for this response.
  LabelledResponse start(const LabelPolicy* policy_override = nullptr) const;

  const LabelPolicy& policy() const { return policy_; }
  const std::optional<SecretKey>& provider_key() const { return key_; }
  const std::shared_ptr<AuditLog>& audit_log() const { return audit_; }

 private:
  LabelPolicy policy_;
  std::optional<SecretKey> key_;
  std::shared_ptr<AuditLog> audit_;
};

}  // namespace autarky::compliance
