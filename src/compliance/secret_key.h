#pragma once
// The provider's 32-byte secret, used for the watermark PRF, the ReservedCode1 integrity code of
// content labels, and the audit log's keyed chain. Stored as one line of 64 hex digits in a file
// only its owner can read (`autarky keygen --out KEYFILE`).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace autarky::compliance {

class SecretKey {
 public:
  static constexpr std::size_t kBytes = 32;

  static SecretKey generate();
  // Accepts the file with or without a trailing newline; throws naming the path on anything else.
  // Warns (does not fail) if the file is readable by group or others.
  static SecretKey load(const std::string& path);
  static SecretKey from_bytes(std::span<const std::uint8_t> bytes);

  // Writes atomically with mode 0600 (the data never sits in a world-readable file).
  void save(const std::string& path) const;

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  // A public, non-secret name for the key (first 8 bytes of a domain-separated SHA-256, hex), for
  // audit records and manifests: it identifies which key was used without revealing it.
  std::string key_id() const;

  // A sub-key for one purpose, so the watermark, labels and audit log never share a MAC key:
  // HMAC-SHA256(key, "autarky/" + purpose).
  SecretKey derive(std::string_view purpose) const;

 private:
  std::array<std::uint8_t, kBytes> bytes_{};
};

}  // namespace autarky::compliance
