#pragma once
// API key secrets. A secret reads
//
//   ak-<key id: 12 hex digits>-<256 random bits: 64 hex digits>
//
// so it is recognisable (secret scanners, logs) and carries its public key id. The ledger stores
// only SHA-256(secret): a plain, fast hash is enough because the secret has 256 bits of entropy,
// so there is nothing to brute-force (slow password hashes exist for low-entropy passwords).
// Authentication looks the key up by its public id and compares hashes in constant time, so the
// comparison's timing says nothing about the stored hash.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autarky::tenants {

inline constexpr std::string_view kSecretPrefix = "ak-";
inline constexpr std::size_t kKeyIdHexDigits = 12;
inline constexpr std::size_t kSecretHexDigits = 64;

struct GeneratedSecret {
  std::string key_id;                      // 12 hex digits
  std::string secret;                      // the full ak-... string, shown once
  std::vector<std::uint8_t> secret_sha256;  // 32 bytes, what the ledger keeps
};

// A new random key id and secret (OpenSSL's CSPRNG).
GeneratedSecret generate_secret();

// The key id inside a well-formed secret; nullopt for anything else (wrong prefix, length,
// non-hex digits), so garbage never reaches the database.
std::optional<std::string> key_id_of_secret(std::string_view secret);

std::vector<std::uint8_t> hash_secret(std::string_view secret);

// True for 12 lowercase hex digits: what the CLI accepts as a key id.
bool is_key_id(std::string_view text);

}  // namespace autarky::tenants
