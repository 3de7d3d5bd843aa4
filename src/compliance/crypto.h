#pragma once
// Thin, exception-throwing wrappers over OpenSSL's libcrypto for the compliance layer: SHA-256
// (streamed), HMAC-SHA256, hex/base64, random bytes, Ed25519 sign/verify. Everything else in
// src/compliance/ goes through these so OpenSSL's C API and its error queue stay in one file.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace autarky::compliance {

using Digest256 = std::array<std::uint8_t, 32>;

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Incremental SHA-256 (EVP), so a multi-GB file or a streamed response is hashed without
// holding it in memory.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::uint8_t> data);
  void update(std::string_view text) { update(as_bytes(text)); }
  Digest256 finish();  // the object cannot be updated afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest256 sha256(std::span<const std::uint8_t> data);
inline Digest256 sha256(std::string_view text) { return sha256(as_bytes(text)); }

Digest256 hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

// Comparison whose running time does not depend on where the inputs differ (MAC checks).
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

std::string to_hex(std::span<const std::uint8_t> bytes);
// Throws autarky::Error naming `what` on odd length or a non-hex character.
std::vector<std::uint8_t> from_hex(std::string_view hex, std::string_view what);

std::string to_base64(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> from_base64(std::string_view text, std::string_view what);

// Cryptographically secure random bytes (RAND_bytes); throws if the RNG is not seeded.
std::vector<std::uint8_t> random_bytes(std::size_t n);

// Ed25519 keys in the PEM formats `openssl genpkey -algorithm ed25519` (PKCS#8 private key) and
// `openssl pkey -pubout` (SubjectPublicKeyInfo) write. Loading checks the key type.
class Ed25519Key {
 public:
  static Ed25519Key load_private_pem(const std::string& path);
  static Ed25519Key load_public_pem(const std::string& path);
  static Ed25519Key generate();  // for tests and tools

  Ed25519Key(Ed25519Key&&) noexcept;
  Ed25519Key& operator=(Ed25519Key&&) noexcept;
  ~Ed25519Key();

  bool has_private() const { return has_private_; }
  std::vector<std::uint8_t> sign(std::span<const std::uint8_t> message) const;  // 64 bytes
  bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) const;
  std::vector<std::uint8_t> raw_public() const;  // 32 bytes
  // PEM text of the private key (PKCS#8) / public key (SPKI), as OpenSSL's CLI writes them.
  std::string private_pem() const;
  std::string public_pem() const;

 private:
  struct Impl;
  explicit Ed25519Key(std::unique_ptr<Impl> impl, bool has_private);
  std::unique_ptr<Impl> impl_;
  bool has_private_ = false;
};

}  // namespace autarky::compliance
