#include "compliance/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "base/error.h"

namespace autarky::compliance {
namespace {

constexpr std::string_view kHashDomain = "autarky-audit-v1\n";
constexpr std::string_view kMacDomain = "autarky-audit-mac-v1\n";
const std::string kGenesis(64, '0');

std::string utc_now_ms() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

std::string record_hash(const nlohmann::json& unsigned_record) {
  Sha256 h;
  h.update(kHashDomain);
  h.update(unsigned_record.dump(-1, ' ', /*ensure_ascii=*/true));
  return to_hex(h.finish());
}

std::string record_mac(const SecretKey& audit_key, const std::string& hash_hex) {
  std::string msg = std::string(kMacDomain) + hash_hex;
  return to_hex(hmac_sha256(audit_key.bytes(), as_bytes(msg)));
}

// The last complete line of the file (without its '\n'); empty for an empty file. Reads
// backwards from the end so opening a long log costs no more than opening a short one.
std::string read_last_line(int fd, std::uint64_t size, const std::string& path) {
  if (size == 0) return {};
  char last = 0;
  if (::pread(fd, &last, 1, static_cast<off_t>(size - 1)) != 1) fail("{}: cannot read: {}", path, std::strerror(errno));
  if (last != '\n')
    fail("{}: the last record is incomplete (no newline at byte {}): a write was torn; check it with "
         "`autarky audit verify` before appending",
         path, size);
  std::string tail;
  std::uint64_t end = size - 1;  // exclusive end of the last line's text
  std::uint64_t pos = end;
  constexpr std::uint64_t kChunk = 64 * 1024;
  while (pos > 0) {
    std::uint64_t n = std::min(kChunk, pos);
    pos -= n;
    std::string chunk(n, '\0');
    if (::pread(fd, chunk.data(), n, static_cast<off_t>(pos)) != static_cast<ssize_t>(n))
      fail("{}: cannot read: {}", path, std::strerror(errno));
    tail.insert(0, chunk);  // tail = bytes [pos, end): the final newline is not in it
    auto nl = tail.rfind('\n');
    if (nl != std::string::npos) return tail.substr(nl + 1);
  }
  return tail;
}

}  // namespace

AuditLog::AuditLog(std::string path, AuditOptions options) : path_(std::move(path)), options_(std::move(options)) {
  if (options_.chain_key) options_.chain_key = options_.chain_key->derive("audit-log");
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) fail("{}: cannot open audit log: {}", path_, std::strerror(errno));
  if (::flock(fd_, LOCK_EX) != 0) fail("{}: cannot lock: {}", path_, std::strerror(errno));
  struct stat st {};
  ::fstat(fd_, &st);
  try {
    reload_head_locked(static_cast<std::uint64_t>(st.st_size));
  } catch (...) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
    throw;
  }
  ::flock(fd_, LOCK_UN);
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::reload_head_locked(std::uint64_t file_size) {
  int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0) fail("{}: cannot read audit log: {}", path_, std::strerror(errno));
  std::string line;
  try {
    line = read_last_line(rfd, file_size, path_);
  } catch (...) {
    ::close(rfd);
    throw;
  }
  ::close(rfd);
  known_size_ = file_size;
  if (line.empty()) {
    head_ = AuditHead{0, kGenesis};
    return;
  }
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned() ||
      !j.contains("hash") || !j["hash"].is_string())
    fail("{}: the last record is not an audit record; run `autarky audit verify`", path_);
  head_ = AuditHead{j["seq"].get<std::uint64_t>() + 1, j["hash"].get<std::string>()};
}

AuditHead AuditLog::append(const AuditEvent& event) {
  std::lock_guard<std::mutex> guard(mutex_);
  AUTARKY_ASSERT(fd_ >= 0, "audit log not open");
  if (::flock(fd_, LOCK_EX) != 0) fail("{}: cannot lock: {}", path_, std::strerror(errno));
  struct Unlock {
    int fd;
    ~Unlock() { ::flock(fd, LOCK_UN); }
  } unlock{fd_};

  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("{}: cannot stat: {}", path_, std::strerror(errno));
  // Another process appended since our last write: pick up its head.
  if (static_cast<std::uint64_t>(st.st_size) != known_size_) reload_head_locked(static_cast<std::uint64_t>(st.st_size));

  nlohmann::json rec = nlohmann::json::object();
  rec["seq"] = head_.n_records;
  rec["time"] = utc_now_ms();
  rec["key_id"] = event.key_id;
  rec["produce_id"] = event.produce_id;
  rec["prompt_tokens"] = event.prompt_tokens;
  rec["completion_tokens"] = event.completion_tokens;
  rec["content_sha256"] = to_hex(event.content_sha256);
  if (options_.record_text) {
    rec["prompt"] = event.prompt_text;
    rec["completion"] = event.completion_text;
  }
  rec["prev"] = head_.last_hash;
  std::string hash = record_hash(rec);
  rec["hash"] = hash;
  if (options_.chain_key) rec["mac"] = record_mac(*options_.chain_key, hash);
  std::string line = rec.dump(-1, ' ', /*ensure_ascii=*/true) + "\n";

  // One write() on O_APPEND: readers and other appenders never see half a record from us.
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()))
    fail("{}: audit append wrote {} of {} bytes: {}", path_, n, line.size(), n < 0 ? std::strerror(errno) : "short write");
  if (::fdatasync(fd_) != 0) fail("{}: fsync failed: {}", path_, std::strerror(errno));
  known_size_ = static_cast<std::uint64_t>(st.st_size) + line.size();
  head_ = AuditHead{head_.n_records + 1, hash};
  return head_;
}

AuditAnchor AuditAnchor::parse(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || text.size() - colon - 1 != 64)
    fail("audit anchor \"{}\": expected SEQ:HASH with a 64-digit hex hash", text);
  AuditAnchor a;
  try {
    a.seq = std::stoull(text.substr(0, colon));
  } catch (const std::exception&) {
    fail("audit anchor \"{}\": SEQ is not a number", text);
  }
  a.hash = text.substr(colon + 1);
  return a;
}

AuditVerifyResult verify_audit_log(const std::string& path, const std::optional<SecretKey>& chain_key,
                                   const std::optional<AuditAnchor>& anchor) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open audit log", path);
  std::optional<SecretKey> audit_key;
  if (chain_key) audit_key = chain_key->derive("audit-log");

  AuditVerifyResult r;
  r.macs_checked = audit_key.has_value();
  r.head = AuditHead{0, kGenesis};
  auto bad = [&](std::uint64_t line_no, std::string why) {
    r.ok = false;
    r.first_bad_line = line_no;
    r.reason = std::move(why);
    return r;
  };

  std::string line;
  std::uint64_t line_no = 0;
  bool anchor_seen = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (in.eof()) return bad(line_no, "line is incomplete (no final newline): a torn or truncated write");
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return bad(line_no, "not a JSON object");
    if (!j.contains("seq") || !j["seq"].is_number_unsigned() || !j.contains("prev") || !j["prev"].is_string() ||
        !j.contains("hash") || !j["hash"].is_string())
      return bad(line_no, "missing seq/prev/hash");
    std::uint64_t seq = j["seq"].get<std::uint64_t>();
    if (seq != r.n_records)
      return bad(line_no, fmt::format("seq {} where {} was expected: a record was deleted, inserted or moved", seq,
                                      r.n_records));
    if (j["prev"].get<std::string>() != r.head.last_hash)
      return bad(line_no, fmt::format("record {}: prev does not match the hash of record {}: the chain is broken", seq,
                                      static_cast<std::int64_t>(seq) - 1));
    std::string stored_hash = j["hash"].get<std::string>();
    std::optional<std::string> stored_mac;
    if (j.contains("mac")) {
      if (!j["mac"].is_string()) return bad(line_no, fmt::format("record {}: mac is not a string", seq));
      stored_mac = j["mac"].get<std::string>();
    }
    j.erase("hash");
    j.erase("mac");
    if (record_hash(j) != stored_hash)
      return bad(line_no, fmt::format("record {}: content does not match its hash: the record was edited", seq));
    if (audit_key) {
      if (!stored_mac) return bad(line_no, fmt::format("record {}: no mac, but the log is checked with a key", seq));
      std::string expected = record_mac(*audit_key, stored_hash);
      if (!equal_constant_time(as_bytes(expected), as_bytes(*stored_mac)))
        return bad(line_no, fmt::format("record {}: mac does not verify with this key: the chain was rewritten by "
                                        "someone without the key, or the key is wrong",
                                        seq));
    }
    if (anchor && anchor->seq == seq) {
      if (anchor->hash != stored_hash)
        return bad(line_no, fmt::format("record {}: hash differs from the anchor {}", seq, anchor->hash));
      anchor_seen = true;
    }
    ++r.n_records;
    r.head.n_records = r.n_records;
    r.head.last_hash = stored_hash;
  }
  if (anchor && !anchor_seen)
    return bad(line_no + 1, fmt::format("log ends after {} records, before the anchored record {}: records were "
                                        "removed from the tail",
                                        r.n_records, anchor->seq));
  r.ok = true;
  return r;
}

}  // namespace autarky::compliance
