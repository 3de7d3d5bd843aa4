#include "compliance/content_label.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "platform/atomic_file.h"

namespace autarky::compliance {
namespace {

constexpr std::string_view kCodePrefix = "autarky1";
constexpr std::string_view kMacDomain = "autarky-aigc-label-v1\n";
const char* const kFields[] = {"Label",   "ContentProducer", "ProduceID",    "ReservedCode1",
                               "ContentPropagator", "PropagateID", "ReservedCode2"};

std::string mac_payload(const Digest256& content_sha256, const std::string& label, const std::string& producer,
                        const std::string& produce_id) {
  nlohmann::json j = {{"content_sha256", to_hex(content_sha256)},
                      {"Label", label},
                      {"ContentProducer", producer},
                      {"ProduceID", produce_id}};
  return std::string(kMacDomain) + j.dump(-1, ' ', /*ensure_ascii=*/true);
}

SecretKey label_key(const SecretKey& provider_key) { return provider_key.derive("aigc-label"); }

}  // namespace

std::string LabelPolicy::notice() const {
  if (!explicit_text.empty()) return explicit_text;
  if (language == "zh" || language.starts_with("zh-")) return "人工智能生成";
  if (language == "both") return "人工智能生成 / AI-generated";
  return "AI-generated";
}

std::string LabelPolicy::prefix() const {
  return explicit_label && position == LabelPosition::kStart ? notice() + separator : std::string();
}

std::string LabelPolicy::suffix() const {
  return explicit_label && position == LabelPosition::kEnd ? separator + notice() : std::string();
}

LabelPolicy LabelPolicy::from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object()) fail("{}: label policy must be a JSON object", what);
  LabelPolicy p;
  for (const auto& item : j.items()) {
    // Named copies, not structured bindings: clang 14 (the fuzz build) cannot capture those.
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    auto need_string = [&] {
      if (!value.is_string()) fail("{}: label policy \"{}\" must be a string", what, key);
      return value.get<std::string>();
    };
    auto need_bool = [&] {
      if (!value.is_boolean()) fail("{}: label policy \"{}\" must be true or false", what, key);
      return value.get<bool>();
    };
    if (key == "explicit") p.explicit_label = need_bool();
    else if (key == "implicit") p.implicit_label = need_bool();
    else if (key == "text") p.explicit_text = need_string();
    else if (key == "language") p.language = need_string();
    else if (key == "separator") p.separator = need_string();
    else if (key == "producer") p.content_producer = need_string();
    else if (key == "propagator") p.content_propagator = need_string();
    else if (key == "position") {
      std::string pos = need_string();
      if (pos == "start") p.position = LabelPosition::kStart;
      else if (pos == "end") p.position = LabelPosition::kEnd;
      else fail("{}: label policy position \"{}\" (expected \"start\" or \"end\")", what, pos);
    } else {
      fail("{}: unknown label policy key \"{}\"", what, key);
    }
  }
  return p;
}

std::string apply_explicit_label(std::string_view text, const LabelPolicy& policy) {
  return policy.prefix() + std::string(text) + policy.suffix();
}

std::string new_produce_id() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  auto rnd = random_bytes(16);
  std::uint8_t b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(ms) >> (40 - 8 * i));
  for (int i = 6; i < 16; ++i) b[i] = rnd[static_cast<std::size_t>(i)];
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 9562 variant
  std::string hex = to_hex(std::span<const std::uint8_t>(b, 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

nlohmann::json make_unkeyed_label(const LabelPolicy& policy, const std::string& produce_id) {
  nlohmann::json j = nlohmann::json::object();
  j["Label"] = "1";
  j["ContentProducer"] = policy.content_producer;
  j["ProduceID"] = produce_id;
  j["ReservedCode1"] = "";
  j["ContentPropagator"] = policy.content_propagator;
  j["PropagateID"] = policy.content_propagator.empty() ? std::string() : produce_id;
  j["ReservedCode2"] = "";
  return j;
}

nlohmann::json make_label_for_digest(const Digest256& content_sha256, const LabelPolicy& policy,
                                     const SecretKey& provider_key, const std::string& produce_id) {
  nlohmann::json j = make_unkeyed_label(policy, produce_id);
  SecretKey key = label_key(provider_key);
  Digest256 mac = hmac_sha256(key.bytes(), as_bytes(mac_payload(content_sha256, j["Label"].get<std::string>(),
                                                                 policy.content_producer, produce_id)));
  j["ReservedCode1"] = fmt::format("{}:{}:{}", kCodePrefix, provider_key.key_id(), to_base64(mac));
  return j;
}

nlohmann::json make_label(std::string_view content, const LabelPolicy& policy, const SecretKey& provider_key,
                          const std::string& produce_id) {
  return make_label_for_digest(sha256(content), policy, provider_key, produce_id);
}

bool verify_label(std::string_view content, const nlohmann::json& label, const SecretKey& provider_key) {
  if (!label.is_object()) return false;
  for (const char* f : kFields) {
    if (!label.contains(f) || !label[f].is_string()) return false;
  }
  std::string code = label["ReservedCode1"].get<std::string>();
  std::string expected_head = fmt::format("{}:{}:", kCodePrefix, provider_key.key_id());
  if (!code.starts_with(expected_head)) return false;
  std::vector<std::uint8_t> mac;
  try {
    mac = from_base64(std::string_view(code).substr(expected_head.size()), "ReservedCode1");
  } catch (const Error&) {
    return false;
  }
  SecretKey key = label_key(provider_key);
  Digest256 expected = hmac_sha256(
      key.bytes(), as_bytes(mac_payload(sha256(content), label["Label"].get<std::string>(),
                                        label["ContentProducer"].get<std::string>(), label["ProduceID"].get<std::string>())));
  return equal_constant_time(mac, expected);
}

LabelStream::LabelStream(LabelPolicy policy, std::optional<SecretKey> provider_key, std::string produce_id)
    : policy_(std::move(policy)), key_(provider_key), produce_id_(std::move(produce_id)) {}

std::string LabelStream::begin() {
  AUTARKY_ASSERT(state_ == State::kNew, "LabelStream::begin called twice");
  state_ = State::kStreaming;
  std::string prefix = policy_.prefix();
  hash_.update(prefix);
  return prefix;
}

void LabelStream::feed(std::string_view chunk) {
  AUTARKY_ASSERT(state_ == State::kStreaming, "LabelStream::feed outside begin()/finish()");
  hash_.update(chunk);
}

std::string LabelStream::finish() {
  AUTARKY_ASSERT(state_ == State::kStreaming, "LabelStream::finish without begin() or twice");
  state_ = State::kDone;
  std::string suffix = policy_.suffix();
  hash_.update(suffix);
  digest_ = hash_.finish();
  if (policy_.implicit_label) {
    label_ = key_ ? make_label_for_digest(digest_, policy_, *key_, produce_id_) : make_unkeyed_label(policy_, produce_id_);
  }
  return suffix;
}

const nlohmann::json& LabelStream::label() const {
  AUTARKY_ASSERT(state_ == State::kDone, "LabelStream::label before finish()");
  return label_;
}

const Digest256& LabelStream::content_sha256() const {
  AUTARKY_ASSERT(state_ == State::kDone, "LabelStream::content_sha256 before finish()");
  return digest_;
}

std::string sidecar_path(const std::string& output_path) { return output_path + ".aigc.json"; }

void write_aigc_sidecar(const std::string& output_path, const nlohmann::json& label) {
  nlohmann::json doc = {{"AIGC", label}};
  write_file_atomically(sidecar_path(output_path), doc.dump(2, ' ', /*ensure_ascii=*/false) + "\n");
}

nlohmann::json read_aigc_sidecar(const std::string& output_path) {
  std::string path = sidecar_path(output_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open label sidecar", path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("AIGC") || !j["AIGC"].is_object())
    fail("{}: not a label sidecar (expected a JSON object with an \"AIGC\" object)", path);
  return j["AIGC"];
}

}  // namespace autarky::compliance
