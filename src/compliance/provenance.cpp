#include "compliance/provenance.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/error.h"
#include "platform/atomic_file.h"

namespace autarky::compliance {
namespace {

constexpr std::string_view kDomain = "autarky-model-manifest-v1\n";

std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json unsigned_fields(const ModelManifest& m) {
  return {{"format", m.format},       {"name", m.name},
          {"size", m.size},           {"sha256", m.sha256},
          {"publisher", m.publisher}, {"created", m.created},
          {"key_fingerprint", m.key_fingerprint}};
}

std::string get_string(const nlohmann::json& j, const char* key, const std::string& what) {
  if (!j.contains(key) || !j[key].is_string()) fail("{}: manifest field \"{}\" missing or not a string", what, key);
  return j[key].get<std::string>();
}

}  // namespace

std::string ModelManifest::canonical_payload() const {
  // nlohmann::json objects keep keys sorted; ensure_ascii makes the bytes independent of how
  // the writer chose to encode non-ASCII publisher names.
  return std::string(kDomain) + unsigned_fields(*this).dump(-1, ' ', /*ensure_ascii=*/true);
}

nlohmann::json ModelManifest::to_json() const {
  nlohmann::json j = unsigned_fields(*this);
  j["signature"] = signature;
  return j;
}

ModelManifest ModelManifest::from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object()) fail("{}: manifest is not a JSON object", what);
  ModelManifest m;
  m.format = get_string(j, "format", what);
  if (m.format != "autarky-model-manifest/1") fail("{}: unknown manifest format \"{}\"", what, m.format);
  m.name = get_string(j, "name", what);
  if (!j.contains("size") || !j["size"].is_number_unsigned()) fail("{}: manifest field \"size\" missing or not a count", what);
  m.size = j["size"].get<std::uint64_t>();
  m.sha256 = get_string(j, "sha256", what);
  if (m.sha256.size() != 64) fail("{}: manifest sha256 has {} characters, expected 64", what, m.sha256.size());
  m.publisher = get_string(j, "publisher", what);
  m.created = get_string(j, "created", what);
  m.key_fingerprint = get_string(j, "key_fingerprint", what);
  m.signature = get_string(j, "signature", what);
  return m;
}

std::string key_fingerprint(const Ed25519Key& key) {
  auto raw = key.raw_public();
  Digest256 d = sha256(raw);
  return to_hex(std::span<const std::uint8_t>(d.data(), 8));
}

ModelManifest sign_model(const std::string& model_path, const Ed25519Key& private_key, const std::string& publisher,
                         const HashCache* cache) {
  FileHash h = hash_file_cached(model_path, cache);
  ModelManifest m;
  m.name = std::filesystem::path(model_path).filename().string();
  m.size = h.identity.size;
  m.sha256 = to_hex(h.sha256);
  m.publisher = publisher;
  m.created = utc_now_iso8601();
  m.key_fingerprint = key_fingerprint(private_key);
  m.signature = to_base64(private_key.sign(as_bytes(m.canonical_payload())));
  return m;
}

void write_manifest(const std::string& path, const ModelManifest& m) {
  write_file_atomically(path, m.to_json().dump(2) + "\n");
}

ModelManifest read_manifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open manifest", path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail("{}: manifest is not valid JSON", path);
  return ModelManifest::from_json(j, path);
}

VerifyResult verify_model(const std::string& model_path, const ModelManifest& manifest, const Ed25519Key& trusted_key,
                          const HashCache* cache) {
  VerifyResult r;
  r.manifest = manifest;
  try {
    std::vector<std::uint8_t> sig;
    try {
      sig = from_base64(manifest.signature, "manifest signature");
    } catch (const Error& e) {
      r.reason = e.what();
      return r;
    }
    if (!trusted_key.verify(as_bytes(manifest.canonical_payload()), sig)) {
      std::string trusted = key_fingerprint(trusted_key);
      r.reason = manifest.key_fingerprint == trusted
                     ? fmt::format("manifest signature is invalid: the manifest was altered after signing")
                     : fmt::format(
                           "manifest signature does not verify: it names key {} but the trusted key is {} "
                           "(wrong public key, or an altered manifest)",
                           manifest.key_fingerprint, trusted);
      return r;
    }
    FileIdentity id = FileIdentity::of(model_path);
    if (id.size != manifest.size) {
      r.reason = fmt::format("{}: size {} bytes, but the signed manifest says {}: the file is not the signed model",
                             model_path, id.size, manifest.size);
      return r;
    }
    FileHash h = hash_file_cached(model_path, cache);
    r.actual_sha256 = to_hex(h.sha256);
    r.hash_from_cache = h.from_cache;
    if (r.actual_sha256 != manifest.sha256) {
      r.reason = fmt::format("{}: SHA-256 {} does not match the signed {}: the file was modified", model_path,
                             r.actual_sha256, manifest.sha256);
      return r;
    }
    r.ok = true;
  } catch (const Error& e) {
    r.reason = e.what();
  }
  return r;
}

VerifyResult verify_model(const std::string& model_path, const std::string& manifest_path,
                          const std::string& pubkey_path, const HashCache* cache) {
  try {
    ModelManifest m = read_manifest(manifest_path);
    Ed25519Key key = Ed25519Key::load_public_pem(pubkey_path);
    return verify_model(model_path, m, key, cache);
  } catch (const Error& e) {
    VerifyResult r;
    r.reason = e.what();
    return r;
  }
}

VerifyResult require_verified_model(const std::string& model_path, const std::string& manifest_path,
                                    const std::string& pubkey_path, bool use_cache) {
  std::optional<HashCache> cache;
  if (use_cache) cache.emplace(HashCache::default_path());
  VerifyResult r = verify_model(model_path, manifest_path, pubkey_path, cache ? &*cache : nullptr);
  if (!r.ok) fail("REFUSED: {}: {} (manifest {}, key {})", model_path, r.reason, manifest_path, pubkey_path);
  return r;
}

}  // namespace autarky::compliance
