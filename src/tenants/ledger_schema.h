#pragma once
// The ledger's schema as a list of migrations. Version N is the state after migration N; the
// schema_version table records which ones ran and when. A database newer than this build is
// refused rather than written with assumptions that no longer hold.

#include <cstdint>

namespace autarky::tenants {

class SqliteDb;

int latest_schema_version();
// Throws unless the database is empty or has a schema_version table. Reading the schema is also
// where SQLite first notices a file that is not a database or a corrupt first page, so calling
// this before any write (even the switch to WAL) leaves a foreign file untouched.
void refuse_foreign_database(SqliteDb& db);
// Applies the missing migrations in one IMMEDIATE transaction (concurrent openers wait for each
// other). Refuses a SQLite file that has tables but no schema_version (not a ledger).
// target_version < 0: the latest; tests pass an older one to make a ledger as an older autarky did.
void migrate_ledger(SqliteDb& db, std::int64_t now_unix_seconds, int target_version = -1);
int read_schema_version(SqliteDb& db);

}  // namespace autarky::tenants
