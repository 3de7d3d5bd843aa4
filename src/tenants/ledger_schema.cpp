#include "tenants/ledger_schema.h"

#include <array>
#include <string_view>

#include "base/error.h"
#include "tenants/sqlite_db.h"

namespace autarky::tenants {

namespace {

// Never edit a migration that has shipped: add a new one. STRICT tables make SQLite reject a
// text where an integer belongs instead of storing it silently.
constexpr std::array<std::string_view, 2> kMigrations = {
    // 1: keys, one row per recorded request, and per-key daily aggregates for quota checks.
    R"sql(
CREATE TABLE api_keys (
  id                  TEXT PRIMARY KEY CHECK (length(id) = 12),
  name                TEXT NOT NULL,
  secret_sha256       BLOB NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
  tokens_per_day      INTEGER NOT NULL DEFAULT 0 CHECK (tokens_per_day >= 0),
  tokens_per_month    INTEGER NOT NULL DEFAULT 0 CHECK (tokens_per_month >= 0),
  requests_per_minute INTEGER NOT NULL DEFAULT 0 CHECK (requests_per_minute >= 0),
  max_concurrent      INTEGER NOT NULL DEFAULT 0 CHECK (max_concurrent >= 0),
  created_at          INTEGER NOT NULL,
  revoked_at          INTEGER
) STRICT;

CREATE TABLE usage_requests (
  request_id        TEXT PRIMARY KEY,
  key_id            TEXT NOT NULL REFERENCES api_keys (id),
  prompt_tokens     INTEGER NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
  recorded_at_ms    INTEGER NOT NULL,
  utc_day           INTEGER NOT NULL
) STRICT;
CREATE INDEX usage_requests_by_key_day ON usage_requests (key_id, utc_day);

CREATE TABLE usage_daily (
  key_id            TEXT NOT NULL REFERENCES api_keys (id),
  utc_day           INTEGER NOT NULL,
  requests          INTEGER NOT NULL CHECK (requests >= 0),
  prompt_tokens     INTEGER NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
  PRIMARY KEY (key_id, utc_day)
) STRICT, WITHOUT ROWID;
)sql",
    // 2: each key's own label/watermark policy (tenants/key_policy.h). NULL = inherit the
    // server's setting, so keys made before this migration keep behaving as they did.
    R"sql(
ALTER TABLE api_keys ADD COLUMN label_mode TEXT CHECK (label_mode IN ('start', 'end', 'off'));
ALTER TABLE api_keys ADD COLUMN label_language TEXT CHECK (label_language IN ('en', 'zh', 'both'));
ALTER TABLE api_keys ADD COLUMN label_text TEXT CHECK (label_text <> '');
ALTER TABLE api_keys ADD COLUMN watermark INTEGER CHECK (watermark IN (0, 1));
)sql",
};

bool has_table(SqliteDb& db, std::string_view name) {
  SqliteStatement stmt(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  stmt.bind(1, name);
  return stmt.step();
}

}  // namespace

void refuse_foreign_database(SqliteDb& db) {
  if (has_table(db, "schema_version")) return;
  SqliteStatement count(db, "SELECT count(*) FROM sqlite_schema");
  AUTARKY_ASSERT(count.step());
  if (count.column_int(0) != 0)
    fail("{}: a SQLite database, but not an autarky ledger (it has {} schema objects and no schema_version table)",
         db.path(), count.column_int(0));
}

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

int read_schema_version(SqliteDb& db) {
  SqliteStatement stmt(db, "SELECT coalesce(max(version), 0) FROM schema_version");
  AUTARKY_ASSERT(stmt.step());
  return static_cast<int>(stmt.column_int(0));
}

void migrate_ledger(SqliteDb& db, std::int64_t now_unix_seconds, int target_version) {
  if (target_version < 0) target_version = latest_schema_version();
  AUTARKY_ASSERT(target_version <= latest_schema_version());
  SqliteTransaction tx(db);
  if (!has_table(db, "schema_version")) {
    refuse_foreign_database(db);
    db.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT");
  }
  int version = read_schema_version(db);
  if (version > latest_schema_version())
    fail("{}: ledger schema version {} is newer than this autarky understands ({}); use a newer autarky",
         db.path(), version, latest_schema_version());
  for (int next = version + 1; next <= target_version; ++next) {
    db.exec(kMigrations[static_cast<std::size_t>(next - 1)]);
    SqliteStatement mark(db, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)");
    mark.bind(1, std::int64_t{next}).bind(2, now_unix_seconds).run();
  }
  tx.commit();
}

}  // namespace autarky::tenants
