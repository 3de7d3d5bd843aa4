#pragma once
// Model provenance: a signed manifest (name, size, SHA-256, publisher, creation time) for a model
// file, Ed25519 over a canonical serialisation of every field but the signature.
//
//   canonical = "autarky-model-manifest-v1\n" + JSON of the unsigned fields, keys sorted,
//               no whitespace, non-ASCII escaped (one byte sequence per manifest, whatever
//               wrote it)
//
// The server calls verify_model() before serving and refuses a model whose result is not ok.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "compliance/crypto.h"
#include "compliance/hash_cache.h"

namespace autarky::compliance {

struct ModelManifest {
  std::string format = "autarky-model-manifest/1";
  std::string name;             // file name of the model when signed (informational)
  std::uint64_t size = 0;       // bytes
  std::string sha256;           // 64 lowercase hex digits
  std::string publisher;        // free text: who vouches for this file
  std::string created;          // UTC, ISO 8601 ("2026-11-23T13:00:00Z")
  std::string key_fingerprint;  // first 16 hex digits of SHA-256 of the raw Ed25519 public key
  std::string signature;        // base64 of the 64-byte Ed25519 signature

  std::string canonical_payload() const;
  nlohmann::json to_json() const;
  // Throws autarky::Error naming `what` (the manifest path) and the bad field.
  static ModelManifest from_json(const nlohmann::json& j, const std::string& what);
};

std::string key_fingerprint(const Ed25519Key& key);

ModelManifest sign_model(const std::string& model_path, const Ed25519Key& private_key, const std::string& publisher,
                         const HashCache* cache);
void write_manifest(const std::string& path, const ModelManifest& m);  // atomic
ModelManifest read_manifest(const std::string& path);

struct VerifyResult {
  bool ok = false;
  std::string reason;        // why it failed, for an operator; empty when ok
  ModelManifest manifest;    // as read (fields untrusted unless ok)
  std::string actual_sha256; // hex, when the file was hashed
  bool hash_from_cache = false;
};

// Never throws for a verification failure or unreadable input: everything becomes ok=false with
// a reason, so a server can log it and refuse the model. Checks, in order: manifest parses,
// signature verifies with the trusted key, size matches, SHA-256 matches.
VerifyResult verify_model(const std::string& model_path, const ModelManifest& manifest, const Ed25519Key& trusted_key,
                          const HashCache* cache);
VerifyResult verify_model(const std::string& model_path, const std::string& manifest_path,
                          const std::string& pubkey_path, const HashCache* cache);

// For `serve --verify-manifest MANIFEST --pubkey PEM`: verifies with the user's hash cache
// (HashCache::default_path(), unless use_cache is false) and throws autarky::Error
// "REFUSED: <model>: <reason>" when the model does not verify; returns the result when it does.
VerifyResult require_verified_model(const std::string& model_path, const std::string& manifest_path,
                                    const std::string& pubkey_path, bool use_cache = true);

}  // namespace autarky::compliance
