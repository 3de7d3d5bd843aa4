#include "tenants/ledger.h"

#include <limits>

#include "base/error.h"
#include "compliance/crypto.h"
#include "tenants/api_key.h"
#include "tenants/ledger_schema.h"
#include "tenants/sqlite_db.h"

namespace autarky::tenants {

namespace {

// How long a connection waits for another writer (another thread's or process's transaction)
// before giving up with SQLITE_BUSY. A usage commit takes milliseconds; 10 s covers a slow disk.
constexpr int kBusyTimeoutMs = 10000;

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::int64_t unix_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t to_db_int(std::uint64_t value, std::string_view what) {
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    fail("{} {} is too large (at most {})", what, value, std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(value);
}

void configure(SqliteDb& db) {
  db.exec(fmt::format("PRAGMA busy_timeout = {}", kBusyTimeoutMs));
  db.exec("PRAGMA foreign_keys = ON");
  // FULL: each COMMIT fsyncs the WAL, so a committed usage record survives power loss as well as
  // kill -9. (NORMAL in WAL mode would survive kill -9 but could lose the last commits on a power
  // cut; billing data is worth one fsync per request, which is small next to generating tokens.)
  db.exec("PRAGMA synchronous = FULL");
}

constexpr std::string_view kKeyColumns =
    "id, name, tokens_per_day, tokens_per_month, requests_per_minute, max_concurrent, created_at, revoked_at, "
    "label_mode, label_language, label_text, watermark";
constexpr int kKeyColumnCount = 12;

std::optional<std::string> optional_text(const SqliteStatement& row, int column) {
  if (row.is_null(column)) return std::nullopt;
  return row.column_text(column);
}

// Binds the policy to ?first .. ?first+3 (NULL where it inherits).
void bind_policy(SqliteStatement& stmt, int first, const KeyPolicy& policy) {
  auto text = [&](int index, const std::optional<std::string>& value) {
    if (value) stmt.bind(index, *value);
    else stmt.bind_null(index);
  };
  text(first, policy.label);
  text(first + 1, policy.label_language);
  text(first + 2, policy.label_text);
  if (policy.watermark) stmt.bind(first + 3, std::int64_t{*policy.watermark ? 1 : 0});
  else stmt.bind_null(first + 3);
}

KeyInfo read_key(const SqliteStatement& row) {
  KeyInfo key;
  key.id = row.column_text(0);
  key.name = row.column_text(1);
  key.limits.tokens_per_day = static_cast<std::uint64_t>(row.column_int(2));
  key.limits.tokens_per_month = static_cast<std::uint64_t>(row.column_int(3));
  key.limits.requests_per_minute = static_cast<std::uint64_t>(row.column_int(4));
  key.limits.max_concurrent = static_cast<std::uint64_t>(row.column_int(5));
  key.created_at = row.column_int(6);
  key.revoked_at = row.column_optional_int(7);
  key.policy.label = optional_text(row, 8);
  key.policy.label_language = optional_text(row, 9);
  key.policy.label_text = optional_text(row, 10);
  if (auto watermark = row.column_optional_int(11)) key.policy.watermark = *watermark != 0;
  return key;
}

std::optional<KeyInfo> select_key(SqliteDb& db, const std::string& key_id) {
  SqliteStatement stmt(db, fmt::format("SELECT {} FROM api_keys WHERE id = ?1", kKeyColumns));
  stmt.bind(1, key_id);
  if (!stmt.step()) return std::nullopt;
  return read_key(stmt);
}

}  // namespace

Ledger::Ledger(const std::string& path, OpenMode mode) : path_(path), rate_(std::make_shared<RateState>()) {
  writer_ = std::make_unique<SqliteDb>(path, mode == OpenMode::kCreateIfMissing);
  configure(*writer_);
  refuse_foreign_database(*writer_);
  std::string journal = writer_->query_text("PRAGMA journal_mode = WAL");
  if (journal != "wal") fail("{}: could not switch the database to WAL mode (journal_mode is '{}')", path, journal);
  migrate_ledger(*writer_, unix_seconds(Clock::now()));

  reader_ = std::make_unique<SqliteDb>(path, false);
  configure(*reader_);
  reader_->exec("PRAGMA query_only = ON");
}

Ledger::~Ledger() = default;

std::optional<KeyInfo> Ledger::authenticate(std::string_view secret) {
  std::optional<std::string> key_id = key_id_of_secret(secret);
  if (!key_id) return std::nullopt;
  std::vector<std::uint8_t> presented = hash_secret(secret);

  std::lock_guard lock(read_mutex_);
  SqliteStatement stmt(*reader_, fmt::format("SELECT {}, secret_sha256 FROM api_keys WHERE id = ?1", kKeyColumns));
  stmt.bind(1, *key_id);
  if (!stmt.step()) return std::nullopt;
  KeyInfo key = read_key(stmt);
  std::vector<std::uint8_t> stored = stmt.column_blob(kKeyColumnCount);
  if (!compliance::equal_constant_time(presented, stored)) return std::nullopt;
  if (key.revoked()) return std::nullopt;
  return key;
}

std::uint64_t Ledger::tokens_between_days(const std::string& key_id, std::int64_t first_day, std::int64_t last_day) {
  std::lock_guard lock(read_mutex_);
  return totals_locked(key_id, first_day, last_day).tokens();
}

UsageTotals Ledger::totals_locked(const std::string& key_id, std::int64_t first_day, std::int64_t last_day) {
  SqliteDb& db = *reader_;
  SqliteStatement stmt(db,
                       "SELECT coalesce(sum(requests), 0), coalesce(sum(prompt_tokens), 0), "
                       "coalesce(sum(completion_tokens), 0) FROM usage_daily "
                       "WHERE key_id = ?1 AND utc_day BETWEEN ?2 AND ?3");
  stmt.bind(1, key_id).bind(2, first_day).bind(3, last_day);
  AUTARKY_ASSERT(stmt.step());
  UsageTotals totals;
  totals.requests = static_cast<std::uint64_t>(stmt.column_int(0));
  totals.prompt_tokens = static_cast<std::uint64_t>(stmt.column_int(1));
  totals.completion_tokens = static_cast<std::uint64_t>(stmt.column_int(2));
  return totals;
}

Admission Ledger::admit(const KeyInfo& key, TimePoint now) {
  const KeyLimits& limits = key.limits;
  std::int64_t today = utc_day(now);
  Admission rejected;
  if (limits.tokens_per_month > 0) {
    std::int64_t next_month = utc_next_month_first_day(now);
    std::uint64_t used = tokens_between_days(key.id, utc_month_first_day(now), next_month - 1);
    if (used >= limits.tokens_per_month) {
      rejected.rejection = Rejection::kMonthlyTokens;
      rejected.retry_after_seconds = seconds_until(now, day_start(next_month));
      rejected.message = fmt::format("monthly token budget of {} used up ({} tokens this UTC month)",
                                     limits.tokens_per_month, used);
      return rejected;
    }
  }
  if (limits.tokens_per_day > 0) {
    std::uint64_t used = tokens_between_days(key.id, today, today);
    if (used >= limits.tokens_per_day) {
      rejected.rejection = Rejection::kDailyTokens;
      rejected.retry_after_seconds = seconds_until(now, day_start(today + 1));
      rejected.message =
          fmt::format("daily token budget of {} used up ({} tokens this UTC day)", limits.tokens_per_day, used);
      return rejected;
    }
  }
  return rate_->try_admit(key.id, limits, now);
}

bool Ledger::record_usage(const UsageRecord& record) {
  std::int64_t prompt = to_db_int(record.prompt_tokens, "prompt_tokens");
  std::int64_t completion = to_db_int(record.completion_tokens, "completion_tokens");
  if (record.request_id.empty()) fail("{}: recording usage of key {}: empty request id", path_, record.key_id);
  std::int64_t day = utc_day(record.at);

  std::lock_guard lock(write_mutex_);
  SqliteDb& db = *writer_;
  SqliteTransaction tx(db);
  if (!select_key(db, record.key_id)) fail("{}: recording usage: unknown key id '{}'", path_, record.key_id);
  SqliteStatement insert(db,
                         "INSERT INTO usage_requests (request_id, key_id, prompt_tokens, completion_tokens, "
                         "recorded_at_ms, utc_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING");
  insert.bind(1, record.request_id).bind(2, record.key_id).bind(3, prompt).bind(4, completion);
  insert.bind(5, unix_millis(record.at)).bind(6, day).run();
  if (db.changes() == 0) return false;  // already recorded; the transaction rolls back (empty)
  SqliteStatement aggregate(db,
                            "INSERT INTO usage_daily (key_id, utc_day, requests, prompt_tokens, completion_tokens) "
                            "VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (key_id, utc_day) DO UPDATE SET "
                            "requests = requests + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                            "completion_tokens = completion_tokens + excluded.completion_tokens");
  aggregate.bind(1, record.key_id).bind(2, day).bind(3, prompt).bind(4, completion).run();
  tx.commit();
  return true;
}

NewKey Ledger::create_key(const std::string& name, const KeyLimits& limits, TimePoint now, const KeyPolicy& policy) {
  if (name.empty()) fail("{}: a key needs a non-empty name", path_);
  policy.validate();
  std::int64_t per_day = to_db_int(limits.tokens_per_day, "tokens per day");
  std::int64_t per_month = to_db_int(limits.tokens_per_month, "tokens per month");
  std::int64_t rpm = to_db_int(limits.requests_per_minute, "requests per minute");
  std::int64_t concurrent = to_db_int(limits.max_concurrent, "max concurrent");

  std::lock_guard lock(write_mutex_);
  SqliteDb& db = *writer_;
  // 48-bit ids collide rarely, but a collision must be a retry, not a failure or an overwrite.
  for (int attempt = 0; attempt < 8; ++attempt) {
    GeneratedSecret generated = generate_secret();
    SqliteTransaction tx(db);
    if (select_key(db, generated.key_id)) continue;
    SqliteStatement insert(db,
                           "INSERT INTO api_keys (id, name, secret_sha256, tokens_per_day, tokens_per_month, "
                           "requests_per_minute, max_concurrent, created_at, label_mode, label_language, label_text, "
                           "watermark) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    insert.bind(1, generated.key_id).bind(2, name).bind_blob(3, generated.secret_sha256);
    insert.bind(4, per_day).bind(5, per_month).bind(6, rpm).bind(7, concurrent).bind(8, unix_seconds(now));
    bind_policy(insert, 9, policy);
    insert.run();
    tx.commit();
    NewKey result;
    result.key.id = generated.key_id;
    result.key.name = name;
    result.key.limits = limits;
    result.key.policy = policy;
    result.key.created_at = unix_seconds(now);
    result.secret = std::move(generated.secret);
    return result;
  }
  fail("{}: could not find an unused key id after 8 attempts", path_);
}

std::vector<KeyInfo> Ledger::list_keys() {
  std::lock_guard lock(read_mutex_);
  SqliteStatement stmt(*reader_, fmt::format("SELECT {} FROM api_keys ORDER BY created_at, rowid", kKeyColumns));
  std::vector<KeyInfo> keys;
  while (stmt.step()) keys.push_back(read_key(stmt));
  return keys;
}

std::optional<KeyInfo> Ledger::find_key(const std::string& key_id) {
  std::lock_guard lock(read_mutex_);
  return select_key(*reader_, key_id);
}

bool Ledger::revoke_key(const std::string& key_id, TimePoint now) {
  std::lock_guard lock(write_mutex_);
  SqliteDb& db = *writer_;
  SqliteTransaction tx(db);
  std::optional<KeyInfo> key = select_key(db, key_id);
  if (!key) fail("{}: no key with id '{}'", path_, key_id);
  if (key->revoked()) return false;
  SqliteStatement update(db, "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1");
  update.bind(1, key_id).bind(2, unix_seconds(now)).run();
  tx.commit();
  return true;
}

KeyInfo Ledger::set_key_policy(const std::string& key_id, const KeyPolicy& policy) {
  policy.validate();
  std::lock_guard lock(write_mutex_);
  SqliteDb& db = *writer_;
  SqliteTransaction tx(db);
  if (!select_key(db, key_id)) fail("{}: no key with id '{}'", path_, key_id);
  SqliteStatement update(db,
                         "UPDATE api_keys SET label_mode = ?2, label_language = ?3, label_text = ?4, watermark = ?5 "
                         "WHERE id = ?1");
  update.bind(1, key_id);
  bind_policy(update, 2, policy);
  update.run();
  std::optional<KeyInfo> stored = select_key(db, key_id);
  tx.commit();
  AUTARKY_ASSERT(stored);
  return *stored;
}

KeyUsage Ledger::usage(const std::string& key_id, TimePoint now) {
  std::lock_guard lock(read_mutex_);
  KeyUsage usage;
  std::int64_t today = utc_day(now);
  usage.today = totals_locked(key_id, today, today);
  usage.this_month = totals_locked(key_id, utc_month_first_day(now), utc_next_month_first_day(now) - 1);
  usage.all_time =
      totals_locked(key_id, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
  return usage;
}

std::size_t Ledger::count_active_keys() {
  std::lock_guard lock(read_mutex_);
  SqliteStatement stmt(*reader_, "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL");
  AUTARKY_ASSERT(stmt.step());
  return static_cast<std::size_t>(stmt.column_int(0));
}

int Ledger::schema_version() {
  std::lock_guard lock(read_mutex_);
  return read_schema_version(*reader_);
}

std::string Ledger::integrity_check() {
  std::lock_guard lock(read_mutex_);
  SqliteStatement stmt(*reader_, "PRAGMA integrity_check");
  std::string report;
  while (stmt.step()) {
    if (!report.empty()) report += "\n";
    report += stmt.column_text(0);
  }
  return report;
}

}  // namespace autarky::tenants
