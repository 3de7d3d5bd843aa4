#include "compliance/hash_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ctime>
#include <algorithm>
#include <sstream>
#include <vector>

#include "base/error.h"
#include "base/log.h"
#include "platform/atomic_file.h"

namespace autarky::compliance {
namespace {

constexpr std::size_t kReadChunk = 4 << 20;  // large reads keep SHA-256, not syscalls, the bottleneck

std::int64_t to_ns(const struct timespec& ts) { return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec; }

FileIdentity identity_from_stat(std::string path, const struct stat& st) {
  FileIdentity id;
  id.path = std::move(path);
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = static_cast<std::uint64_t>(st.st_size);
  id.mtime_ns = to_ns(st.st_mtim);
  id.ctime_ns = to_ns(st.st_ctim);
  return id;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::canonical(path, ec);
  if (ec) fail("{}: {}", path, ec.message());
  return p.string();
}

nlohmann::json identity_json(const FileIdentity& id) {
  return {{"dev", id.device}, {"ino", id.inode}, {"size", id.size}, {"mtime_ns", id.mtime_ns}, {"ctime_ns", id.ctime_ns}};
}

nlohmann::json read_cache(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return nlohmann::json::object();
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("entries") || !j["entries"].is_object()) {
    AUTARKY_LOG_WARN("{}: hash cache unreadable, ignoring it", file);
    return nlohmann::json::object();
  }
  return j;
}

}  // namespace

FileIdentity FileIdentity::of(const std::string& path) {
  std::string abs = absolute_path(path);
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) fail("{}: cannot stat: {}", path, std::strerror(errno));
  return identity_from_stat(abs, st);
}

FileHash hash_file(const std::string& path) {
  std::string abs = absolute_path(path);
  int fd = ::open(abs.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat before {};
  if (::fstat(fd, &before) != 0) fail("{}: cannot stat: {}", path, std::strerror(errno));
  if (!S_ISREG(before.st_mode)) fail("{}: not a regular file", path);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  struct timespec started {};
  ::clock_gettime(CLOCK_REALTIME, &started);

  Sha256 h;
  std::vector<std::uint8_t> buf(kReadChunk);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: read failed after {} bytes: {}", path, total, std::strerror(errno));
    }
    if (n == 0) break;
    h.update(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
  }
  struct stat after {};
  if (::fstat(fd, &after) != 0) fail("{}: cannot stat: {}", path, std::strerror(errno));
  FileHash out;
  out.sha256 = h.finish();
  out.identity = identity_from_stat(abs, before);
  out.started_ns = to_ns(started);
  if (!(identity_from_stat(abs, after) == out.identity) || total != out.identity.size)
    fail("{}: file changed while it was being hashed ({} bytes read, size {} -> {})", path, total,
         before.st_size, after.st_size);
  return out;
}

std::string HashCache::default_path() {
  namespace fs = std::filesystem;
  if (const char* dir = std::getenv("AUTARKY_CACHE_DIR"); dir && *dir) return (fs::path(dir) / "hashes.json").string();
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return (fs::path(xdg) / "autarky" / "hashes.json").string();
  if (const char* home = std::getenv("HOME"); home && *home)
    return (fs::path(home) / ".cache" / "autarky" / "hashes.json").string();
  return {};
}

std::optional<Digest256> HashCache::lookup(const FileIdentity& id) const {
  nlohmann::json j = read_cache(cache_file_);
  if (!j.contains("entries")) return std::nullopt;
  const auto& entries = j["entries"];
  auto it = entries.find(id.path);
  if (it == entries.end() || !it->is_object()) return std::nullopt;
  const auto& e = *it;
  if (!e.contains("sha256") || !e["sha256"].is_string()) return std::nullopt;
  nlohmann::json expected = identity_json(id);
  for (const auto& [k, v] : expected.items()) {
    if (!e.contains(k) || e[k] != v) return std::nullopt;
  }
  if (!e.contains("hashed_at_ns") || !e["hashed_at_ns"].is_number_integer()) return std::nullopt;
  std::int64_t last_change = std::max(id.mtime_ns, id.ctime_ns);
  if (e["hashed_at_ns"].get<std::int64_t>() - last_change < racy_window_ns_) return std::nullopt;
  std::string hex = e["sha256"].get<std::string>();
  if (hex.size() != 64) return std::nullopt;
  Digest256 d{};
  auto bytes = from_hex(hex, cache_file_);
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

void HashCache::store(const FileHash& hash) const {
  if (cache_file_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cache_file_).parent_path(), ec);
  nlohmann::json j = read_cache(cache_file_);
  if (!j.contains("entries")) j = {{"format", "autarky-hash-cache/1"}, {"entries", nlohmann::json::object()}};
  nlohmann::json e = identity_json(hash.identity);
  e["sha256"] = to_hex(hash.sha256);
  e["hashed_at_ns"] = hash.started_ns;
  j["entries"][hash.identity.path] = e;
  write_file_atomically(cache_file_, j.dump(1) + "\n");
}

FileHash hash_file_cached(const std::string& path, const HashCache* cache) {
  if (cache) {
    FileIdentity id = FileIdentity::of(path);
    if (auto hit = cache->lookup(id)) return FileHash{*hit, id, true};
  }
  FileHash fresh = hash_file(path);
  if (cache) {
    try {
      cache->store(fresh);
    } catch (const Error& e) {
      // A read-only home directory must not stop a model from being verified.
      AUTARKY_LOG_WARN("hash cache not updated: {}", e.what());
    }
  }
  return fresh;
}

}  // namespace autarky::compliance
