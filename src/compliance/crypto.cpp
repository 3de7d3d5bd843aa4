#include "compliance/crypto.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdio>

#include "base/error.h"

namespace autarky::compliance {
namespace {

// The most recent OpenSSL error as text, clearing the queue so it does not leak into the next call.
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  std::string text = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

std::string read_small_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("{}: cannot open key file", path);
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > (1 << 20)) {
      std::fclose(f);
      fail("{}: key file larger than 1 MiB, not a PEM key", path);
    }
  }
  std::fclose(f);
  return text;
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

struct Sha256::Impl {
  MdCtxPtr ctx{EVP_MD_CTX_new()};
  bool finished = false;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1)
    fail("SHA-256 init failed: {}", openssl_error());
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::uint8_t> data) {
  AUTARKY_ASSERT(!impl_->finished, "Sha256::update after finish");
  if (data.empty()) return;
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1)
    fail("SHA-256 update failed: {}", openssl_error());
}

Digest256 Sha256::finish() {
  AUTARKY_ASSERT(!impl_->finished, "Sha256::finish called twice");
  impl_->finished = true;
  Digest256 out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len) != 1 || len != out.size())
    fail("SHA-256 final failed: {}", openssl_error());
  return out;
}

Digest256 sha256(std::span<const std::uint8_t> data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

Digest256 hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  Digest256 out{};
  unsigned int len = 0;
  static const std::uint8_t kEmpty = 0;
  if (!HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
            data.empty() ? &kEmpty : data.data(), data.size(), out.data(), &len) ||
      len != out.size())
    fail("HMAC-SHA256 failed: {}", openssl_error());
  return out;
}

bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::vector<std::uint8_t> from_hex(std::string_view hex, std::string_view what) {
  if (hex.size() % 2 != 0) fail("{}: hex string has odd length {}", what, hex.size());
  auto nibble = [&](char c, std::size_t pos) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    fail("{}: invalid hex character '{}' at offset {}", what, c, pos);
  };
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>(nibble(hex[2 * i], 2 * i) << 4 | nibble(hex[2 * i + 1], 2 * i + 1));
  return out;
}

std::string to_base64(std::span<const std::uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<std::uint8_t> from_base64(std::string_view text, std::string_view what) {
  if (text.size() % 4 != 0) fail("{}: base64 length {} is not a multiple of 4", what, text.size());
  std::vector<std::uint8_t> out(text.size() / 4 * 3 + 1);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) fail("{}: invalid base64", what);
  // EVP_DecodeBlock keeps the zero bytes that '=' padding stands for; drop them.
  std::size_t len = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) fail("RAND_bytes failed: {}", openssl_error());
  return out;
}

struct Ed25519Key::Impl {
  PkeyPtr key;
};

Ed25519Key::Ed25519Key(std::unique_ptr<Impl> impl, bool has_private)
    : impl_(std::move(impl)), has_private_(has_private) {}
Ed25519Key::Ed25519Key(Ed25519Key&&) noexcept = default;
Ed25519Key& Ed25519Key::operator=(Ed25519Key&&) noexcept = default;
Ed25519Key::~Ed25519Key() = default;

Ed25519Key Ed25519Key::load_private_pem(const std::string& path) {
  std::string pem = read_small_file(path);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail("{}: not a PEM private key: {}", path, openssl_error());
  if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
    fail("{}: private key is {}, expected ED25519 (make one with `openssl genpkey -algorithm ed25519`)", path,
         OBJ_nid2sn(EVP_PKEY_id(key.get())));
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(key);
  return Ed25519Key(std::move(impl), true);
}

Ed25519Key Ed25519Key::load_public_pem(const std::string& path) {
  std::string pem = read_small_file(path);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail("{}: not a PEM public key: {}", path, openssl_error());
  if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
    fail("{}: public key is {}, expected ED25519 (`openssl pkey -in PRIVATE.pem -pubout`)", path,
         OBJ_nid2sn(EVP_PKEY_id(key.get())));
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(key);
  return Ed25519Key(std::move(impl), false);
}

Ed25519Key Ed25519Key::generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) fail("Ed25519 key generation failed: {}", openssl_error());
  auto impl = std::make_unique<Impl>();
  impl->key.reset(raw);
  return Ed25519Key(std::move(impl), true);
}

std::vector<std::uint8_t> Ed25519Key::sign(std::span<const std::uint8_t> message) const {
  AUTARKY_ASSERT(has_private_, "signing needs a private key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  // Ed25519 is a one-shot scheme: no digest is passed (it hashes internally with SHA-512).
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1)
    fail("Ed25519 sign init failed: {}", openssl_error());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1)
    fail("Ed25519 sign failed: {}", openssl_error());
  std::vector<std::uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    fail("Ed25519 sign failed: {}", openssl_error());
  sig.resize(len);
  return sig;
}

bool Ed25519Key::verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1)
    fail("Ed25519 verify init failed: {}", openssl_error());
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size());
  ERR_clear_error();  // a bad signature leaves an entry in the queue; it is an answer, not an error
  return rc == 1;
}

std::vector<std::uint8_t> Ed25519Key::raw_public() const {
  std::size_t len = 0;
  if (EVP_PKEY_get_raw_public_key(impl_->key.get(), nullptr, &len) != 1) fail("Ed25519: {}", openssl_error());
  std::vector<std::uint8_t> out(len);
  if (EVP_PKEY_get_raw_public_key(impl_->key.get(), out.data(), &len) != 1) fail("Ed25519: {}", openssl_error());
  return out;
}

std::string Ed25519Key::private_pem() const {
  AUTARKY_ASSERT(has_private_, "no private key to write");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), impl_->key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("writing PEM private key failed: {}", openssl_error());
  return bio_to_string(bio.get());
}

std::string Ed25519Key::public_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), impl_->key.get()) != 1) fail("writing PEM public key failed: {}", openssl_error());
  return bio_to_string(bio.get());
}

}  // namespace autarky::compliance
