#pragma once
// Streamed SHA-256 of (possibly multi-GB) model files, with a cache so that verifying a model at
// every start-up costs one stat() after the first time.
//
// The cache lives in the user's cache directory ($AUTARKY_CACHE_DIR, else
// $XDG_CACHE_HOME/autarky, else ~/.cache/autarky), file hashes.json, not next to the manifest:
// model directories are often read-only (system packages, container mounts) or shared between
// machines, and device/inode numbers only mean something on the machine that recorded them.
// A cached hash is a statement about this machine's file system, not part of the signed artefact.
//
// An entry is reused only if path, device, inode, size, mtime_ns and ctime_ns all match. ctime is
// in the key because a file's owner can set mtime back (touch -d) after editing in place, but
// not ctime, which the kernel updates on every write or metadata change.
//
// Timestamps come from a coarse kernel clock, so a write in the same tick as the stat() would
// keep ctime unchanged (git's "racily clean" problem). An entry is therefore only trusted if the
// hash was started at least `racy_window_ns` (default 2 s) after the file's last change.

#include <cstdint>
#include <optional>
#include <string>

#include "compliance/crypto.h"

namespace autarky::compliance {

struct FileIdentity {
  std::string path;  // absolute, symlinks resolved
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;

  static FileIdentity of(const std::string& path);  // throws naming the path if it cannot stat
  bool operator==(const FileIdentity&) const = default;
};

struct FileHash {
  Digest256 sha256{};
  FileIdentity identity;
  bool from_cache = false;
  std::int64_t started_ns = 0;  // wall-clock time the read began (CLOCK_REALTIME)
};

// Hashes the whole file by streaming reads; the identity is taken from the open descriptor
// before and after, and the result is marked unusable for caching (throws) if the file changed
// while it was being read.
FileHash hash_file(const std::string& path);

class HashCache {
 public:
  static constexpr std::int64_t kDefaultRacyWindowNs = 2'000'000'000;
  explicit HashCache(std::string cache_file, std::int64_t racy_window_ns = kDefaultRacyWindowNs)
      : cache_file_(std::move(cache_file)), racy_window_ns_(racy_window_ns) {}
  static std::string default_path();

  std::optional<Digest256> lookup(const FileIdentity& id) const;
  // Read-modify-write of the cache file, written atomically. A corrupt cache file is replaced.
  void store(const FileHash& hash) const;
  const std::string& file() const { return cache_file_; }

 private:
  std::string cache_file_;
  std::int64_t racy_window_ns_;
};

// hash_file with the cache in front of it (cache may be null: always hash).
FileHash hash_file_cached(const std::string& path, const HashCache* cache);

}  // namespace autarky::compliance
