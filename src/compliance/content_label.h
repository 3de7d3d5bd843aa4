#pragma once
// Labels on generated text, for GB 45438-2025 (explicit + implicit labels) and EU AI Act Art. 50
// (machine-readable marking).
//
// Explicit label: a notice people can see ("AI-generated" / "人工智能生成") at the start or end
// of the text. Implicit label: the GB 45438 metadata object, seven string fields:
//   Label              "1" = the content is AI-generated (we only ever produce "1")
//   ContentProducer    name or code of the service provider that generated it
//   ProduceID          unique id of this piece of content (a UUIDv7 per response)
//   ReservedCode1      producer's integrity code: "autarky1:<key id>:<base64 HMAC-SHA256>"
//   ContentPropagator  name or code of the platform that distributes it (may be empty)
//   PropagateID        the propagator's id for the content (may be empty)
//   ReservedCode2      propagator's reserved field (left empty for the propagator to fill)
//
// ReservedCode1's MAC covers the content's SHA-256, Label, ContentProducer and ProduceID, with a
// sub-key of the provider's secret. Propagator fields are deliberately outside it: the standard
// lets a later distributor fill them, which must not break the producer's proof. "Content" is
// exactly the text delivered, explicit label included.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "compliance/crypto.h"
#include "compliance/secret_key.h"

namespace autarky::compliance {

enum class LabelPosition { kStart, kEnd };

struct LabelPolicy {
  bool explicit_label = true;
  std::string explicit_text;        // empty: the default for `language`
  LabelPosition position = LabelPosition::kStart;
  std::string language = "en";      // "en" -> "AI-generated", "zh" -> "人工智能生成", "both" -> both
  std::string separator = "\n";     // between the notice and the text
  bool implicit_label = true;
  std::string content_producer = "autarky";
  std::string content_propagator;   // set when this service also distributes the content

  std::string notice() const;       // the explicit text actually used
  std::string prefix() const;       // what goes before the text (empty if none)
  std::string suffix() const;       // what goes after the text (empty if none)

  // Server/CLI configuration: {"explicit": bool, "text": str, "position": "start"|"end",
  // "language": str, "separator": str, "implicit": bool, "producer": str, "propagator": str};
  // unknown keys are an error naming `what`.
  static LabelPolicy from_json(const nlohmann::json& j, const std::string& what);
};

std::string apply_explicit_label(std::string_view text, const LabelPolicy& policy);

// A new ProduceID: UUIDv7 (48-bit Unix milliseconds + 74 random bits), so ids are unique and
// also sort by time in an audit log.
std::string new_produce_id();

// The implicit label for `content` (the full delivered text) as a JSON object of seven strings.
nlohmann::json make_label(std::string_view content, const LabelPolicy& policy, const SecretKey& provider_key,
                          const std::string& produce_id);
nlohmann::json make_label_for_digest(const Digest256& content_sha256, const LabelPolicy& policy,
                                     const SecretKey& provider_key, const std::string& produce_id);
// Without a provider key: the same fields with ReservedCode1 empty (nobody can later prove the
// text came unaltered from this provider; the label itself is still complete).
nlohmann::json make_unkeyed_label(const LabelPolicy& policy, const std::string& produce_id);

// True if `label` is a well-formed implicit label whose ReservedCode1 was made with this key over
// exactly this content and these producer fields.
bool verify_label(std::string_view content, const nlohmann::json& label, const SecretKey& provider_key);

// Streaming: emit begin() before the first chunk, pass every chunk through feed(), emit finish()'s
// suffix after the last; the implicit label is computed at the end over everything emitted,
// without keeping the text. Without a provider key the label's ReservedCode1 is empty.
class LabelStream {
 public:
  LabelStream(LabelPolicy policy, std::optional<SecretKey> provider_key, std::string produce_id = new_produce_id());

  std::string begin();
  void feed(std::string_view chunk);
  std::string finish();                       // returns the suffix to emit
  const nlohmann::json& label() const;        // after finish(); null when implicit labels are off
  const std::string& produce_id() const { return produce_id_; }
  const Digest256& content_sha256() const;    // after finish()

 private:
  LabelPolicy policy_;
  std::optional<SecretKey> key_;
  std::string produce_id_;
  Sha256 hash_;
  Digest256 digest_{};
  nlohmann::json label_;
  enum class State { kNew, kStreaming, kDone } state_ = State::kNew;
};

// FILE.aigc.json next to a generated file, {"AIGC": label}, written atomically.
std::string sidecar_path(const std::string& output_path);
void write_aigc_sidecar(const std::string& output_path, const nlohmann::json& label);
nlohmann::json read_aigc_sidecar(const std::string& output_path);  // returns the label object

}  // namespace autarky::compliance
