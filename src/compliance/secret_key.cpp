#include "compliance/secret_key.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/error.h"
#include "base/log.h"
#include "compliance/crypto.h"
#include "platform/atomic_file.h"

namespace autarky::compliance {

SecretKey SecretKey::generate() { return from_bytes(random_bytes(kBytes)); }

SecretKey SecretKey::from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kBytes) fail("secret key: {} bytes, expected {}", bytes.size(), kBytes);
  SecretKey k;
  std::copy(bytes.begin(), bytes.end(), k.bytes_.begin());
  return k;
}

SecretKey SecretKey::load(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("{}: cannot open key file: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
    AUTARKY_LOG_WARN("{}: key file is readable by others (mode {:o}); run chmod 600", path, st.st_mode & 0777);
  char buf[256];
  std::size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  std::string_view text(buf, n);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (text.size() != 2 * kBytes)
    fail("{}: key file holds {} characters, expected {} hex digits (make one with `autarky keygen`)", path,
         text.size(), 2 * kBytes);
  return from_bytes(from_hex(text, path));
}

void SecretKey::save(const std::string& path) const {
  AtomicFileWriter w(path);
  // Tighten the temporary file before any byte of the key is written to it.
  if (::chmod(w.temp_path().c_str(), 0600) != 0) fail("{}: cannot chmod 600: {}", w.temp_path(), std::strerror(errno));
  w.write(to_hex(bytes_) + "\n");
  w.commit();
}

std::string SecretKey::key_id() const {
  Sha256 h;
  h.update("autarky-key-id\n");
  h.update(bytes_);
  Digest256 d = h.finish();
  return to_hex(std::span<const std::uint8_t>(d.data(), 8));
}

SecretKey SecretKey::derive(std::string_view purpose) const {
  std::string label = "autarky/" + std::string(purpose);
  Digest256 d = hmac_sha256(bytes_, as_bytes(label));
  return from_bytes(d);
}

}  // namespace autarky::compliance
