#pragma once
// Append-only, hash-chained audit log of generations, one JSON object per line:
//
//   {"seq":0,"time":"2026-11-23T13:00:00.123Z","key_id":"tenant-a","produce_id":"0193...",
//    "prompt_tokens":12,"completion_tokens":200,"content_sha256":"9f86...","prev":"000...0",
//    "hash":"ab12...","mac":"77e0..."}
//
// hash = SHA-256("autarky-audit-v1\n" + the record without hash/mac, keys sorted, compact JSON);
// prev = the previous record's hash (64 zeros for seq 0). Anyone can recompute that chain, so it
// only catches accidental or naive edits. With a chain key, mac = HMAC-SHA256(k_audit, hash):
// since hash covers prev, every mac commits to the whole history before it, and someone who
// edits the file without the key cannot produce valid macs for a rewritten chain.
//
// Prompt and completion text are never written unless AuditOptions::record_text is set.
// Each append is one write() on an O_APPEND descriptor, under flock(), followed by fsync().
//
// What a chain cannot show: records cut off at the tail leave a valid shorter chain. Verification
// accepts an anchor (seq + hash of a record known to exist, e.g. copied to another machine) and
// then reports truncation before it. See docs/COMPLIANCE.md.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "compliance/crypto.h"
#include "compliance/secret_key.h"

namespace autarky::compliance {

struct AuditEvent {
  std::string key_id;      // API key / tenant that asked for the generation
  std::string produce_id;  // the ProduceID of the content label
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  Digest256 content_sha256{};
  std::string prompt_text;      // written only with record_text
  std::string completion_text;  // written only with record_text
};

struct AuditOptions {
  std::optional<SecretKey> chain_key;  // provider key; the log MACs with a derived sub-key
  bool record_text = false;
};

struct AuditHead {
  std::uint64_t n_records = 0;
  std::string last_hash;  // hex; 64 zeros for an empty log
};

class AuditLog {
 public:
  // Creates the file (mode 0600) if missing. Refuses a log whose last line is incomplete
  // (a torn write): it needs an operator's look, not a silent repair.
  AuditLog(std::string path, AuditOptions options);
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  ~AuditLog();

  // Thread-safe; other processes appending to the same file are serialised by flock().
  AuditHead append(const AuditEvent& event);
  const std::string& path() const { return path_; }

 private:
  void reload_head_locked(std::uint64_t file_size);
  std::string path_;
  AuditOptions options_;
  int fd_ = -1;
  std::mutex mutex_;
  AuditHead head_;
  std::uint64_t known_size_ = 0;
};

struct AuditAnchor {
  std::uint64_t seq = 0;
  std::string hash;
  static AuditAnchor parse(const std::string& text);  // "SEQ:HASH"
};

struct AuditVerifyResult {
  bool ok = false;
  std::uint64_t n_records = 0;       // records that verified, in order
  std::uint64_t first_bad_line = 0;  // 1-based; 0 when ok
  std::string reason;
  AuditHead head;                    // of the verified prefix
  bool macs_checked = false;
};

// Never throws for a bad log; throws only if the file cannot be opened.
AuditVerifyResult verify_audit_log(const std::string& path, const std::optional<SecretKey>& chain_key,
                                   const std::optional<AuditAnchor>& anchor = std::nullopt);

}  // namespace autarky::compliance
