#pragma once
// The tenant ledger: API keys, their quotas, and every request's token usage, in one SQLite
// database file (WAL, synchronous=FULL: a committed usage record survives kill -9 and power loss).
//
// How the HTTP server uses it (all calls are thread-safe; one Ledger per process):
//
//   tenants::Ledger ledger(db_path, tenants::OpenMode::kCreateIfMissing);   // at start-up
//
//   // per request, `bearer` = the token after "Authorization: Bearer "
//   std::optional<tenants::KeyInfo> key = ledger.authenticate(bearer);
//   if (!key) -> 401 (missing, malformed, unknown or revoked key: do not say which)
//   tenants::Admission admission = ledger.admit(*key, tenants::Clock::now());
//   if (!admission.admitted())
//     -> 429, header "Retry-After: <admission.retry_after_seconds>", body admission.message,
//        error code tenants::rejection_name(admission.rejection)
//   ... run the request; keep `admission` (it holds the concurrency slot) alive until the
//   response is finished, streamed or not (move it into the stream's state; to put it into a
//   copyable std::function, hold it in a std::shared_ptr<tenants::Admission>). A client that
//   disconnects ends the request the same way: destroy the admission.
//   ledger.record_usage({key->id, request_id, prompt_tokens, completion_tokens, tenants::Clock::now()});
//   // record before (or while) the last bytes go out, then drop the admission.
//
// Token budgets count recorded usage only: a request that is running when a budget fills up
// finishes (budgets can be overshot by the requests in flight); the next admission is refused.
// request_id must be unique in the ledger (e.g. the "chatcmpl-..." id); recording the same id
// again is a no-op that returns false, so a retried record never double-bills.
//
// Threading: two connections, each behind its own mutex. One writes (record_usage and the admin
// calls), one only reads (authenticate, admit, listings). SQLite allows one writer at a time
// anyway, so more write connections would only queue inside SQLite; a separate reader lets
// admissions proceed (WAL readers see the last committed state) while a writer waits for its
// fsync, so a commit never stalls authentication of other requests. The rpm/concurrency state
// is in memory behind a third mutex (tenants/quota.h). Other processes (the `autarky keys` CLI)
// may use the same file at the same time; busy_timeout makes them wait for each other.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tenants/key_policy.h"
#include "tenants/quota.h"

namespace autarky::tenants {

class SqliteDb;

struct KeyInfo {
  std::string id;    // public, 12 hex digits; safe to log
  std::string name;  // the operator's label
  KeyLimits limits;
  KeyPolicy policy;                       // label/watermark choices; unset fields: the server's
  std::int64_t created_at = 0;            // unix seconds
  std::optional<std::int64_t> revoked_at;  // unix seconds
  bool revoked() const { return revoked_at.has_value(); }
};

struct NewKey {
  KeyInfo key;
  std::string secret;  // "ak-..."; the only time it exists in clear
};

struct UsageTotals {
  std::uint64_t requests = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t tokens() const { return prompt_tokens + completion_tokens; }
};

struct KeyUsage {
  UsageTotals today;       // the UTC day of `now`
  UsageTotals this_month;  // the UTC calendar month of `now`
  UsageTotals all_time;
};

struct UsageRecord {
  std::string key_id;
  std::string request_id;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  TimePoint at;  // counts toward the UTC day and month of this time
};

enum class OpenMode {
  kMustExist,        // admin commands: a missing file is an error (a typo in --db)
  kCreateIfMissing,  // create the database and its schema if needed
};

class Ledger {
 public:
  // Opens (or creates) the ledger and brings its schema up to date. Throws autarky::Error naming
  // the path for a missing file, a file that is not SQLite, a corrupt database, a SQLite file
  // that is not a ledger, or a ledger from a newer autarky.
  Ledger(const std::string& path, OpenMode mode);
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;
  ~Ledger();

  // --- Runtime (the server) ---

  // The active key whose secret this is, or nullopt (malformed, unknown, revoked, wrong secret).
  std::optional<KeyInfo> authenticate(std::string_view secret);
  // Checks, in this order, monthly tokens, daily tokens, requests per minute, concurrency.
  Admission admit(const KeyInfo& key, TimePoint now);
  // One durable transaction: the request row plus the key's daily aggregate. Returns false (and
  // changes nothing) if request_id was recorded before. Throws for an unknown key id.
  bool record_usage(const UsageRecord& record);
  // Requests of this key currently holding a concurrency slot in this process.
  std::uint64_t running(const std::string& key_id) { return rate_->running(key_id); }

  // --- Administration (the `autarky keys` CLI, tests) ---

  NewKey create_key(const std::string& name, const KeyLimits& limits, TimePoint now, const KeyPolicy& policy = {});
  // Replaces the key's whole policy (revoked keys too, so a re-enabled history stays coherent).
  // Throws for an unknown id or an invalid policy; returns the key as now stored.
  KeyInfo set_key_policy(const std::string& key_id, const KeyPolicy& policy);
  std::vector<KeyInfo> list_keys();  // oldest first, revoked ones included
  std::optional<KeyInfo> find_key(const std::string& key_id);
  // Throws for an unknown id; returns false if the key was already revoked.
  bool revoke_key(const std::string& key_id, TimePoint now);
  KeyUsage usage(const std::string& key_id, TimePoint now);
  std::size_t count_active_keys();
  int schema_version();
  // "ok", or SQLite's list of problems (PRAGMA integrity_check).
  std::string integrity_check();

  const std::string& path() const { return path_; }

 private:
  void migrate();
  std::uint64_t tokens_between_days(const std::string& key_id, std::int64_t first_day, std::int64_t last_day);
  UsageTotals totals_locked(const std::string& key_id, std::int64_t first_day, std::int64_t last_day);

  std::string path_;
  std::mutex write_mutex_;
  std::unique_ptr<SqliteDb> writer_;
  std::mutex read_mutex_;
  std::unique_ptr<SqliteDb> reader_;
  std::shared_ptr<RateState> rate_;
};

}  // namespace autarky::tenants
