#include "tenants/api_key.h"

#include "compliance/crypto.h"

namespace autarky::tenants {

namespace {

bool is_lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

GeneratedSecret generate_secret() {
  GeneratedSecret out;
  out.key_id = compliance::to_hex(compliance::random_bytes(kKeyIdHexDigits / 2));
  std::string random_part = compliance::to_hex(compliance::random_bytes(kSecretHexDigits / 2));
  out.secret = std::string(kSecretPrefix) + out.key_id + "-" + random_part;
  out.secret_sha256 = hash_secret(out.secret);
  return out;
}

std::optional<std::string> key_id_of_secret(std::string_view secret) {
  constexpr std::size_t kLength = kSecretPrefix.size() + kKeyIdHexDigits + 1 + kSecretHexDigits;
  if (secret.size() != kLength || !secret.starts_with(kSecretPrefix)) return std::nullopt;
  std::string_view id = secret.substr(kSecretPrefix.size(), kKeyIdHexDigits);
  if (secret[kSecretPrefix.size() + kKeyIdHexDigits] != '-') return std::nullopt;
  std::string_view random_part = secret.substr(kSecretPrefix.size() + kKeyIdHexDigits + 1);
  if (!is_lower_hex(id) || !is_lower_hex(random_part)) return std::nullopt;
  return std::string(id);
}

std::vector<std::uint8_t> hash_secret(std::string_view secret) {
  auto digest = compliance::sha256(secret);
  return {digest.begin(), digest.end()};
}

bool is_key_id(std::string_view text) { return text.size() == kKeyIdHexDigits && is_lower_hex(text); }

}  // namespace autarky::tenants
